"""A pod's QoS class, computed once for the embedded API (on create) and the local kubelet (its status)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def qos_class(pod: Mapping[str, Any]) -> str:
    """Guaranteed (cpu and memory limits, requests equal to them), BestEffort (no cpu/memory requests or
    limits) or Burstable, from the pod's containers as the API server computes it."""
    spec = pod.get("spec") or {}
    containers = list(spec.get("initContainers") or []) + list(spec.get("containers") or [])
    guaranteed, best_effort = True, True
    for container in containers:
        resources = container.get("resources") or {}
        limits = resources.get("limits") or {}
        requests = {**limits, **(resources.get("requests") or {})}  # unset requests default to limits
        for name in ("cpu", "memory"):
            if name in limits or name in requests:
                best_effort = False
            if name not in limits or str(requests.get(name)) != str(limits[name]):
                guaranteed = False
    if best_effort:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
