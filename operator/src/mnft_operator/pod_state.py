"""Read facts from observed worker pods: index, generation, phase, readiness, worker counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mnft_operator.names import CONTAINER, GENERATION_LABEL, INDEX_LABEL

ACTIVE_PHASES = ("", "Pending", "Running", "Unknown")


def _label_int(pod: Mapping[str, Any], key: str) -> int | None:
    raw = ((pod.get("metadata") or {}).get("labels") or {}).get(key)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def index_of(pod: Mapping[str, Any]) -> int | None:
    return _label_int(pod, INDEX_LABEL)


def generation_of(pod: Mapping[str, Any]) -> int | None:
    return _label_int(pod, GENERATION_LABEL)


def name_of(pod: Mapping[str, Any]) -> str:
    return str((pod.get("metadata") or {}).get("name", ""))


def phase_of(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def is_deleting(pod: Mapping[str, Any]) -> bool:
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))


def is_active(pod: Mapping[str, Any]) -> bool:
    return phase_of(pod) in ACTIVE_PHASES


def is_ready(pod: Mapping[str, Any]) -> bool:
    """Running with the Ready condition True (a Running pod that reports no conditions counts as ready)."""
    if phase_of(pod) != "Running":
        return False
    conditions = (pod.get("status") or {}).get("conditions")
    if not conditions:
        return True
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def trainer_terminated(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        if cs.get("name") == CONTAINER:
            term = (cs.get("state") or {}).get("terminated")
            return term if term else None
    return None


def finished_at(pod: Mapping[str, Any]) -> str:
    """When the pod's first failing container finished ('' when unknown: sorts first)."""
    status = pod.get("status") or {}
    times = [
        str(term.get("finishedAt") or "")
        for key in ("initContainerStatuses", "containerStatuses")
        for cs in status.get(key) or []
        if (term := (cs.get("state") or {}).get("terminated")) and term.get("exitCode", 0) != 0
    ]
    return min(times) if times else ""


def waiting_reason(pod: Mapping[str, Any]) -> str | None:
    """Why a pending pod is not running yet (unschedulable, image pull, ...), or None."""
    status = pod.get("status") or {}
    name = name_of(pod)
    for c in status.get("conditions") or []:
        if c.get("type") == "PodScheduled" and c.get("status") == "False" and c.get("reason"):
            return f"{name}: {c['reason']}: {c.get('message') or ''}".rstrip(": ")
    for key in ("initContainerStatuses", "containerStatuses"):
        for cs in status.get(key) or []:
            waiting = (cs.get("state") or {}).get("waiting") or {}
            reason = waiting.get("reason")
            if reason and reason not in ("ContainerCreating", "PodInitializing"):
                return f"{name}: {reason}: {waiting.get('message') or ''}".rstrip(": ")
    return None


@dataclass(frozen=True)
class WorkerPods:
    current: Mapping[int, Mapping[str, Any]]  # index -> pod of this generation
    stale: tuple[Mapping[str, Any], ...]  # other generations, bad indices, or terminating when waiting


def split_pods(
    pods: Sequence[Mapping[str, Any]], generation: int, workers: int, terminating_is_stale: bool
) -> WorkerPods:
    current: dict[int, Mapping[str, Any]] = {}
    stale: list[Mapping[str, Any]] = []
    for pod in sorted(pods, key=name_of):
        index = index_of(pod)
        keep = generation_of(pod) == generation and index is not None and 0 <= index < workers
        if keep and terminating_is_stale and is_deleting(pod) and is_active(pod):
            keep = False
        if keep and index is not None and index not in current:
            current[index] = pod
        else:
            stale.append(pod)
    return WorkerPods(current, tuple(stale))


def counts(pods: Mapping[int, Mapping[str, Any]]) -> dict[str, int]:
    values = list(pods.values())
    return {
        "active": sum(1 for p in values if is_active(p)),
        "ready": sum(1 for p in values if is_ready(p)),
        "succeeded": sum(1 for p in values if phase_of(p) == "Succeeded"),
        "failed": sum(1 for p in values if phase_of(p) == "Failed"),
    }


# -- ownership ----------------------------------------------------------------------------------------------


def controller_ref(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ownerReference with controller: true, or None."""
    refs = (obj.get("metadata") or {}).get("ownerReferences") or ()
    return next((r for r in refs if r.get("controller")), None)


def is_owned(obj: Mapping[str, Any], uid: str) -> bool:
    """The object's controller ownerReference is the job with this uid (labels alone never make it ours)."""
    ref = controller_ref(obj)
    return bool(uid) and ref is not None and ref.get("uid") == uid


def describe_owner(obj: Mapping[str, Any] | None) -> str:
    """Who controls an object, for a NameConflict message."""
    if obj is None:
        return "it could not be read"
    ref = controller_ref(obj)
    if ref is None:
        return "it has no controller"
    return f"its controller is {ref.get('kind', '?')} {ref.get('name', '?')} (uid {ref.get('uid', '?')})"


# -- node loss ----------------------------------------------------------------------------------------------

UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
OUT_OF_SERVICE_TAINT = "node.kubernetes.io/out-of-service"


def node_of(pod: Mapping[str, Any]) -> str:
    return str((pod.get("spec") or {}).get("nodeName") or "")


def nodes_to_check(pods: Sequence[Mapping[str, Any]]) -> list[str]:
    """The nodes of terminating pods: the handlers read these (and only these) for `Observed.nodes`."""
    return sorted({node_of(p) for p in pods if is_deleting(p) and node_of(p)})


def node_lost(node: Mapping[str, Any] | None) -> str | None:
    """Why a node cannot finish its pods' deletion (gone, NotReady, tainted), or None when it is healthy."""
    if node is None:
        return "gone"
    taints = {t.get("key") for t in (node.get("spec") or {}).get("taints") or ()}
    if OUT_OF_SERVICE_TAINT in taints:
        return f"tainted {OUT_OF_SERVICE_TAINT}"
    if UNREACHABLE_TAINT in taints:
        return f"tainted {UNREACHABLE_TAINT}"
    ready = next(
        (c for c in (node.get("status") or {}).get("conditions") or () if c.get("type") == "Ready"), None
    )
    if ready is None or ready.get("status") != "True":
        return f"NotReady ({(ready or {}).get('status', 'no Ready condition')})"
    return None


def deletion_deadline(pod: Mapping[str, Any]) -> str:
    """metadata.deletionTimestamp: when the pod's grace period ends ('' when not terminating)."""
    return str((pod.get("metadata") or {}).get("deletionTimestamp") or "")
