"""The planner's gang-scheduling and Kueue decisions, as pure functions of the job and what exists.

`scheduling.gang: kubernetes` keeps one PodGroup per generation (builders/k8s_podgroup.py); a job queued
through Kueue (builders/kueue.py) reports Admitted while its pods carry Kueue's scheduling gate, and on a
final failure marks its pods not retriable so Kueue finishes the group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mnft_operator.builders import kueue
from mnft_operator.builders.k8s_podgroup import (
    K8S_PODGROUP_API_VERSION,
    KUBERNETES_GANG,
    build_k8s_podgroup,
    k8s_podgroup_name,
)
from mnft_operator.pod_state import is_deleting, name_of, scheduling_gates
from mnft_operator.spec import Job
from mnft_operator.types import ObjectRef


def group_changes(
    job: Job, generation: int, groups: Sequence[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], list[ObjectRef]]:
    """scheduling.gang kubernetes: this generation's PodGroup to create (before its pods, in the same
    create batch) when absent, and the other generations' (of the owned `groups`) to delete."""
    if job.spec.scheduling.gang != KUBERNETES_GANG:
        return [], []
    current = k8s_podgroup_name(job.name, generation)
    create = [] if current in {name_of(g) for g in groups} else [build_k8s_podgroup(job, generation)]
    delete = [
        ObjectRef(K8S_PODGROUP_API_VERSION, "PodGroup", name_of(group))
        for group in groups
        if name_of(group) != current and not is_deleting(group)
    ]
    return create, delete


def admission(job: Job, current: Mapping[int, Mapping[str, Any]]) -> tuple[bool, str, str] | None:
    """Admitted as (status, reason, message) for a job queued through Kueue, given this generation's pods
    by index: False/WaitingForAdmission while one still carries Kueue's scheduling gate, True once all
    exist ungated; None when nothing is to be said (not queued, or pods still missing)."""
    queue = job.spec.scheduling.kueue_queue
    if queue is None:
        return None
    group = kueue.group_name(job)
    gated = [p for p in current.values() if kueue.ADMISSION_GATE in scheduling_gates(p)]
    if gated:
        message = (
            f"{len(gated)}/{job.spec.workers} worker pods are gated by {kueue.ADMISSION_GATE}: waiting "
            f"for Kueue to admit pod group {group} (LocalQueue {queue})"
        )
        return False, "WaitingForAdmission", message
    if len(current) == job.spec.workers:
        return True, "Admitted", f"Kueue admitted pod group {group} (LocalQueue {queue})"
    return None


def not_retriable_patches(job: Job, pods: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """On a final failure: mark the job's pods `retriable-in-group: "false"` so Kueue finishes the group
    (and frees its quota) once none is pending or running; it never expects replacements."""
    if job.spec.scheduling.kueue_queue is None:
        return []
    return [
        kueue.not_retriable_patch(job, name_of(pod))
        for pod in pods
        if ((pod.get("metadata") or {}).get("annotations") or {}).get(kueue.RETRIABLE_ANNOTATION) != "false"
    ]
