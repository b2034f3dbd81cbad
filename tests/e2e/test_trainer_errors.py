"""Bad input to `mnft train` / `mnft eval` as real processes: exit code, one `error:` line as the last line of
stderr, the same line in the termination message, and nothing removed from the output directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reference_data import OFFICIAL_CHECKPOINT
from trainer_fixtures import write_folder

MNFT = str(Path(sys.executable).parent / "mnft")
SMALL = [
    "--platform",
    "CPU",
    "--image_height",
    "32",
    "--image_width",
    "32",
    "--batch_size",
    "2",
    "--epoch_size",
    "1",
]


@pytest.fixture
def out(tmp_path: Path) -> Path:
    directory = tmp_path / "out"
    (directory / "ckpt_0").mkdir(parents=True)
    (directory / "keep.txt").write_text("precious")
    (directory / "ckpt_0" / "notes.txt").write_text("also precious")
    return directory


def run_failing(tmp_path: Path, out: Path, *args: str, code: int = 1) -> str:
    term = tmp_path / "termination-log"
    term.write_text("")
    env = {**os.environ, "TERMINATION_MESSAGE_PATH": str(term)}
    done = subprocess.run(
        [MNFT, *args, "--save_checkpoint_path", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert done.returncode == code, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    if code == 1:
        assert last.startswith("error: ")
        assert "Traceback" not in done.stderr
        assert term.read_text() == last
    assert (out / "keep.txt").read_text() == "precious"
    assert (out / "ckpt_0" / "notes.txt").read_text() == "also precious"
    return last


def test_missing_dataset_path(tmp_path, out):
    last = run_failing(tmp_path, out, "train", *SMALL, "--dataset_path", str(tmp_path / "nowhere"))
    assert last == f"error: --dataset_path {tmp_path / 'nowhere'}: no such directory"


def test_no_class_folders(tmp_path, out):
    (tmp_path / "data" / "train").mkdir(parents=True)
    last = run_failing(tmp_path, out, "train", *SMALL, "--dataset_path", str(tmp_path / "data"))
    assert last.startswith(f"error: {tmp_path / 'data' / 'train'}: no class folders; expected ")


def test_empty_class(tmp_path, out):
    data = write_folder(tmp_path / "data", {"a": 2, "b": 2})
    (data / "c").mkdir()
    last = run_failing(tmp_path, out, "train", *SMALL, "--dataset_path", str(data))
    assert last.startswith(f"error: {data / 'c'}: class folder has no images (")


def test_num_classes_disagreeing_with_the_data(tmp_path, out):
    data = write_folder(tmp_path / "data", {"a": 2, "b": 2})
    last = run_failing(tmp_path, out, "train", *SMALL, "--dataset_path", str(data), "--num_classes", "5")
    assert (
        last == f"error: num_classes is 5 but {data} has 2 class folders (a, b); fix num_classes or the data"
    )


def test_run_eval_without_an_eval_split(tmp_path, out):
    data = write_folder(tmp_path / "data", {"a": 2, "b": 2})
    last = run_failing(tmp_path, out, "train", *SMALL, "--dataset_path", str(data), "--run_eval", "true")
    assert last == (f"error: --run_eval true but {data} has no eval/ split; add one or pass --run_eval false")


def test_bad_config_file_key(tmp_path, out):
    data = write_folder(tmp_path / "data", {"a": 2, "b": 2})
    config = tmp_path / "recipe.yaml"
    config.write_text("batch_size: 2\nlearning_rate: 0.1\n")
    last = run_failing(tmp_path, out, "train", *SMALL, "--dataset_path", str(data), "--config", str(config))
    assert last.startswith(
        f"error: --config {config}: unknown key(s) learning_rate; valid keys: num_classes, "
    )


def test_usage_errors_exit_2(tmp_path, out):
    last = run_failing(tmp_path, out, "train", "--platform", "CPU", code=2)
    assert last.endswith("the following arguments are required: --dataset_path")
    last = run_failing(tmp_path, out, "train", "--platform", "TPU", "--dataset_path", "x", code=2)
    assert "argument --platform: invalid choice: 'TPU'" in last


def test_not_a_checkpoint(tmp_path, out):
    data = write_folder(tmp_path / "data", {"a": 2, "b": 2}, size=32)
    junk = tmp_path / "model.ckpt"
    junk.write_bytes(b"definitely not protobuf" * 50)
    last = run_failing(
        tmp_path, out, "train", *SMALL, "--dataset_path", str(data), "--pretrain_ckpt", str(junk)
    )
    assert last == f"error: --pretrain_ckpt {junk}: not a MindSpore checkpoint (cannot be parsed)"


def test_unreadable_image_is_named(tmp_path, out):
    data = write_folder(tmp_path / "data", {"a": 2, "b": 2}, size=32)
    (data / "b" / "zz-broken.png").write_bytes(b"\x89PNG\r\n\x1a\nthen nothing useful")
    last = run_failing(tmp_path, out, "train", *SMALL, "--dataset_path", str(data))
    assert last == (
        f"error: {data / 'b' / 'zz-broken.png'}: not a readable image (unknown or corrupt image format); "
        "replace or remove the file"
    )


def test_eval_with_a_head_for_other_classes(tmp_path, out):
    reference = OFFICIAL_CHECKPOINT
    data = write_folder(tmp_path / "data", {"a": 2, "b": 2}, size=32)
    last = run_failing(
        tmp_path, out, "eval", *SMALL, "--dataset_path", str(data), "--pretrain_ckpt", str(reference)
    )
    assert last == (
        f"error: {reference}: wrong shapes in head entries: head.1.weight has shape [1000, 1280], "
        "expected [2, 1280], head.1.bias has shape [1000], expected [2]"
    )
