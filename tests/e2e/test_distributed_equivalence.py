"""Distributed training equals one process: real MindSpore ranks on loopback through `mnft launch`.

One run of 2 ranks x batch B (one pod, two devices, full network from scratch, eval on) is checked for:
- every rank's checkpoint of every epoch identical, parameter for parameter (the BatchNorm moving
  statistics are averaged over the ranks before each save);
- the sharded eval (each rank half the eval split, counts summed) equal to `mnft eval` of the final
  checkpoint in one process: same image count, same correct count, same accuracy;
- no MindSpore C++ INFO line in the rank logs (GLOG_v=3 alone does not silence them);
and 2 ranks x batch B against 1 process x batch 2B on the same data and seed: the per-epoch loss within
LOSS_TOLERANCE and the final accuracy within 0.03.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

MNFT = [sys.executable, "-m", "mnft_operator.cli"]
BATCH = 16
EPOCHS = 2
EQUIVALENCE_EPOCHS = 6
PER_CLASS = 48
# Measured (docs/benchmarks.md): the 2-rank loss runs up to 0.40 above the lone process's while it falls
# fastest (about half an epoch behind) and 0.09 above after the last epoch. Not the same computation: each
# rank's BatchNorm normalises with the statistics of B images, not 2B, and the ranks' shuffles and crops
# draw other random numbers.
LOSS_TOLERANCE = 0.45
FINAL_LOSS_TOLERANCE = 0.15
ACCURACY_TOLERANCE = 0.03
RECIPE = [
    "--platform", "CPU", "--image_height", "32", "--image_width", "32", "--epoch_size", str(EPOCHS),
    "--warmup_epochs", "1", "--lr_max", "0.02", "--lr_end", "0", "--crop_scale_min", "0.6",
    "--crop_ratio_min", "0.85", "--crop_ratio_max", "1.18", "--flip_prob", "0", "--color_jitter", "0",
]  # fmt: skip
# mnft appends ", lr: ..., images/s: ..., eta: ..." to the recipe's line
EPOCH = re.compile(r"epoch\[(\d+)/\d+\], iter\[\d+\] .* avg loss: (\d+\.\d+)(,|$)")
EVAL = re.compile(r"eval: (\d+) images, (\d+) correct$")
RESULT = re.compile(r"result:\{'acc': ([0-9.]+)\}$")


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MNFT_", "MS_", "RANK_", "TERMINATION", "GLOG"))
    }
    return {**env, **extra}


def one_pod_two_devices() -> dict[str, str]:
    from mnft_trainer.pod.launch import free_tcp_port

    return clean_env(
        MNFT_JOB_NAME="eq", MNFT_NAMESPACE="default", MNFT_PLATFORM="CPU", MNFT_WORKER_INDEX="0",
        MNFT_WORKERS="1", MNFT_DEVICES_PER_WORKER="2", MNFT_COMM_MODE="dynamicCluster",
        MS_SCHED_HOST="localhost", MS_SCHED_PORT=str(free_tcp_port()), MS_WORKER_NUM="2",
        MNFT_NODE_RANK="0", MNFT_LOCAL_WORKER_NUM="2",
    )  # fmt: skip


def run(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900)
    print(done.stdout, done.stderr)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def losses(stdout: str) -> list[float]:
    return [float(m.group(2)) for line in stdout.splitlines() if (m := EPOCH.search(line))]


def one(pattern: re.Pattern[str], stdout: str) -> tuple[str, ...]:
    found = [m.groups() for line in stdout.splitlines() if (m := pattern.search(line))]
    assert len(found) == 1, stdout
    return found[0]


def load(path: Path) -> dict[str, np.ndarray]:
    import mindspore as ms

    return {name: param.asnumpy() for name, param in ms.load_checkpoint(str(path)).items()}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("digits012")
    run([*MNFT, "demo-data", "--output", str(root), "--classes", "0,1,2"], clean_env())
    for folder in (root / "train").iterdir():  # a small train split keeps both runs short
        for extra in sorted(folder.glob("*.png"))[PER_CLASS:]:
            extra.unlink()
    return root


@pytest.fixture(scope="module")
def two_ranks(data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp("two-ranks")
    args = [*RECIPE, "--batch_size", str(BATCH), "--dataset_path", str(data), "--save_checkpoint_path"]
    return run([*MNFT, "launch", "train", *args, str(out)], one_pod_two_devices()), out


def test_every_rank_checkpoints_the_same_network(two_ranks):
    stdout, out = two_ranks
    assert re.search(r"^\[rank-0\] train: 144 images in 3 classes, 72 on each of 2 rank\(s\)", stdout, re.M)
    for epoch in range(1, EPOCHS + 1):
        rank0 = load(out / "ckpt_0" / f"mobilenetv2_{epoch}.ckpt")
        rank1 = load(out / "ckpt_1" / f"mobilenetv2_{epoch}.ckpt")
        assert sorted(rank0) == sorted(rank1)
        assert [name for name in rank0 if not np.array_equal(rank0[name], rank1[name])] == [], epoch
        moving = [name for name in rank0 if name.endswith("moving_mean")]
        assert len(moving) == 52  # the statistics are in the comparison
    first, last = (
        load(out / "ckpt_0" / "mobilenetv2_1.ckpt"),
        load(out / "ckpt_0" / f"mobilenetv2_{EPOCHS}.ckpt"),
    )
    assert not np.array_equal(first[moving[0]], last[moving[0]])  # and they did move


def test_sharded_eval_equals_one_process_eval_of_the_checkpoint(two_ranks, data):
    stdout, out = two_ranks
    images, correct = one(EVAL, stdout)
    evaluated = len(list((data / "eval").glob("*/*.png")))
    assert int(images) == evaluated  # the whole split, each image once
    summary = json.loads((out / "summary.json").read_text())
    alone = run(
        [*MNFT, "eval", *RECIPE, "--batch_size", str(BATCH), "--dataset_path", str(data),
         "--pretrain_ckpt", str(out / "ckpt_0" / f"mobilenetv2_{EPOCHS}.ckpt")],
        clean_env(GLOG_v="3"),
    )  # fmt: skip
    assert one(EVAL, alone) == (images, correct)
    assert float(one(RESULT, alone)[0]) == summary["accuracy"] == int(correct) / evaluated


def test_rank_logs_carry_no_mindspore_info_lines(two_ranks):
    stdout, _ = two_ranks
    assert "distributed: rank 1 of 2 joined" in stdout  # the ranks' own lines are relayed
    assert [line for line in stdout.splitlines() if "[INFO]" in line or "[DEBUG]" in line] == []


@pytest.fixture(scope="module")
def digits04(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("digits04")
    run([*MNFT, "demo-data", "--output", str(root), "--classes", "0,1,2,3,4"], clean_env())
    return root


@pytest.mark.timeout(3600)  # two 6-epoch trainings: ~3 min unloaded, 16 min at a load average of 14
def test_two_ranks_of_batch_b_train_as_one_process_of_batch_2b(digits04, tmp_path):
    """The demo's pre-training (digits 0-4 from scratch, 6 epochs, 22 steps an epoch either way): smaller
    set-ups tried here (3 classes x 48 images, the digits 0 and 1 at 2 x 8) do not learn in their few
    steps, so their losses and accuracies would compare noise. Deterministic: bench/bench_distributed_
    equivalence.py runs the same commands (numbers in docs/benchmarks.md)."""
    recipe = [
        *RECIPE[: RECIPE.index("--epoch_size")], "--epoch_size", str(EQUIVALENCE_EPOCHS),
        *RECIPE[RECIPE.index("--epoch_size") + 2 :],
        "--dataset_path", str(digits04), "--run_eval", "true", "--save_checkpoint_path",
    ]  # fmt: skip
    two = run(
        [*MNFT, "launch", "train", *recipe, str(tmp_path / "two"), "--batch_size", str(BATCH)],
        one_pod_two_devices(),
    )
    alone = run(
        [*MNFT, "train", *recipe, str(tmp_path / "one"), "--batch_size", str(2 * BATCH)],
        clean_env(GLOG_v="3"),
    )
    distributed, single = losses(two), losses(alone)
    assert len(distributed) == len(single) == EQUIVALENCE_EPOCHS
    print(f"per-epoch loss: 2 ranks x {BATCH} {distributed}\n1 process x {2 * BATCH} {single}")
    assert max(abs(a - b) for a, b in zip(distributed, single, strict=True)) <= LOSS_TOLERANCE
    assert abs(distributed[-1] - single[-1]) <= FINAL_LOSS_TOLERANCE
    accuracy_two, accuracy_one = float(one(RESULT, two)[0]), float(one(RESULT, alone)[0])
    print(f"final accuracy: 2 ranks {accuracy_two}, 1 process {accuracy_one}")
    assert min(accuracy_two, accuracy_one) > 0.9  # well above chance (0.2): the comparison means something
    assert abs(accuracy_two - accuracy_one) <= ACCURACY_TOLERANCE
