"""Exit code 75 (EX_TEMPFAIL): a transient distributed-infrastructure failure the operator retries."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from reconcile_world import World

from mnft_operator.types import Event
from mnft_trainer.distributed import (
    DistributedConfigError,
    DistributedError,
    detect_mode,
    first_line,
    step_failure,
)
from mnft_trainer.errors import TrainerError
from mnft_trainer.pod.supervise import EX_TEMPFAIL, Child, Outcome, supervise

ENV = dict(os.environ, PYTHONUNBUFFERED="1")
TRAIN = [sys.executable, "-m", "mnft_trainer", "train", "--platform", "CPU"]
SLEEPER = "import time; time.sleep(120)"
DIST_ENV = {"MS_ROLE": "MS_WORKER", "MS_WORKER_NUM": "2"}
# How MindSpore frames a RuntimeError's text.
MS_ERROR = (
    "----------------------------------------------------\n"
    "- Framework Unexpected Exception Raised:\n"
    "----------------------------------------------------\n"
    "AllReduce failed: the peer node 1 is lost\n\n"
    "- C++ Call Stack: (For framework developers)\n"
)


def test_ex_tempfail_is_75():
    assert EX_TEMPFAIL == 75
    assert DistributedError.exit_code == 75


def test_a_dying_scheduler_makes_launch_exit_75_and_stops_the_ranks():
    out = io.StringIO()
    outcome = supervise(
        [
            Child("scheduler", [sys.executable, "-c", "import sys; sys.exit(1)"], ENV, infrastructure=True),
            Child("rank-0", [sys.executable, "-c", SLEEPER], ENV),
        ],
        grace_s=2.0,
        out=out,
    )
    assert outcome == Outcome(75, "scheduler", None)
    assert "launch: scheduler exited with code 1, stopping 1 other process(es)" in out.getvalue()


def test_a_scheduler_killed_by_a_signal_is_75_too():
    kill_self = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    outcome = supervise(
        [
            Child("scheduler", [sys.executable, "-c", kill_self], ENV, infrastructure=True),
            Child("rank-0", [sys.executable, "-c", SLEEPER], ENV),
        ],
        grace_s=2.0,
        out=io.StringIO(),
    )
    assert outcome == Outcome(75, "scheduler", None)


def test_a_rank_exiting_75_passes_through_and_other_codes_stay():
    for code in (75, 1):
        outcome = supervise(
            [
                Child("scheduler", [sys.executable, "-c", SLEEPER], ENV, infrastructure=True),
                Child("rank-0", [sys.executable, "-c", f"import sys; sys.exit({code})"], ENV),
            ],
            grace_s=2.0,
            out=io.StringIO(),
        )
        assert outcome == Outcome(code, "rank-0", None)


def test_malformed_distributed_env_is_not_transient():
    with pytest.raises(DistributedConfigError) as info:
        detect_mode({"MS_ROLE": "MS_WORKER", "MS_WORKER_NUM": "two"})
    assert info.value.exit_code == 1


def test_first_line_skips_mindspore_framing():
    assert first_line(RuntimeError(MS_ERROR)) == "AllReduce failed: the peer node 1 is lost"
    assert first_line(RuntimeError("\n---\n")) == "RuntimeError"
    assert first_line(ValueError("plain text\nmore")) == "plain text"


def test_a_failed_step_in_a_distributed_job_is_a_communication_failure():
    error = step_failure(RuntimeError(MS_ERROR), DIST_ENV)
    assert type(error) is DistributedError
    assert error.exit_code == 75
    assert str(error) == (
        "collective communication failed during a training step: AllReduce failed: the peer node 1 is lost"
    )


def test_a_failed_step_in_a_single_process_is_a_trainer_error():
    error = step_failure(RuntimeError("bad shape\n---"), {})
    assert type(error) is TrainerError
    assert str(error) == "training step failed: bad shape"


def tiny_dataset(root: Path) -> Path:
    from PIL import Image

    for cls in ("a", "b"):
        folder = root / "data" / "train" / cls
        folder.mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(folder / "0.png")
    return root / "data"


def clean_env(**extra: str) -> dict[str, str]:
    prefixes = ("MNFT_", "MS_", "RANK_", "TERMINATION", "GLOG")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(prefixes)}, **extra}


def test_mnft_train_exits_75_when_no_scheduler_answers(tmp_path: Path):
    """Real `mnft train` and MindSpore: a worker whose scheduler never answers ("not successfully spawned")
    after MindSpore's cluster-join timeout (MS_TOPO_TIMEOUT, shortened to 3 s)."""
    data = tiny_dataset(tmp_path)
    env = clean_env(
        MS_ROLE="MS_WORKER",
        MS_WORKER_NUM="2",
        MS_NODE_ID="1",
        MS_SCHED_HOST="127.0.0.1",
        MS_SCHED_PORT="1",  # nothing listens there
        MS_TOPO_TIMEOUT="3",
        GLOG_v="3",
    )
    result = subprocess.run(
        [*TRAIN, "--dataset_path", str(data), "--save_checkpoint_path", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 75, result.stderr[-2000:]
    last = result.stderr.splitlines()[-1]
    assert last.startswith("error: distributed init failed (dynamicCluster, scheduler 127.0.0.1:1): ")


def test_mnft_train_exits_75_when_the_rank_table_never_completes(tmp_path: Path):
    """Real `mnft train` process: the rank table stays `initializing` past a 0.3 s timeout."""
    tiny_dataset(tmp_path)
    table = tmp_path / "hccl.json"
    table.write_text('{"status": "initializing"}')
    termination = tmp_path / "termination-log"
    termination.write_text("")
    env = clean_env(
        RANK_TABLE_FILE=str(table),
        RANK_SIZE="2",
        RANK_ID="0",
        MNFT_RANK_TABLE_TIMEOUT="0.3",
        TERMINATION_MESSAGE_PATH=str(termination),
    )
    result = subprocess.run(
        [*TRAIN, "--dataset_path", str(tmp_path / "data"), "--save_checkpoint_path", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    expected = f"error: rank table {table} is not completed after 0.3 s"
    assert result.returncode == 75, result.stderr[-2000:]
    assert result.stderr.splitlines()[-1].startswith(expected)
    assert termination.read_text().startswith(expected)


def test_the_operator_restarts_a_job_whose_cluster_did_not_form():
    spec = {"platform": "CPU", "image": "mnft:0.1", "workers": 2, "dataset": {"path": "/data"}}
    w = World(spec)
    w.step()
    w.run(0, 1)
    w.step()
    w.exit(0, 75, message="error: distributed init failed (dynamicCluster, scheduler 127.0.0.1:8118): x")
    restart = w.step()
    message = (
        "flowers-worker-0: container trainer exited 75: error: distributed init failed "
        "(dynamicCluster, scheduler 127.0.0.1:8118): x; restart 1 of 3"
    )
    assert restart.events == (Event("Warning", "Restarting", message),)
    assert (w.status()["phase"], w.status()["restarts"]) == ("Restarting", 1)
    assert w.conditions()["Restarting"] == ("True", "ClusterFormation")
