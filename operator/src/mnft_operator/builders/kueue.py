"""Kueue's plain pod-group integration on the worker pods (a job labelled `kueue.x-k8s.io/queue-name`).

The contract, from Kueue's "Run Plain Pods" page (https://kueue.sigs.k8s.io/docs/tasks/run/plain_pods/)
and KEP-976 (keps/976-plain-pods in kubernetes-sigs/kueue):
- every pod of the group carries the label `kueue.x-k8s.io/queue-name` (the LocalQueue), the label
  `kueue.x-k8s.io/pod-group-name` and the annotation `kueue.x-k8s.io/pod-group-total-count`, consistently;
  Kueue builds one Workload (named like the group) once it has seen that many pods and admits it whole;
- the pods are gated by the scheduling gate `kueue.x-k8s.io/admission`, which Kueue's webhook injects and
  Kueue's pod reconciler removes on admission. We create the pods with the gate already set (the webhook
  adds it only when absent), so a pod is never schedulable before Kueue has seen it; we never remove it;
- Kueue does not re-create failed pods: replacement pods (any name) that point to the same group reuse its
  admission. A whole-job restart's pods therefore keep the group name (one group per job: the job's name
  plus its uid's first 8 characters, so a re-created job of the same name never joins a stale Workload);
- the group is finished when as many pods succeeded as the total count, or, when it will not be retried,
  once no pod is pending or running and a terminated pod carries `kueue.x-k8s.io/retriable-in-group:
  "false"`: the planner annotates the job's pods so when the job fails for good.
"""

from __future__ import annotations

from typing import Any

from mnft_operator.spec import KUEUE_QUEUE_LABEL, Job

QUEUE_LABEL = KUEUE_QUEUE_LABEL
GROUP_NAME_LABEL = "kueue.x-k8s.io/pod-group-name"
GROUP_TOTAL_COUNT_ANNOTATION = "kueue.x-k8s.io/pod-group-total-count"
ADMISSION_GATE = "kueue.x-k8s.io/admission"
RETRIABLE_ANNOTATION = "kueue.x-k8s.io/retriable-in-group"


def group_name(job: Job) -> str:
    """The pod group of every generation of the job (at most 51 + 9 characters: a valid label value)."""
    return f"{job.name}-{job.uid[:8]}" if job.uid else job.name


def add_kueue_fields(job: Job, meta: dict[str, Any], pod_spec: dict[str, Any]) -> None:
    """Put the pod into the job's Kueue pod group (no-op without the queue-name label)."""
    queue = job.spec.scheduling.kueue_queue
    if queue is None:
        return
    meta.setdefault("labels", {}).update({QUEUE_LABEL: queue, GROUP_NAME_LABEL: group_name(job)})
    meta.setdefault("annotations", {})[GROUP_TOTAL_COUNT_ANNOTATION] = str(job.spec.workers)
    gates = pod_spec.setdefault("schedulingGates", [])
    if not any(g.get("name") == ADMISSION_GATE for g in gates):
        gates.append({"name": ADMISSION_GATE})


def not_retriable_patch(job: Job, pod: str) -> dict[str, Any]:
    """The Plan update marking pod `pod` `retriable-in-group: "false"`: the group is finished for Kueue."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": pod, "namespace": job.namespace, "annotations": {RETRIABLE_ANNOTATION: "false"}},
    }
