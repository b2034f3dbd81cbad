"""Shared helpers of the chart tests: the real helm binary from the venv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "mnft-operator"
HELM = str(Path(sys.executable).parent / "helm")


def helm_template(*args: str) -> str:
    """`helm template mnft <chart> --namespace mnft-system ARGS`: its stdout (fails on an error)."""
    return subprocess.run(
        [HELM, "template", "mnft", str(CHART), "--namespace", "mnft-system", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
