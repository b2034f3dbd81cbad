"""Hostile manifests for `mnft render` / `mnft local`: refused in one line, before any document is built."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from mnft_operator.manifest_file import MAX_FILE_BYTES, ManifestError, load_jobs
from mnft_operator.render_cli import main

HEADER = "apiVersion: finetune.mindspore.io/v1alpha1\nkind: MobileNetFineTune\nmetadata: {name: lol}\n"
# The classic bomb: 9 ** 9 (387,420,489) strings once expanded, from 10 short lines.
BILLION_LAUGHS = (
    HEADER
    + "".join(
        f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
        for prev, name in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
    )
    + "spec: *i\n"
)
SPEC = "spec: {platform: CPU, image: mnft:0.1, workers: 1, dataset: {path: /data}}\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "job.yaml"
    path.write_text(text)
    return path


def nested(levels: int) -> Any:
    deep: Any = "x"
    for _ in range(levels):
        deep = {"a": deep}
    return deep


def test_the_billion_laughs_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, BILLION_LAUGHS)
    assert "i: &i [*h, *h" in BILLION_LAUGHS
    assert main([str(path)]) == 1
    assert capsys.readouterr().err == f"error: {path}: refused: aliases expanding to more than 10000 nodes\n"


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "spec: &s {self: *s}\n")
    with pytest.raises(ManifestError, match=r"^.*job.yaml: refused: a recursive alias \*s at line 4$"):
        load_jobs(path)


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    text = HEADER.replace("{name: lol}", "{name: lol, labels: &l {team: a}, annotations: *l}") + SPEC
    (job,) = load_jobs(write(tmp_path, text))
    assert job["metadata"]["annotations"] == {"team": "a"}


def test_nesting_deeper_than_100_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    job = {
        "apiVersion": "finetune.mindspore.io/v1alpha1",
        "kind": "MobileNetFineTune",
        "metadata": {"name": "d"},
    }
    path = write(tmp_path, json.dumps({**job, "spec": {"affinity": nested(99)}}))  # 1 + 1 + 99 levels
    assert main([str(path)]) == 1
    assert capsys.readouterr().err == f"error: {path}: refused: nesting deeper than 100 levels at line 1\n"
    write(tmp_path, "[" * 1000 + "]" * 1000)  # past the YAML composer's own recursion limit
    with pytest.raises(ManifestError, match="refused: nesting deeper than 100 levels"):
        load_jobs(path)


def test_aliases_cannot_nest_past_the_bound(tmp_path: Path) -> None:
    anchored = json.dumps(nested(60))  # 60 levels under &x, used 50 levels down: 1 + 1 + 50 + 60
    used = json.dumps(nested(50)).replace('"x"', "*x")
    path = write(tmp_path, HEADER + f"x: &x {anchored}\nspec: {used}\n")
    with pytest.raises(ManifestError, match=r"refused: nesting deeper than 100 levels$"):
        load_jobs(path)


def test_a_file_over_3_mib_is_refused_unread(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + SPEC + "#" * MAX_FILE_BYTES + "\n")
    with pytest.raises(
        ManifestError, match=r"larger than 3145728 bytes \(3 MiB, the Kubernetes API's request"
    ):
        load_jobs(path)


def test_stdin_over_3_mib_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(HEADER + SPEC + "#" * MAX_FILE_BYTES))
    with pytest.raises(ManifestError, match=r"^-: larger than 3145728 bytes"):
        load_jobs(Path("-"))
