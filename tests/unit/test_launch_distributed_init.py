"""`mnft_trainer.distributed`: which mode the environment asks for, and init_from_env without a cluster."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mnft_trainer.distributed import DistContext, DistributedError, detect_mode, device_id_for, init_from_env
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


def test_no_env_is_rank_0_of_1_in_a_fresh_process():
    code = (
        "import mindspore as ms; from mnft_trainer.distributed import init_from_env; "
        "print(repr(init_from_env('CPU', {}))); print(ms.get_context('device_target'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.splitlines()[-2:] == [repr(DistContext(0, 1, None, False)), "CPU"]


def test_rank_table_never_completed_times_out_before_init(tmp_path):
    table = tmp_path / "hccl.json"
    table.write_text('{"status": "initializing"}')
    env = {"RANK_TABLE_FILE": str(table), "RANK_SIZE": "2", "RANK_ID": "0", "MNFT_RANK_TABLE_TIMEOUT": "0.2"}
    code = (
        "import sys; from mnft_trainer.distributed import init_from_env, DistributedError\n"
        "try:\n    init_from_env('CPU', dict(" + repr(env) + "))\n"
        "except DistributedError as exc:\n    print(exc); sys.exit(exc.exit_code)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 75  # transient: the operator restarts the job
    assert result.stdout.splitlines()[-1].startswith(f"rank table {table} is not completed after 0.2 s")
