"""`mnft_trainer.distributed`: which mode the environment asks for, and init_from_env without a cluster."""

from __future__ import annotations

import pytest

from mnft_trainer.distributed import DistributedError, detect_mode, device_id_for, init_from_env
from mnft_trainer.errors import TrainerError


@pytest.mark.parametrize(
    ("env", "mode"),
    [
        ({}, None),
        ({"MS_ROLE": "MS_WORKER", "MS_WORKER_NUM": "2", "MS_NODE_ID": "1"}, "dynamicCluster"),
        ({"MS_ROLE": "MS_WORKER", "MS_WORKER_NUM": "1"}, None),
        ({"MS_SCHED_HOST": "h", "MS_WORKER_NUM": "4"}, None),  # the pod's env alone: launch sets MS_ROLE
        ({"MS_ROLE": "MS_SCHED", "MS_WORKER_NUM": "2"}, "scheduler"),  # msrun runs the script as scheduler
        ({"RANK_TABLE_FILE": "/t/hccl.json", "RANK_SIZE": "16", "RANK_ID": "3"}, "rankTable"),
        ({"RANK_TABLE_FILE": "/t/hccl.json", "RANK_SIZE": "1"}, None),
        ({"RANK_TABLE_FILE": "/t/hccl.json"}, None),
    ],
)
def test_detect_mode(env, mode):
    assert detect_mode(env) == mode


def test_bad_integer_env_is_a_one_line_error():
    with pytest.raises(DistributedError, match="MS_WORKER_NUM='two' must be an integer"):
        detect_mode({"MS_ROLE": "MS_WORKER", "MS_WORKER_NUM": "two"})


@pytest.mark.parametrize(
    ("platform", "env", "device"),
    [("CPU", {"DEVICE_ID": "3"}, None), ("GPU", {}, 0), ("Ascend", {"DEVICE_ID": "5"}, 5)],
)
def test_device_id_for(platform, env, device):
    assert device_id_for(platform, env) == device


def test_distributed_error_is_a_trainer_error():
    assert issubclass(DistributedError, TrainerError)


def test_unknown_platform():
    with pytest.raises(DistributedError, match="platform 'TPU' must be one of CPU, GPU, Ascend"):
        init_from_env("TPU", {})
