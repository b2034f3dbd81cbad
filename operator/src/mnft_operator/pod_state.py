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
