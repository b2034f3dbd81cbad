"""`mnft launch`'s pure planning: which processes a pod starts and with which variables."""

from __future__ import annotations

import pytest

from mnft_trainer.pod.launch import LaunchError, ProcessSpec, comm_mode, plan_processes


def dynamic_env(**extra: str) -> dict[str, str]:
    env = {
        "MNFT_PLATFORM": "CPU",
        "MNFT_COMM_MODE": "dynamicCluster",
        "MNFT_WORKERS": "2",
        "MNFT_DEVICES_PER_WORKER": "2",
        "MNFT_WORKER_INDEX": "0",
        "MNFT_NODE_RANK": "0",
        "MNFT_LOCAL_WORKER_NUM": "2",
        "MS_SCHED_HOST": "job-worker-0.job.ns.svc",
        "MS_SCHED_PORT": "8118",
        "MS_WORKER_NUM": "4",
    }
    env.update(extra)
    return env


CLUSTER = {
    "MS_SCHED_HOST": "job-worker-0.job.ns.svc",
    "MS_SCHED_PORT": "8118",
    "MS_WORKER_NUM": "4",
    "MS_TOPO_TIMEOUT": "600",
}
SCHEDULER = ProcessSpec(None, {**CLUSTER, "MS_ROLE": "MS_SCHED", "RANK_ID": "0", "RANK_SIZE": "4"})


def ranks(rank: int, local: int, size: int) -> dict[str, str]:
    """The msrun-style rank variables every training process gets."""
    return {
        "RANK_ID": str(rank),
        "RANK_SIZE": str(size),
        "LOCAL_RANK": str(local),
        "MNFT_LOCAL_RANK": str(local),
    }


def worker(rank: int, local: int, **extra: str) -> ProcessSpec:
    env = {**CLUSTER, "MS_ROLE": "MS_WORKER", "MS_NODE_ID": str(rank), **ranks(rank, local, 4)}
    return ProcessSpec(rank, {**env, **extra})


def test_dynamic_cluster_node_0_starts_scheduler_and_its_ranks():
    assert plan_processes(dynamic_env()) == [
        SCHEDULER,
        worker(0, 0),
        worker(1, 1),
    ]


def test_dynamic_cluster_node_1_has_global_ranks_and_no_scheduler():
    env = dynamic_env(MNFT_WORKER_INDEX="1", MNFT_NODE_RANK="1")
    assert plan_processes(env) == [worker(2, 0), worker(3, 1)]


def test_gpu_processes_each_see_one_gpu():
    env = dynamic_env(MNFT_PLATFORM="GPU", MNFT_NODE_RANK="1")
    assert plan_processes(env) == [
        worker(2, 0, CUDA_VISIBLE_DEVICES="0", DEVICE_ID="0"),
        worker(3, 1, CUDA_VISIBLE_DEVICES="1", DEVICE_ID="0"),
    ]


def test_gpu_processes_map_onto_the_containers_visible_gpus():
    env = dynamic_env(MNFT_PLATFORM="GPU", MNFT_NODE_RANK="1", CUDA_VISIBLE_DEVICES="GPU-a,GPU-b")
    assert [p.env["CUDA_VISIBLE_DEVICES"] for p in plan_processes(env)] == ["GPU-a", "GPU-b"]


def test_gpu_with_too_few_visible_gpus_is_an_error():
    env = dynamic_env(MNFT_PLATFORM="GPU", CUDA_VISIBLE_DEVICES="0")
    with pytest.raises(LaunchError, match="CUDA_VISIBLE_DEVICES='0' lists 1 GPUs"):
        plan_processes(env)


def test_one_pod_without_scheduler_host_runs_a_local_scheduler_on_a_free_port():
    env = {"MNFT_DEVICES_PER_WORKER": "2"}
    cluster = {
        "MS_SCHED_HOST": "127.0.0.1",
        "MS_SCHED_PORT": "40123",
        "MS_WORKER_NUM": "2",
        "MS_TOPO_TIMEOUT": "600",
    }
    assert plan_processes(env, free_port=lambda: 40123) == [
        ProcessSpec(None, {**cluster, "MS_ROLE": "MS_SCHED", "RANK_ID": "0", "RANK_SIZE": "2"}),
        ProcessSpec(0, {**cluster, "MS_ROLE": "MS_WORKER", "MS_NODE_ID": "0", **ranks(0, 0, 2)}),
        ProcessSpec(1, {**cluster, "MS_ROLE": "MS_WORKER", "MS_NODE_ID": "1", **ranks(1, 1, 2)}),
    ]


def test_a_single_process_job_needs_no_scheduler():
    env = dynamic_env(
        MNFT_WORKERS="1", MNFT_DEVICES_PER_WORKER="1", MNFT_LOCAL_WORKER_NUM="1", MS_WORKER_NUM="1"
    )
    assert plan_processes(env) == [ProcessSpec(0, ranks(0, 0, 1))]


def test_no_environment_at_all_is_one_plain_process():
    assert comm_mode({}) == "single"
    assert plan_processes({}) == [ProcessSpec(0, ranks(0, 0, 1))]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"MNFT_PLATFORM": "TPU"}, "MNFT_PLATFORM='TPU' must be CPU, GPU or Ascend"),
        ({"MNFT_COMM_MODE": "auto"}, "MNFT_COMM_MODE='auto' must be dynamicCluster or rankTable"),
        ({"MS_WORKER_NUM": "four"}, "MS_WORKER_NUM='four' must be an integer >= 1"),
        ({"MS_WORKER_NUM": "3"}, "MS_WORKER_NUM=3 but MNFT_WORKERS x MNFT_LOCAL_WORKER_NUM is 2 x 2"),
        ({"MNFT_NODE_RANK": "2"}, "MS_WORKER_NUM=4 is too small for node rank 2"),
        ({"MS_SCHED_PORT": "70000"}, "MS_SCHED_PORT=70000 is not a TCP port"),
        ({"MS_SCHED_HOST": ""}, "MS_SCHED_HOST is not set"),
    ],
)
def test_bad_dynamic_cluster_env_names_the_variable(extra, message):
    with pytest.raises(LaunchError) as info:
        plan_processes(dynamic_env(**extra))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def table_2x8() -> dict:
    return {
        "status": "completed",
        "version": "1.0",
        "server_count": "2",
        "server_list": [
            {
                "server_id": f"10.0.0.{s + 1}",
                "container_ip": f"10.244.{s + 1}.5",
                "device": [
                    {"device_id": str(d), "device_ip": f"192.168.{s}.{100 + d}", "rank_id": str(s * 8 + d)}
                    for d in range(8)
                ],
            }
            for s in range(2)
        ],
    }


def rank_table_env(index: int) -> dict[str, str]:
    return {
        "MNFT_PLATFORM": "Ascend",
        "MNFT_COMM_MODE": "rankTable",
        "MNFT_WORKERS": "2",
        "MNFT_DEVICES_PER_WORKER": "8",
        "MNFT_WORKER_INDEX": str(index),
        "RANK_TABLE_FILE": "/user/serverid/devindex/config/hccl.json",
        "RANK_SIZE": "16",
    }


@pytest.mark.parametrize("index", [0, 1])
def test_rank_table_2_servers_x_8_devices(index):
    table_file = {"RANK_TABLE_FILE": "/user/serverid/devindex/config/hccl.json"}
    expected = [
        ProcessSpec(
            index * 8 + d,
            {**table_file, **ranks(index * 8 + d, d, 16), "DEVICE_ID": str(d), "ASCEND_DEVICE_ID": str(d)},
        )
        for d in range(8)
    ]
    assert plan_processes(rank_table_env(index), table_2x8()) == expected


def test_rank_ids_come_from_the_table_and_devices_go_in_chip_order():
    table = table_2x8()
    # A table whose devices are listed out of order: each process still gets its device's own rank, and
    # the logical DEVICE_ID is the chip's place in ascending physical order.
    table["server_list"][1]["device"].reverse()
    specs = plan_processes(rank_table_env(1), table)
    assert [(s.env["RANK_ID"], s.env["DEVICE_ID"]) for s in specs] == [(str(8 + d), str(d)) for d in range(8)]


def test_a_device_listed_twice_is_an_error():
    table = table_2x8()
    table["server_list"][0]["device"][1]["device_id"] = "0"
    with pytest.raises(LaunchError, match=r"lists a device_id twice in server_list\[0\]"):
        plan_processes(rank_table_env(0), table)


@pytest.mark.parametrize(
    ("visible", "count"), [("0,1,2", 3), ("0-2", 3), ("Ascend910-4,Ascend910-5,Ascend910-6", 3)]
)
def test_fewer_visible_npus_than_processes_is_an_error(visible, count):
    env = {**rank_table_env(0), "ASCEND_VISIBLE_DEVICES": visible}
    with pytest.raises(LaunchError, match=f"ASCEND_VISIBLE_DEVICES='{visible}' lists {count} NPUs"):
        plan_processes(env, table_2x8())


def test_bad_topology_timeout_names_the_variable():
    with pytest.raises(LaunchError, match="MS_TOPO_TIMEOUT='soon' must be an integer >= 1"):
        plan_processes(dynamic_env(MS_TOPO_TIMEOUT="soon"))


@pytest.mark.parametrize(
    ("env_extra", "message"),
    [
        ({"MNFT_WORKER_INDEX": "2"}, "has 2 servers, so this pod's index 2 (MNFT_WORKER_INDEX) is missing"),
        ({"RANK_SIZE": "8"}, "RANK_SIZE=8 but rank table /user/serverid/devindex/config/hccl.json lists 16"),
        ({"MNFT_DEVICES_PER_WORKER": "4"}, "gives server_list[0] 8 devices but MNFT_DEVICES_PER_WORKER is 4"),
    ],
)
def test_rank_table_mismatches_are_one_line_errors(env_extra, message):
    with pytest.raises(LaunchError) as info:
        plan_processes({**rank_table_env(0), **env_extra}, table_2x8())
    assert message in str(info.value)


def test_rank_table_with_a_bad_device_entry_names_it():
    table = table_2x8()
    table["server_list"][0]["device"][3]["rank_id"] = "three"
    with pytest.raises(LaunchError, match=r"server_list\[0\]\.device\[3\]\.rank_id is 'three'"):
        plan_processes(rank_table_env(0), table)
