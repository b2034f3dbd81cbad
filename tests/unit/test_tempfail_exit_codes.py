"""Exit code 75 (EX_TEMPFAIL): a transient distributed-infrastructure failure the operator retries."""

from __future__ import annotations

import os
import sys

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
from mnft_trainer.pod.supervise import EX_TEMPFAIL

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
