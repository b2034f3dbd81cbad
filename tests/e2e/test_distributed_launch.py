"""Real MindSpore ranks on loopback, started by `mnft launch` from the environment the operator renders.

- two pods x one device (two `mnft launch` processes, pod 0 also runs the scheduler), frozen backbone;
- one pod x two devices (one `mnft launch`), full network from scratch;
- a rank killed mid-run: launch stops its sibling and exits 128+9.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from reference_data import OFFICIAL_CHECKPOINT

pytestmark = pytest.mark.slow

PRETRAINED = OFFICIAL_CHECKPOINT
MNFT = [sys.executable, "-m", "mnft_operator.cli"]
BATCH = 16
PER_CLASS = 64
SMALL = ["--image_height", "32", "--image_width", "32", "--batch_size", str(BATCH)]


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MNFT_", "MS_", "RANK_", "TERMINATION", "GLOG"))
    }
    return {**env, **extra}


def free_port() -> int:
    from mnft_trainer.pod.launch import free_tcp_port

    return free_tcp_port()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    root = tmp_path_factory.mktemp("digits")
    subprocess.run(
        [*MNFT, "demo-data", "--output", str(root), "--classes", "0,1", "--image_size", "32"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    for folder in (root / "train").iterdir():  # 64 a class keeps both ranks' work small
        for extra in sorted(folder.glob("*.png"))[PER_CLASS:]:
            extra.unlink()
    return root, len(list((root / "train").glob("*/*.png")))


def pod_env(node_rank: int, workers: int, devices: int, port: int) -> dict[str, str]:
    """What the operator renders for a CPU dynamic-cluster pod (docs/architecture.md)."""
    return clean_env(
        MNFT_JOB_NAME="t2",
        MNFT_NAMESPACE="default",
        MNFT_PLATFORM="CPU",
        MNFT_WORKER_INDEX=str(node_rank),
        MNFT_WORKERS=str(workers),
        MNFT_DEVICES_PER_WORKER=str(devices),
        MNFT_COMM_MODE="dynamicCluster",
        # a name, as the operator's <job>-worker-0.<job>.<ns>.svc: launch resolves it
        MS_SCHED_HOST="localhost",
        MS_SCHED_PORT=str(port),
        MS_WORKER_NUM=str(workers * devices),
        MNFT_NODE_RANK=str(node_rank),
        MNFT_LOCAL_WORKER_NUM=str(devices),
    )


def launch_train(data: Path, out: Path, freeze: str, epochs: int) -> list[str]:
    """`mnft launch train ...` as the operator's pod command, on small images."""
    args = ["--platform", "CPU", "--dataset_path", str(data), "--freeze_layer", freeze, "--run_eval", "false"]
    args += ["--epoch_size", str(epochs), "--save_checkpoint_path", str(out), *SMALL]
    if freeze == "backbone":
        args += ["--pretrain_ckpt", str(PRETRAINED)]
    return [*MNFT, "launch", "train", *args]


def load(path: Path) -> dict[str, np.ndarray]:
    import mindspore as ms

    return {name: param.asnumpy() for name, param in ms.load_checkpoint(str(path)).items()}


def differing(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> list[str]:
    assert sorted(a) == sorted(b)
    return [name for name in a if not np.array_equal(a[name], b[name])]


def test_two_pods_one_device_each_train_together(dataset, tmp_path):
    data, images = dataset
    out = tmp_path / "output"  # the job's shared output volume
    port = free_port()
    started = time.monotonic()
    pods = [
        subprocess.Popen(
            launch_train(data, out, "backbone", 2),
            env=pod_env(i, 2, 1, port),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]
    logs = [pod.communicate(timeout=150)[0] for pod in pods]
    print(f"two pods x one device: {time.monotonic() - started:.1f} s\n" + "\n".join(logs))
    assert [pod.returncode for pod in pods] == [0, 0], logs

    per_rank = images // 2
    assert f"[rank-0] extract train: {per_rank}/{per_rank} " in logs[0]
    assert f"[rank-1] extract train: {per_rank}/{per_rank} " in logs[1]
    assert "[rank-1]" not in logs[0] and "[rank-0]" not in logs[1]
    for rank, log in enumerate(logs):
        assert re.search(
            rf"^\[rank-{rank}\] distributed: rank {rank} of 2 joined \(dynamicCluster\)", log, re.M
        )
    assert re.search(rf"^\[rank-0\] epoch\[2/2\], iter\[{per_rank // BATCH}\] ", logs[0], re.M)

    # Mean gradients over both ranks: every parameter ends identical (the frozen backbone's BN statistics
    # do not move, so that includes them).
    rank0, rank1 = load(out / "ckpt_0" / "mobilenetv2_2.ckpt"), load(out / "ckpt_1" / "mobilenetv2_2.ckpt")
    assert differing(rank0, rank1) == []
    # and training did change the head
    assert not np.array_equal(
        rank0["head.1.weight"], load(out / "ckpt_0" / "mobilenetv2_1.ckpt")["head.1.weight"]
    )


def test_one_pod_two_devices_full_network(dataset, tmp_path):
    data, images = dataset
    out = tmp_path / "output"
    result = subprocess.run(
        launch_train(data, out, "none", 1),
        env=pod_env(0, 1, 2, free_port()),
        capture_output=True,
        text=True,
        timeout=150,
    )
    print(result.stdout, result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "launch: starting 2 process(es), ranks [0, 1] and the scheduler"
    assert all(re.match(r"\[(rank-[01]|scheduler)\] ", line) for line in lines[1:]), lines
    per_rank = images // 2
    assert f"[rank-0] train: {images} images in 2 classes, {per_rank} on each of 2 rank(s)" in result.stdout
    assert re.search(rf"^\[rank-0\] epoch\[1/1\], iter\[{per_rank // BATCH}\] ", result.stdout, re.M)

    rank0, rank1 = load(out / "ckpt_0" / "mobilenetv2_1.ckpt"), load(out / "ckpt_1" / "mobilenetv2_1.ckpt")
    # Trainable weights and optimizer state agree through the mean gradients, and the BatchNorm moving
    # statistics (each rank's follow its own images) are averaged over the ranks before the save.
    assert differing(rank0, rank1) == []


def test_a_killed_rank_stops_the_pod_with_128_plus_signal(dataset, tmp_path):
    data, _ = dataset
    termination = tmp_path / "termination-log"
    termination.write_text("")
    env = {**pod_env(0, 1, 2, free_port()), "TERMINATION_MESSAGE_PATH": str(termination)}
    launch = subprocess.Popen(
        launch_train(data, tmp_path / "out", "none", 50),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert launch.stdout is not None
    seen = []
    for line in launch.stdout:
        seen.append(line)
        if line.startswith("[rank-0] train: "):  # both ranks have joined and are building the network
            break
    else:
        pytest.fail("launch ended early:\n" + "".join(seen))
    children = psutil.Process(launch.pid).children()
    rank1 = next(p for p in children if p.environ().get("MS_NODE_ID") == "1")
    others = [p for p in children if p.pid != rank1.pid]
    killed_at = time.monotonic()
    os.kill(rank1.pid, signal.SIGKILL)
    rest = launch.stdout.read()
    launch.wait(timeout=60)
    stopped_in = time.monotonic() - killed_at
    print(f"stopped {stopped_in:.1f} s after the kill\n" + "".join(seen) + rest)
    assert launch.returncode == 128 + signal.SIGKILL
    assert "launch: rank-1 exited with code 137, stopping 2 other process(es)" in rest
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in others)
    assert termination.read_text() == "error: rank-1 exited with code 137"
    assert stopped_in < 20
