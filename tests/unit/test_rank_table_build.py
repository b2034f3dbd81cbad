"""hccl.json from device-plugin annotations: 1/2/4/8 devices x 1-4 workers, replaced pods, gaps."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mnft_operator.rank_table import build_rank_table

ANNOTATION = "ascend.kubectl.kubernetes.io/ascend-910-configuration"
NPU_ANNOTATION = "ascend.kubectl.kubernetes.io/ascend-npu-configuration"


def pod(index: int, devices: int | None, uid: str = "", ip: str | None = "auto") -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": f"j-worker-{index}",
        "uid": uid or f"uid-{index}",
        "labels": {"finetune.mindspore.io/replica-index": str(index)},
    }
    if devices is not None:
        info = {
            "pod_name": meta["name"],
            "server_id": f"10.0.0.{index + 1}",
            "host_ip": f"10.0.0.{index + 1}",
            "devices": [
                {"device_id": str(d), "device_ip": f"192.168.{d}.{index + 1}"} for d in range(devices)
            ],
        }
        meta["annotations"] = {ANNOTATION: json.dumps(info)}
    status = {} if ip is None else {"podIP": f"10.244.{index}.5" if ip == "auto" else ip}
    return {"metadata": meta, "status": status}


def expected(workers: int, devices: int) -> dict[str, Any]:
    return {
        "status": "completed",
        "version": "1.0",
        "server_count": str(workers),
        "server_list": [
            {
                "server_id": f"10.0.0.{i + 1}",
                "host_ip": f"10.0.0.{i + 1}",
                "container_ip": f"10.244.{i}.5",
                "device": [
                    {
                        "device_id": str(d),
                        "device_ip": f"192.168.{d}.{i + 1}",
                        "rank_id": str(i * devices + d),
                    }
                    for d in range(devices)
                ],
            }
            for i in range(workers)
        ],
    }


@pytest.mark.parametrize("devices", [1, 2, 4, 8])
@pytest.mark.parametrize("workers", [1, 2, 3, 4])
def test_completed_table(workers: int, devices: int) -> None:
    pods = [pod(i, devices) for i in reversed(range(workers))]  # order of the list must not matter
    table = build_rank_table(pods, workers, devices)
    assert table.completed
    assert table.table == expected(workers, devices)
    assert json.loads(table.to_json()) == expected(workers, devices)
    assert (table.annotated, table.problems) == (workers, ())


def test_exact_two_by_two() -> None:
    assert build_rank_table([pod(0, 2), pod(1, 2)], 2, 2).table == {
        "status": "completed",
        "version": "1.0",
        "server_count": "2",
        "server_list": [
            {
                "server_id": "10.0.0.1",
                "host_ip": "10.0.0.1",
                "container_ip": "10.244.0.5",
                "device": [
                    {"device_id": "0", "device_ip": "192.168.0.1", "rank_id": "0"},
                    {"device_id": "1", "device_ip": "192.168.1.1", "rank_id": "1"},
                ],
            },
            {
                "server_id": "10.0.0.2",
                "host_ip": "10.0.0.2",
                "container_ip": "10.244.1.5",
                "device": [
                    {"device_id": "0", "device_ip": "192.168.0.2", "rank_id": "2"},
                    {"device_id": "1", "device_ip": "192.168.1.2", "rank_id": "3"},
                ],
            },
        ],
    }


def test_missing_annotation_pod_or_ip_keeps_initializing() -> None:
    for pods in ([pod(0, 8), pod(1, None)], [pod(0, 8)], [pod(0, 8), pod(1, 8, ip=None)], []):
        table = build_rank_table(pods, 2, 8)
        assert table.table == {"status": "initializing"}
        assert not table.completed
        assert table.problems == ()
    assert build_rank_table([pod(0, 8), pod(1, None)], 2, 8).annotated == 1


def test_wrong_device_count_and_bad_json_are_reported() -> None:
    bad = pod(1, 8)
    bad["metadata"]["annotations"][ANNOTATION] = "{not json"
    table = build_rank_table([pod(0, 4), bad], 2, 8)
    assert table.table == {"status": "initializing"}
    assert table.problems == (
        "j-worker-0: device plugin assigned 4 devices, expected 8",
        f"j-worker-1: {ANNOTATION} is not valid JSON with server_id and devices",
    )


def test_replaced_pod_goes_back_to_initializing_and_changes_version() -> None:
    first = build_rank_table([pod(0, 8), pod(1, 8)], 2, 8)
    replaced_unannotated = build_rank_table([pod(0, 8), pod(1, None, uid="uid-1b")], 2, 8)
    replaced = build_rank_table([pod(0, 8), pod(1, 8, uid="uid-1b")], 2, 8)
    assert replaced_unannotated.table == {"status": "initializing"}
    assert replaced.table == first.table  # same devices, same content ...
    versions = {first.version, replaced_unannotated.version, replaced.version}
    assert len(versions) == 3  # ... but every rebuild has its own version
    assert build_rank_table([pod(0, 8), pod(1, 8)], 2, 8).version == first.version  # deterministic


def test_pods_outside_the_worker_range_are_ignored() -> None:
    table = build_rank_table([pod(0, 1), pod(5, 1)], 1, 1)
    assert table.table == expected(1, 1)


def test_escaped_annotation_values_stay_valid_json() -> None:
    odd = pod(0, 1)
    odd["metadata"]["annotations"][ANNOTATION] = (
        '{"server_id": "node\\"a\\u0031", "devices": [{"device_id": 0, "device_ip": "192.168.0.\\u0031"}]}'
    )
    table = build_rank_table([odd], 1, 1)
    assert table.table["server_list"] == [
        {
            "server_id": 'node"a1',
            "host_ip": "",
            "container_ip": "10.244.0.5",
            "device": [{"device_id": "0", "device_ip": "192.168.0.1", "rank_id": "0"}],
        }
    ]


def test_npu_plugin_annotation_is_read_too() -> None:
    npu = pod(0, 2)
    npu["metadata"]["annotations"] = {NPU_ANNOTATION: npu["metadata"]["annotations"][ANNOTATION]}
    assert build_rank_table([npu], 1, 2).table == expected(1, 2)


def test_host_ip_falls_back_to_the_pods_node_ip() -> None:
    # Older device plugins wrote no host_ip; the pod's status.hostIP is the same node address.
    old = pod(0, 1)
    info = json.loads(old["metadata"]["annotations"][ANNOTATION])
    del info["host_ip"]
    old["metadata"]["annotations"][ANNOTATION] = json.dumps(info)
    old["status"]["hostIP"] = "172.16.0.9"
    assert build_rank_table([old], 1, 1).table["server_list"][0]["host_ip"] == "172.16.0.9"


def test_a_v1_table_has_every_field_mindx_writes() -> None:
    # mind-cluster ascend-operator pkg/ranktable/common: BaseGenerator, Server, Device for version 1.0
    # (hardware_type is MindIE-only and super_device_id is version 1.2's).
    table = build_rank_table([pod(0, 8)], 1, 8).table
    assert set(table) == {"status", "version", "server_count", "server_list"}
    assert set(table["server_list"][0]) == {"server_id", "host_ip", "container_ip", "device"}
    assert {frozenset(d) for d in table["server_list"][0]["device"]} == {
        frozenset({"device_id", "device_ip", "rank_id"})
    }
