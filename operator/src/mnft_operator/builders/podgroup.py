"""The Volcano PodGroup `<job>` (scheduling.gang: volcano): the workers are scheduled all or none.

`minResources` is what `minMember` pods request together (Volcano's job controller fills it the same way
from its tasks): Volcano does not start the group until that much is free, instead of binding part of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kube_schema import quantity
from mnft_operator.builders.pods import build_pod
from mnft_operator.names import child_metadata
from mnft_operator.spec import Job

PODGROUP_API_VERSION = "scheduling.volcano.sh/v1beta1"


def build_podgroup(job: Job) -> dict[str, Any]:
    spec: dict[str, Any] = {"minMember": job.spec.scheduling.min_available}
    if job.spec.scheduling.queue:
        spec["queue"] = job.spec.scheduling.queue
    if job.spec.priority_class_name:
        spec["priorityClassName"] = job.spec.priority_class_name
    per_pod = pod_requests(build_pod(job, 0, 0))
    if per_pod:
        count = job.spec.scheduling.min_available
        spec["minResources"] = {
            name: _quantity(amount * count, fmt) for name, (amount, fmt) in sorted(per_pod.items())
        }
    return {
        "apiVersion": PODGROUP_API_VERSION,
        "kind": "PodGroup",
        "metadata": child_metadata(job.name, job.namespace, job.uid, job.name),
        "spec": spec,
    }


_BINARY_SUFFIXES = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")


def _quantity(amount: Decimal, fmt: str) -> str:
    """The canonical string of `amount` in format `fmt` (a sum keeps its terms' format, like apimachinery)."""
    if fmt == "BinarySI" and amount == amount.to_integral_value():
        power = 0
        while power < len(_BINARY_SUFFIXES) - 1 and amount % 1024 ** (power + 1) == 0:
            power += 1
        return quantity.canonical(f"{int(amount) // 1024**power}{_BINARY_SUFFIXES[power]}")
    return quantity.canonical(format(amount, "f"))


def _container_requests(container: Mapping[str, Any]) -> dict[str, tuple[Decimal, str]]:
    """A container's requests as the API server defaults them: a limit without a request requests it."""
    resources = container.get("resources") or {}
    merged = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
    return {name: quantity.parse(value) for name, value in merged.items()}


def pod_requests(pod: Mapping[str, Any]) -> dict[str, tuple[Decimal, str]]:
    """A pod's effective requests (what the scheduler counts) with their quantity format: per resource,
    the larger of the containers' sum and the largest init container's request (init containers run one
    at a time, before them)."""
    spec = pod.get("spec") or {}
    total: dict[str, tuple[Decimal, str]] = {}
    for container in spec.get("containers") or []:
        for name, (amount, fmt) in _container_requests(container).items():
            before, first = total.get(name, (Decimal(0), fmt))
            total[name] = (before + amount, first)
    for container in spec.get("initContainers") or []:
        for name, (amount, fmt) in _container_requests(container).items():
            before, first = total.get(name, (Decimal(0), fmt))
            total[name] = (max(before, amount), first)
    return total
