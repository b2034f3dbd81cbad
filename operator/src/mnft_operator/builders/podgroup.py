"""The Volcano PodGroup `<job>` (scheduling.gang: volcano): the workers are scheduled all or none."""

from __future__ import annotations

from typing import Any

from mnft_operator.names import child_metadata
from mnft_operator.spec import Job

PODGROUP_API_VERSION = "scheduling.volcano.sh/v1beta1"


def build_podgroup(job: Job) -> dict[str, Any]:
    spec: dict[str, Any] = {"minMember": job.spec.scheduling.min_available}
    if job.spec.scheduling.queue:
        spec["queue"] = job.spec.scheduling.queue
    if job.spec.priority_class_name:
        spec["priorityClassName"] = job.spec.priority_class_name
    return {
        "apiVersion": PODGROUP_API_VERSION,
        "kind": "PodGroup",
        "metadata": child_metadata(job.name, job.namespace, job.uid, job.name),
        "spec": spec,
    }
