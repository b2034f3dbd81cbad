"""`mnft launch --dry-run` as a real subprocess: one JSON line per process, nothing started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LAUNCH = [sys.executable, "-m", "mnft_operator.cli", "launch"]


def run_launch(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MNFT_", "MS_", "RANK_", "TERMINATION"))}
    return subprocess.run(
        [*LAUNCH, *args], env={**base, **env}, capture_output=True, text=True, timeout=timeout, check=False
    )


def table(servers: int, devices: int, status: str = "completed") -> dict:
    return {
        "status": status,
        "version": "1.0",
        "server_count": str(servers),
        "server_list": [
            {
                "server_id": f"10.0.0.{s + 1}",
                "container_ip": f"10.244.{s + 1}.5",
                "device": [
                    {"device_id": str(d), "device_ip": f"192.168.{s}.{d}", "rank_id": str(s * devices + d)}
                    for d in range(devices)
                ],
            }
            for s in range(servers)
        ],
    }


def rank_table_env(path: Path, index: int) -> dict[str, str]:
    return {
        "MNFT_PLATFORM": "Ascend",
        "MNFT_COMM_MODE": "rankTable",
        "MNFT_WORKERS": "2",
        "MNFT_DEVICES_PER_WORKER": "8",
        "MNFT_WORKER_INDEX": str(index),
        "RANK_TABLE_FILE": str(path),
        "RANK_SIZE": "16",
        "MNFT_RANK_TABLE_TIMEOUT": "30",
    }


def test_dynamic_cluster_dry_run_prints_scheduler_and_ranks():
    env = {
        "MNFT_PLATFORM": "CPU",
        "MNFT_COMM_MODE": "dynamicCluster",
        "MNFT_WORKERS": "2",
        "MNFT_DEVICES_PER_WORKER": "1",
        "MNFT_WORKER_INDEX": "0",
        "MNFT_NODE_RANK": "0",
        "MNFT_LOCAL_WORKER_NUM": "1",
        "MS_SCHED_HOST": "job-worker-0.job.default.svc",
        "MS_SCHED_PORT": "8118",
        "MS_WORKER_NUM": "2",
    }
    result = run_launch(["--dry-run", "train", "--platform", "CPU"], env)
    assert result.returncode == 0, result.stderr
    cluster = {
        "MS_SCHED_HOST": "job-worker-0.job.default.svc",
        "MS_SCHED_PORT": "8118",
        "MS_WORKER_NUM": "2",
        "MS_TOPO_TIMEOUT": "600",
    }
    ranks = {"RANK_ID": "0", "RANK_SIZE": "2"}
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"rank": None, "role": "scheduler", "env": {**cluster, **ranks, "MS_ROLE": "MS_SCHED"}},
        {
            "rank": 0,
            "env": {
                **cluster,
                **ranks,
                "MS_ROLE": "MS_WORKER",
                "MS_NODE_ID": "0",
                "LOCAL_RANK": "0",
                "MNFT_LOCAL_RANK": "0",
            },
        },
    ]


def test_rank_table_dry_run_waits_for_completed_then_prints_each_device(tmp_path):
    path = tmp_path / "hccl.json"
    path.write_text('{"status": "initializing"}')
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MNFT_", "MS_", "RANK_", "TERMINATION"))}
    env = {**base, **rank_table_env(path, 1), "MNFT_LAUNCH_DRY_RUN": "1"}
    proc = subprocess.Popen([*LAUNCH, "--dry-run", "train"], env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    # Handshake: complete the table only once launch says it waits for it (a sleep races a busy machine).
    first = proc.stdout.readline()
    tmp = tmp_path / "hccl.json.tmp"
    tmp.write_text(json.dumps(table(2, 8)))
    os.replace(tmp, path)
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    lines = [first.rstrip("\n"), *rest.splitlines()]
    assert lines[0].startswith("launch: waiting for rank table")
    processes = [json.loads(line) for line in lines[1:]]
    assert processes == [
        {
            "rank": 8 + d,
            "env": {
                "RANK_TABLE_FILE": str(path),
                "RANK_SIZE": "16",
                "RANK_ID": str(8 + d),
                "DEVICE_ID": str(d),
                "ASCEND_DEVICE_ID": str(d),
                "LOCAL_RANK": str(d),
                "MNFT_LOCAL_RANK": str(d),
            },
        }
        for d in range(8)
    ]


def test_env_var_alone_turns_on_dry_run(tmp_path):
    path = tmp_path / "hccl.json"
    path.write_text(json.dumps(table(2, 8)))
    result = run_launch(["eval"], {**rank_table_env(path, 0), "MNFT_LAUNCH_DRY_RUN": "1"})
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["rank"] for line in result.stdout.splitlines()] == list(range(8))


def test_missing_index_is_one_error_line_and_a_termination_message(tmp_path):
    path = tmp_path / "hccl.json"
    path.write_text(json.dumps(table(2, 8)))
    termination = tmp_path / "termination-log"
    termination.write_text("")
    env = {**rank_table_env(path, 2), "TERMINATION_MESSAGE_PATH": str(termination)}
    result = run_launch(["--dry-run", "train"], env)
    expected = (
        f"error: rank table {path} has 2 servers, "
        "so this pod's index 2 (MNFT_WORKER_INDEX) is missing from it"
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [expected]
    assert result.stdout == ""
    assert termination.read_text() == expected


def test_rank_table_timeout_is_a_transient_error(tmp_path):
    path = tmp_path / "hccl.json"
    path.write_text('{"status": "initializing"}')
    result = run_launch(["--dry-run", "train"], {**rank_table_env(path, 0), "MNFT_RANK_TABLE_TIMEOUT": "0.3"})
    assert result.returncode == 75  # EX_TEMPFAIL: the cluster did not form, the operator restarts the job
    assert result.stderr.splitlines()[-1].startswith(f"error: rank table {path} is not completed after 0.3 s")


def test_bad_env_is_an_error_naming_the_variable():
    result = run_launch(["--dry-run", "train"], {"MNFT_COMM_MODE": "dynamicCluster", "MS_WORKER_NUM": "x"})
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: environment variable MS_WORKER_NUM='x' must be an integer >= 1"
    ]


def test_usage_error_without_a_command():
    result = run_launch(["--dry-run"], {})
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "usage: mnft launch [--dry-run] <train|eval> ARGS..."
