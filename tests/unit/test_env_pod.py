"""The pod environment of docs/architecture.md, per platform and communication mode."""

from __future__ import annotations

from typing import Any

from mnft_operator.env import pod_env
from mnft_operator.spec import parse


def env_of(spec: dict[str, Any], index: int) -> dict[str, str]:
    job = parse({"metadata": {"name": "j", "namespace": "team"}, "spec": spec})
    return {e["name"]: e["value"] for e in pod_env(job, index)}


COMMON = {"MNFT_JOB_NAME": "j", "MNFT_NAMESPACE": "team", "TERMINATION_MESSAGE_PATH": "/dev/termination-log"}


def test_gpu_dynamic_cluster_with_nccl_from_spec() -> None:
    spec = {
        "platform": "GPU",
        "image": "i",
        "workers": 3,
        "devicesPerWorker": 4,
        "dataset": {"path": "/d"},
        "env": [{"name": "NCCL_SOCKET_IFNAME", "value": "eth0"}, {"name": "NCCL_DEBUG", "value": "WARN"}],
    }
    assert env_of(spec, 2) == {
        **COMMON,
        "MNFT_PLATFORM": "GPU",
        "MNFT_WORKER_INDEX": "2",
        "MNFT_WORKERS": "3",
        "MNFT_DEVICES_PER_WORKER": "4",
        "MNFT_COMM_MODE": "dynamicCluster",
        "MS_SCHED_HOST": "j-worker-0.j.team.svc",
        "MS_SCHED_PORT": "8118",
        "MS_WORKER_NUM": "12",
        "MNFT_NODE_RANK": "2",
        "MNFT_LOCAL_WORKER_NUM": "4",
        "MS_TOPO_TIMEOUT": "600",
        "NCCL_SOCKET_IFNAME": "eth0",
        "NCCL_DEBUG": "WARN",
    }


def test_ascend_rank_table() -> None:
    spec = {
        "platform": "Ascend",
        "image": "i",
        "workers": 2,
        "devicesPerWorker": 8,
        "dataset": {"path": "/d"},
    }
    assert env_of(spec, 0) == {
        **COMMON,
        "MNFT_PLATFORM": "Ascend",
        "MNFT_WORKER_INDEX": "0",
        "MNFT_WORKERS": "2",
        "MNFT_DEVICES_PER_WORKER": "8",
        "MNFT_COMM_MODE": "rankTable",
        "RANK_TABLE_FILE": "/user/serverid/devindex/config/hccl.json",
        "RANK_SIZE": "16",
        "MNFT_RANK_TABLE_TIMEOUT": "600",
    }


def test_the_topology_timeout_setting_reaches_both_modes() -> None:
    base = {"image": "i", "dataset": {"path": "/d"}, "communication": {"timeoutSeconds": 90}}
    assert env_of({**base, "platform": "GPU"}, 0)["MS_TOPO_TIMEOUT"] == "90"
    assert env_of({**base, "platform": "Ascend"}, 0)["MNFT_RANK_TABLE_TIMEOUT"] == "90"


def test_ascend_can_opt_into_dynamic_cluster_and_cpu_defaults_to_one_process() -> None:
    ascend = {"platform": "Ascend", "image": "i", "dataset": {"path": "/d"}}
    ascend["communication"] = {"mode": "dynamicCluster", "schedulerPort": 9999}
    got = env_of(ascend, 0)
    assert (got["MNFT_COMM_MODE"], got["MS_SCHED_PORT"], got["MS_WORKER_NUM"]) == (
        "dynamicCluster",
        "9999",
        "1",
    )
    assert "RANK_TABLE_FILE" not in got
    cpu = env_of({"platform": "CPU", "image": "i", "dataset": {"path": "/d"}}, 0)
    assert (cpu["MNFT_DEVICES_PER_WORKER"], cpu["MNFT_LOCAL_WORKER_NUM"], cpu["MS_WORKER_NUM"]) == (
        "1",
        "1",
        "1",
    )
