"""scripts/generate.py's check of the checked-in generated files, and the chart's NOTES as `helm install
--dry-run` prints them (both run real tools)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from repo_scripts import REPO, load_script

HELM = Path(sys.executable).parent / "helm"


generate = load_script("generate")


def test_checked_in_generated_files_are_up_to_date() -> None:
    assert generate.check(REPO) == []


@pytest.mark.parametrize(
    ("args", "namespace_flag"),
    [([], ""), (["--set", "watchNamespaces={team-a,team-b}"], " -n team-a")],
)
def test_notes_tell_the_next_commands(args: list[str], namespace_flag: str) -> None:
    done = subprocess.run(
        [
            str(HELM),
            "install",
            "mnft",
            str(REPO / "charts/mnft-operator"),
            "-n",
            "mnft-system",
            "--dry-run=client",
            *args,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={"KUBECONFIG": "/nonexistent", "HOME": "/tmp", "PATH": "/usr/bin:/bin"},
    )
    notes = done.stdout.split("NOTES:\n", 1)[1]
    assert "kubectl -n mnft-system rollout status deployment/mnft-operator" in notes
    assert f"kubectl{namespace_flag} apply -f manifests/examples/cpu-2-workers.yaml" in notes
    assert f"kubectl{namespace_flag} get mft -w" in notes
    assert f"kubectl{namespace_flag} logs cpu-2-workers-worker-0 -f" in notes
