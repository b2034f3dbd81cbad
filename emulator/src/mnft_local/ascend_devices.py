"""A simulated Ascend device plugin for the local kubelet: advertises `huawei.com/Ascend910` and gives
each pod that requests chips the annotation MindX's device plugin writes, which the operator turns into
the HCCL rank table."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mnft_operator.names import ASCEND_DEVICE_ANNOTATION

ASCEND_RESOURCE = "huawei.com/Ascend910"
ASCEND_DEVICES_PER_NODE = 8


def ascend_annotation(pod_name: str, server_id: str, count: int, slot: int) -> str:
    """The device plugin's annotation; `slot` (one per pod) keeps device IPs unique across pods."""
    devices = [
        {"device_id": str(d), "device_ip": f"192.168.{100 + d}.{101 + slot % 150}"} for d in range(count)
    ]
    return json.dumps({"pod_name": pod_name, "server_id": server_id, "devices": devices})


class AscendDevicePlugin:
    resource = ASCEND_RESOURCE
    capacity = ASCEND_DEVICES_PER_NODE

    def __init__(self) -> None:
        self._slots = 0

    def allocate(self, pod: Mapping[str, Any], count: int, node_ip: str) -> Mapping[str, str]:
        if ASCEND_DEVICE_ANNOTATION in (pod.get("metadata", {}).get("annotations") or {}):
            return {}
        value = ascend_annotation(pod["metadata"]["name"], node_ip, count, self._slots)
        self._slots += 1
        return {ASCEND_DEVICE_ANNOTATION: value}
