"""`mnft render` through the installed command, as a real process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_missing_file_through_the_mnft_command(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "mnft_operator.cli", "render", str(missing)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr == f"error: {missing}: cannot read it (No such file or directory)\n"
