"""`mnft train` / `mnft eval` as real processes with real MindSpore on CPU, on the digits demo data.

Sizes are chosen for a busy 2-core machine: 32x32 images, batch 32, a few epochs.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

MNFT = str(Path(sys.executable).parent / "mnft")
SMALL = ["--platform", "CPU", "--image_height", "32", "--image_width", "32", "--batch_size", "16"]
# From scratch the recipe's constant CPU lr (0.03) is unstable on a few dozen steps; warm up and decay.
SCRATCH = ["--lr_max", "0.02", "--lr_end", "0", "--warmup_epochs", "1"]
EPOCH_LINE = re.compile(
    r"^epoch\[(\d+)/(\d+)\], iter\[(\d+)\] cost: \d+\.\d{3} ms, "
    r"per step time: \d+\.\d{3} ms, avg loss: \d+\.\d{3}, lr: [0-9.e-]+, images/s: \d+\.\d, eta: \d+ s$"
)
RESULT_LINE = re.compile(r"^result:\{'acc': ([0-9.]+)\}$")


def mnft(
    *args: str, timeout: float = 540, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MNFT, *args], capture_output=True, text=True, timeout=timeout, env=env)


def epochs_seen(stdout: str) -> list[int]:
    return [int(m.group(1)) for line in stdout.splitlines() if (m := EPOCH_LINE.match(line))]


def accuracy(stdout: str) -> float:
    found = [float(m.group(1)) for line in stdout.splitlines() if (m := RESULT_LINE.match(line))]
    assert len(found) == 1, stdout
    return found[0]


def demo(out: Path, classes: str) -> Path:
    done = mnft("demo-data", "--output", str(out), "--classes", classes, timeout=120)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def digits01(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo(tmp_path_factory.mktemp("digits01"), "0,1")


@pytest.fixture(scope="module")
def full_run(
    digits01: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = tmp_path_factory.mktemp("full")
    done = mnft(
        "train", *SMALL, *SCRATCH, "--dataset_path", str(digits01), "--epoch_size", "4",
        "--keep_checkpoint_max", "2", "--save_checkpoint_path", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done


def test_full_training_learns_and_writes_the_contract_outputs(full_run):
    out, done = full_run
    assert epochs_seen(done.stdout) == [1, 2, 3, 4]
    assert re.search(r"^total cost \d+\.\d{3} s$", done.stdout, re.M)
    acc = accuracy(done.stdout)
    assert acc > 0.75, done.stdout  # 2 classes: chance is 0.5
    summary = json.loads((out / "summary.json").read_text())
    confusion = summary["confusion_matrix"]
    history_keys = ["epoch", "loss", "lr", "images_per_second", "seconds"]
    per_class = [
        {
            "class": str(c),
            "precision": pytest.approx(confusion[c][c] / (confusion[0][c] + confusion[1][c])),
            "recall": pytest.approx(confusion[c][c] / sum(confusion[c])),
            "support": sum(confusion[c]),
        }
        for c in (0, 1)
    ]
    assert summary == {
        "epochs": 4,
        "final_loss": pytest.approx(summary["final_loss"]),
        "accuracy": pytest.approx(acc),
        "checkpoint": str(out / "ckpt_0" / "mobilenetv2_4.ckpt"),
        "classes": ["0", "1"],
        "history": summary["history"],
        "per_class": per_class,
        "confusion_matrix": confusion,
        "plots": {"training": str(out / "training.png"), "confusion": str(out / "confusion.png")},
    }
    assert [list(h) for h in summary["history"]] == [history_keys] * 4  # no eval_accuracy: not asked for
    assert [h["epoch"] for h in summary["history"]] == [1, 2, 3, 4]
    assert isinstance(summary["final_loss"], float)
    assert summary["history"][-1]["loss"] == summary["final_loss"]
    assert (confusion[0][0] + confusion[1][1]) / sum(map(sum, confusion)) == pytest.approx(acc)
    assert json.loads((out / "history.json").read_text()) == summary["history"]
    assert (out / "training.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in (out / "ckpt_0").iterdir()) == ["mobilenetv2_3.ckpt", "mobilenetv2_4.ckpt"]


def test_eval_of_the_checkpoint_matches_the_training_report(full_run, digits01, tmp_path):
    out, done = full_run
    term = tmp_path / "termination-log"
    term.write_text("")
    env = {**os.environ, "TERMINATION_MESSAGE_PATH": str(term)}
    ckpt = str(out / "ckpt_0" / "mobilenetv2_4.ckpt")
    evaluated = mnft("eval", *SMALL, "--dataset_path", str(digits01), "--pretrain_ckpt", ckpt, env=env)
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert accuracy(evaluated.stdout) == pytest.approx(accuracy(done.stdout))
    assert json.loads(term.read_text()) == {
        "accuracy": pytest.approx(accuracy(done.stdout)),
        "checkpoint": ckpt,
    }


def test_frozen_backbone_fine_tune_uses_and_invalidates_the_feature_cache(full_run, tmp_path):
    data = demo(tmp_path / "digits23", "2,3")
    out = tmp_path / "frozen"
    ckpt = str(full_run[0] / "ckpt_0" / "mobilenetv2_4.ckpt")
    args = [
        "train", *SMALL, "--dataset_path", str(data), "--epoch_size", "8", "--freeze_layer", "backbone",
        "--pretrain_ckpt", ckpt, "--save_checkpoint_path", str(out), "--save_checkpoint_epochs", "4",
    ]  # fmt: skip
    first = mnft(*args)
    assert first.returncode == 0, first.stderr[-3000:]
    assert epochs_seen(first.stdout) == list(range(1, 9))
    assert "extract train: " in first.stdout and "from cache" not in first.stdout
    assert accuracy(first.stdout) > 0.65  # a new head on features learnt from other digits; chance 0.5
    assert sorted(p.name for p in (out / "ckpt_0").iterdir()) == ["mobilenetv2_4.ckpt", "mobilenetv2_8.ckpt"]

    again = mnft(*args)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "train features: " in again.stdout and "from cache" in again.stdout
    assert "extract train" not in again.stdout and "extract eval" not in again.stdout
    assert accuracy(again.stdout) == pytest.approx(accuracy(first.stdout))

    changed = sorted((data / "train" / "2").iterdir())[0]
    changed.write_bytes(sorted((data / "train" / "3").iterdir())[0].read_bytes())
    third = mnft(*args)
    assert third.returncode == 0, third.stderr[-3000:]
    assert "extract train: " in third.stdout  # the changed training set is extracted again
    assert "eval features: " in third.stdout and "extract eval" not in third.stdout  # eval unchanged: cached


def test_an_interrupted_run_resumes_from_its_last_checkpoint(tmp_path):
    data = demo(tmp_path / "digits01", "0,1")
    out = tmp_path / "out"
    args = [MNFT, "train", *SMALL, *SCRATCH, "--dataset_path", str(data), "--epoch_size", "3",
            "--run_eval", "false", "--save_checkpoint_path", str(out)]  # fmt: skip
    first_ckpt = out / "ckpt_0" / "mobilenetv2_1.ckpt"
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 180
    while not first_ckpt.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    stdout, _ = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, stdout
    saved = sorted(int(p.stem.split("_")[1]) for p in (out / "ckpt_0").glob("mobilenetv2_*.ckpt"))
    assert saved and saved == list(range(1, saved[-1] + 1)) and saved[-1] < 3, saved
    last = saved[-1]

    resumed = subprocess.run(args, capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert (
        f"resuming from {out / 'ckpt_0' / f'mobilenetv2_{last}.ckpt'} (epoch {last} of 3)" in resumed.stdout
    )
    assert epochs_seen(resumed.stdout) == list(range(last + 1, 4))
    import mindspore as ms

    steps = next(int(m.group(3)) for line in resumed.stdout.splitlines() if (m := EPOCH_LINE.match(line)))
    final = ms.load_checkpoint(str(out / "ckpt_0" / "mobilenetv2_3.ckpt"))
    # the optimizer state came back: global_step counts all 3 epochs, not only the resumed ones
    assert int(final["global_step"].asnumpy().reshape(-1)[0]) == 3 * steps
    assert json.loads((out / "summary.json").read_text())["epochs"] == 3
