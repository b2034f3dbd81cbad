"""What the local kubelet needs of a device plugin: a resource it advertises on the node, and the
annotations it puts on a pod that requests that resource before the pod's containers start (as a real
device plugin's allocation does, e.g. Ascend's `ascend-910-configuration`). The emulator ships none;
callers pass their own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class DevicePlugin(Protocol):
    resource: str  # the extended resource name, e.g. "example.com/gpu"
    capacity: int  # devices of that resource on the node

    def allocate(self, pod: Mapping[str, Any], count: int, node_ip: str) -> Mapping[str, str]:
        """Annotations for a pod that requests `count` (> 0) devices; called once per pod."""
        ...


def requested(pod: Mapping[str, Any], resource: str) -> int:
    """Devices of `resource` the pod asks for (limits, else requests), summed over its containers."""
    total = 0
    for container in (pod.get("spec") or {}).get("containers") or []:
        resources = container.get("resources") or {}
        value = (resources.get("limits") or {}).get(resource)
        if value is None:
            value = (resources.get("requests") or {}).get(resource)
        if value is not None:
            total += int(str(value))
    return total
