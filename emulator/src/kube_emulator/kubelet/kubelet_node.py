"""The local kubelet's Node object. Pure."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kube_emulator.kubelet.kubelet_status import rfc3339

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


def node_capacity(cpus: int, mem_kib: int, extended: Mapping[str, int] | None = None) -> dict[str, str]:
    """`extended`: device plugins' resources (name -> devices on the node)."""
    capacity = {"cpu": str(cpus), "memory": f"{mem_kib}Ki", "pods": "110", "ephemeral-storage": "0"}
    capacity.update({name: str(count) for name, count in (extended or {}).items()})
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
