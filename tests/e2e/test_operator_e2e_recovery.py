"""Recovery with real ranks: a rank killed mid-training restarts the whole job, which resumes from its
latest checkpoint; an operator stopped and started mid-job picks the job up without duplicating pods."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest
from local_e2e_helpers import JobWatch, job_manifest, small_subset

EPOCH_LINE = re.compile(r"^epoch\[(\d+)/(\d+)\]")

pytestmark = pytest.mark.slow  # real MindSpore ranks


def _epochs(lines: list[str]) -> list[int]:
    return [int(m.group(1)) for line in lines if (m := EPOCH_LINE.match(line))]


def _rank_process(job: str, rank: int) -> int:
    """The pid of the training process (MS_WORKER) of global rank `rank` of `job`."""
    wanted = {f"MNFT_JOB_NAME={job}", "MS_ROLE=MS_WORKER", f"MS_NODE_ID={rank}"}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = set(Path(f"/proc/{entry}/environ").read_bytes().decode(errors="replace").split("\0"))
        except OSError:
            continue
        if wanted <= environ:
            return int(entry)
    raise AssertionError(f"no process of rank {rank} of {job}")


def _data(tmp_path: Path, demo_data: Path) -> dict[str, Path]:
    small_subset(demo_data / "digits-0-4", tmp_path / "datasets" / "digits", per_class=24)
    return {"data": tmp_path / "datasets", "out": tmp_path / "out"}


def test_killed_rank_restarts_the_whole_job_which_resumes(tmp_path: Path, demo_data: Path, local_cluster):
    epochs = 4
    cluster = local_cluster(_data(tmp_path, demo_data))
    hyper = {
        "imageHeight": 32,
        "imageWidth": 32,
        "batchSize": 16,
        "epochSize": epochs,
        "saveCheckpointEpochs": 1,
    }
    cluster.create_job(job_manifest("e2e-killed", "digits", hyperparameters=hyper, eval={"enabled": False}))
    watch = JobWatch(cluster, "e2e-killed")
    # Killed right at the epoch boundary, possibly before rank 1 saved epoch 2 (the harshest moment).
    watch.wait(lambda w: 2 in _epochs(w.rank_lines(0, 0)), 300, "rank 0 to finish epoch 2")
    os.kill(_rank_process("e2e-killed", 1), signal.SIGKILL)  # exit 137: retryable

    assert watch.wait_finished(timeout=300) == "Succeeded", "\n".join(watch.lines[-40:])
    assert watch.status["restarts"] == 1
    assert len(watch.pod_uids) == 4  # both pods recreated once, never more
    rank0 = watch.rank_lines(0, 0)
    resumed = [i for i, line in enumerate(rank0) if line.startswith("resuming from ")]
    assert len(resumed) == 1, rank0
    first, second = _epochs(rank0[: resumed[0]]), _epochs(rank0[resumed[0] :])
    # Resumed from the latest checkpoint all ranks saved (every epoch): at most one epoch is trained again.
    assert first == list(range(1, max(first) + 1)), rank0
    assert max(first) <= second[0] <= max(first) + 1, rank0
    assert second == list(range(second[0], epochs + 1)), rank0
    assert f"(epoch {second[0] - 1} of {epochs})" in rank0[resumed[0]]
    restarting = next(c for c in watch.status["conditions"] if c["type"] == "Restarting")
    assert restarting["status"] == "False"  # restarted once, then running again


def test_operator_restart_mid_job_does_not_duplicate_pods(tmp_path: Path, demo_data: Path, local_cluster):
    epochs = 4
    cluster = local_cluster(_data(tmp_path, demo_data))
    hyper = {"imageHeight": 32, "imageWidth": 32, "batchSize": 16, "epochSize": epochs}
    cluster.create_job(job_manifest("e2e-steady", "digits", hyperparameters=hyper, eval={"enabled": False}))
    watch = JobWatch(cluster, "e2e-steady")
    watch.wait(lambda w: 1 in _epochs(w.rank_lines(0, 0)), 300, "rank 0 to finish epoch 1")
    cluster.stop_operator()
    watch.wait(lambda w: 2 in _epochs(w.rank_lines(0, 0)), 300, "training to go on without the operator")
    cluster.start_operator()

    assert watch.wait_finished(timeout=300) == "Succeeded", "\n".join(watch.lines[-40:])
    assert watch.max_pods == 2
    assert len(watch.pod_uids) == 2
    assert int(watch.status.get("restarts") or 0) == 0
    assert _epochs(watch.rank_lines(0, 0)) == list(range(1, epochs + 1))
