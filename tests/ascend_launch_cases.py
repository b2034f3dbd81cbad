"""Ascend jobs as the operator renders them, with the rank table it builds, for `mnft launch` tests.

A case is workers x devicesPerWorker on chips `first_chip`.. of each server, in rankTable or
dynamicCluster mode. The pods come from `mnft render`'s code path; the device plugin's annotation
(MindX format: server_id, host_ip, devices with physical device_id and device_ip) and the pod IP are
added the way the plugin and kubelet would, and the table is the operator's `build_rank_table`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mnft_operator.rank_table import build_rank_table
from mnft_operator.render_cli import render

ANNOTATION = "ascend.kubectl.kubernetes.io/ascend-910-configuration"

# (workers, devicesPerWorker, first chip): 1x4 on chips 4-7 is half a server given to a job.
SHAPES = [(1, 1, 0), (1, 2, 0), (1, 4, 4), (1, 8, 0), (2, 8, 0)]
MODES = ["rankTable", "dynamicCluster"]


@dataclass(frozen=True)
class Case:
    workers: int
    devices: int
    first_chip: int
    mode: str
    pod_envs: list[dict[str, str]]  # each worker pod's trainer env (plain values)
    table: dict[str, Any] | None  # the completed hccl.json (rankTable mode)

    @property
    def id(self) -> str:
        return f"{self.workers}x{self.devices}-chips{self.first_chip}-{self.mode}"


def case(workers: int, devices: int, first_chip: int, mode: str) -> Case:
    job = {
        "apiVersion": "finetune.mindspore.io/v1alpha1",
        "kind": "MobileNetFineTune",
        "metadata": {"name": "npu", "namespace": "ml"},
        "spec": {
            "platform": "Ascend",
            "image": "mnft-trainer:cann",
            "workers": workers,
            "devicesPerWorker": devices,
            "dataset": {"path": "/data"},
            "communication": {"mode": mode},
        },
    }
    pods = [o for o in render(job) if o["kind"] == "Pod"]
    for i, pod in enumerate(pods):
        chips = range(first_chip, first_chip + devices)
        info = {
            "pod_name": pod["metadata"]["name"],
            "server_id": f"10.0.0.{i + 1}",
            "host_ip": f"10.0.0.{i + 1}",
            "devices": [{"device_id": str(c), "device_ip": f"192.168.{100 + c}.{i + 1}"} for c in chips],
        }
        pod["metadata"].setdefault("annotations", {})[ANNOTATION] = json.dumps(info)
        pod["metadata"]["uid"] = f"uid-{i}"
        pod["status"] = {"phase": "Pending", "podIP": f"10.244.{i}.2", "hostIP": f"10.0.0.{i + 1}"}
    envs = [
        {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"] if "value" in e} for pod in pods
    ]
    table = None
    if mode == "rankTable":
        built = build_rank_table(pods, workers, devices)
        assert built.completed, built.problems
        table = built.table
    return Case(workers, devices, first_chip, mode, envs, table)


CASES = [case(w, d, c, m) for (w, d, c) in SHAPES for m in MODES]


def expected_devices(c: Case, index: int) -> list[dict[str, str]]:
    """What every process of pod `index` must get: its global rank, its local rank, and the logical
    DEVICE_ID (0..N-1 in the container) whatever the physical chip numbers are."""
    world = c.workers * c.devices
    return [
        {
            "RANK_ID": str(index * c.devices + local),
            "RANK_SIZE": str(world),
            "LOCAL_RANK": str(local),
            "DEVICE_ID": str(local),
            "ASCEND_DEVICE_ID": str(local),
        }
        for local in range(c.devices)
    ]


def device_view(env: dict[str, str]) -> dict[str, str]:
    keys = ("RANK_ID", "RANK_SIZE", "LOCAL_RANK", "DEVICE_ID", "ASCEND_DEVICE_ID")
    return {k: env[k] for k in keys if k in env}
