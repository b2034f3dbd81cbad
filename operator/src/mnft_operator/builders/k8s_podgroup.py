"""Kubernetes' own gang scheduling (scheduling.gang: kubernetes): a `scheduling.k8s.io/v1beta1` PodGroup.

Shape from the Kubernetes 1.37 API (io.k8s.api.scheduling.v1beta1.PodGroup, beta behind the
GenericWorkload feature gate): `spec.schedulingPolicy.gang.minCount` makes the scheduler admit the group all
or nothing; pods join it through `spec.schedulingGroup.podGroupName` (io.k8s.api.core.v1.PodSchedulingGroup).
`disruptionMode: {all: {}}`: the job restarts whole, so its pods are disrupted (preempted) together.
One PodGroup per generation, `<job>-gang-<restarts>`: a whole-job restart's pods form a new group (the
spec is immutable once scheduled), and the planner deletes the groups of other generations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mnft_operator.names import child_metadata
from mnft_operator.spec import Job

K8S_PODGROUP_API_VERSION = "scheduling.k8s.io/v1beta1"
KUBERNETES_GANG = "kubernetes"


def uses_kubernetes_gang(job: Mapping[str, Any]) -> bool:
    """Whether a MobileNetFineTune as read asks for this gang (only then are these PodGroups listed)."""
    scheduling = (job.get("spec") or {}).get("scheduling")
    return isinstance(scheduling, Mapping) and scheduling.get("gang") == KUBERNETES_GANG


def k8s_podgroup_name(job_name: str, generation: int) -> str:
    return f"{job_name}-gang-{generation}"


def build_k8s_podgroup(job: Job, generation: int) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "schedulingPolicy": {"gang": {"minCount": job.spec.scheduling.min_available}},
        "disruptionMode": {"all": {}},
    }
    if job.spec.priority_class_name:
        spec["priorityClassName"] = job.spec.priority_class_name
    return {
        "apiVersion": K8S_PODGROUP_API_VERSION,
        "kind": "PodGroup",
        "metadata": child_metadata(job.name, job.namespace, job.uid, k8s_podgroup_name(job.name, generation)),
        "spec": spec,
    }


def add_scheduling_group(job: Job, generation: int, pod_spec: dict[str, Any]) -> None:
    """Make the pod a member of its generation's PodGroup (no-op unless scheduling.gang is kubernetes)."""
    if job.spec.scheduling.gang == KUBERNETES_GANG:
        pod_spec["schedulingGroup"] = {"podGroupName": k8s_podgroup_name(job.name, generation)}
