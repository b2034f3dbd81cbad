"""The local kubelet's Node object and the simulated Ascend device plugin's pod annotation. Pure."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mnft_operator.local.kubelet_status import rfc3339

ASCEND_RESOURCE = "huawei.com/Ascend910"
ASCEND_ANNOTATION = "ascend.kubectl.kubernetes.io/ascend-910-configuration"
ASCEND_DEVICES_PER_NODE = 8
NODE_IP = "127.0.0.1"


def memory_kib() -> int:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def node_capacity(cpus: int, mem_kib: int, simulate_ascend: bool) -> dict[str, str]:
    capacity = {"cpu": str(cpus), "memory": f"{mem_kib}Ki", "pods": "110", "ephemeral-storage": "0"}
    if simulate_ascend:
        capacity[ASCEND_RESOURCE] = str(ASCEND_DEVICES_PER_NODE)
    return capacity


def node_object(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "node.kubernetes.io/instance-type": "mnft-local",
            },
        },
        "spec": {},
    }


def node_status(capacity: Mapping[str, str], now: datetime) -> dict[str, Any]:
    stamp = rfc3339(now)
    uname = os.uname()
    ok = {"lastHeartbeatTime": stamp, "lastTransitionTime": stamp}
    return {
        "capacity": dict(capacity),
        "allocatable": dict(capacity),
        "addresses": [
            {"type": "InternalIP", "address": NODE_IP},
            {"type": "Hostname", "address": "localhost"},
        ],
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "KubeletReady",
                "message": "mnft local kubelet is ready",
            }
            | ok,
            *(
                {"type": kind, "status": "False", "reason": f"KubeletHas{reason}", "message": ""} | ok
                for kind, reason in (
                    ("MemoryPressure", "SufficientMemory"),
                    ("DiskPressure", "NoDiskPressure"),
                    ("PIDPressure", "SufficientPID"),
                )
            ),
        ],
        "nodeInfo": {  # every field: the kubernetes client refuses a NodeSystemInfo missing one
            "architecture": uname.machine,
            "bootID": _read_id("/proc/sys/kernel/random/boot_id"),
            "containerRuntimeVersion": "mnft://local-processes",
            "kernelVersion": uname.release,
            "kubeProxyVersion": "",
            "kubeletVersion": "v1.35.0-mnft",
            "machineID": _read_id("/etc/machine-id"),
            "operatingSystem": "linux",
            "osImage": uname.sysname,
            "systemUUID": _read_id("/etc/machine-id"),
        },
    }


def _read_id(path: str) -> str:
    try:
        with open(path) as source:
            return source.read().strip()
    except OSError:
        return ""


def requested_ascend_devices(pod: Mapping[str, Any]) -> int:
    """Devices the pod asks for (limits, else requests), summed over its containers."""
    total = 0
    for container in (pod.get("spec") or {}).get("containers") or []:
        resources = container.get("resources") or {}
        value = (resources.get("limits") or {}).get(ASCEND_RESOURCE)
        if value is None:
            value = (resources.get("requests") or {}).get(ASCEND_RESOURCE)
        if value is not None:
            total += int(str(value))
    return total


def ascend_annotation(pod_name: str, server_id: str, count: int, slot: int) -> str:
    """The device plugin's annotation; `slot` (one per pod) keeps device IPs unique across pods."""
    devices = [
        {"device_id": str(d), "device_ip": f"192.168.{100 + d}.{101 + slot % 150}"} for d in range(count)
    ]
    return json.dumps({"pod_name": pod_name, "server_id": server_id, "devices": devices})
