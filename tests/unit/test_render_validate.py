"""Every object `mnft render` produces for the shipped examples is valid Kubernetes (kubernetes-validate)."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest

from mnft_operator.render_cli import load_jobs, render

EXAMPLES = Path(__file__).resolve().parents[2] / "manifests" / "examples"
JOB_FILES = sorted(p for p in EXAMPLES.glob("*.yaml") if "kind: MobileNetFineTune" in p.read_text())


def test_there_are_examples() -> None:
    assert len(JOB_FILES) >= 4


@pytest.mark.parametrize("path", JOB_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("version", ["1.33.0", "1.37.0"])
def test_rendered_objects_validate(path: Path, version: str) -> None:
    for job in load_jobs(path):
        objects = render(job, simulate_ascend_devices=True)
        assert [o["kind"] for o in objects].count("Pod") == job["spec"].get("workers", 1)
        for obj in objects:
            if obj["apiVersion"].startswith("scheduling.volcano.sh/"):
                continue  # no published schema
            kubernetes_validate.validate(obj, version, strict=True)
