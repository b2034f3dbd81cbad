"""The README's install and first-job commands name files that exist (the objects they name:
tests/integration/test_chart_readme_names.py)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_repository_path_in_the_readme_exists() -> None:
    paths = set(re.findall(r"(?<![\w/.])((?:manifests|charts|docs|scripts)/[\w./-]+\w)", README))
    assert "manifests/examples/cpu-2-workers.yaml" in paths
    missing = sorted(p for p in paths if not (REPO / p).exists())
    assert missing == []
