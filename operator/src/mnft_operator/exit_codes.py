"""Classify a failed worker pod: retryable (restart the whole job) or a trainer error (fail the job).

Retryable: the trainer was killed by a signal (exit >= 128: SIGKILL, SIGTERM, ...), OOMKilled, the pod was
evicted, its node was lost or shut down, or it is being deleted by someone else (a DisruptionTarget
condition, a deletionTimestamp the operator did not cause), or it exited 75 (EX_TEMPFAIL: the trainer's
"transient distributed-infrastructure failure", e.g. the cluster did not form). A trainer error is any
other exit code 1-127 (1 user/data/checkpoint error, 2 usage error): restarting would fail the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mnft_contract import termination
from mnft_contract.exit_codes import EX_TEMPFAIL as EX_TEMPFAIL  # the trainer's "restart the job"
from mnft_contract.exit_codes import SIGNAL_BASE

RETRYABLE = "retryable"
TRAINER_ERROR = "trainerError"

# pod.status.reason values set by the kubelet / node lifecycle controller when the pod did not fail itself.
NODE_REASONS = frozenset(
    {
        "Evicted",
        "NodeLost",
        "Shutdown",
        "NodeShutdown",
        "Terminated",
        "DeletionByNodeLifecycle",
        "DeletionByTaintManager",
        "DeletionByPodGC",
        "UnexpectedAdmissionError",
        "Preempting",
    }
)


@dataclass(frozen=True)
class Failure:
    kind: str  # RETRYABLE | TRAINER_ERROR
    reason: str  # CamelCase: ExitCode, OOMKilled, ClusterFormation, Evicted, NodeLost, ..., TrainerError
    message: str  # one line naming the pod
    exit_code: int | None = None


def _terminated(pod: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """(container, terminated state) of the first container that exited non-zero, init containers first."""
    status = pod.get("status") or {}
    for key in ("initContainerStatuses", "containerStatuses"):
        for cs in status.get(key) or []:
            for state_key in ("state", "lastState"):
                term = (cs.get(state_key) or {}).get("terminated")
                if term and term.get("exitCode", 0) != 0:
                    return cs.get("name", "?"), term
    return None


def termination_message(term: Mapping[str, Any]) -> str:
    """The last non-empty line of the termination message (the trainer writes `error: ...`)."""
    return termination.last_line(str(term.get("message") or ""))


def classify(pod: Mapping[str, Any]) -> Failure | None:
    """The failure of a worker pod, or None when it has not failed (pending, running, succeeded)."""
    meta = pod.get("metadata") or {}
    status = pod.get("status") or {}
    name = meta.get("name", "?")
    reason = status.get("reason") or ""
    if status.get("phase") == "Succeeded":
        return None
    if reason in NODE_REASONS:
        detail = status.get("message") or reason
        return Failure(RETRYABLE, "NodeLost" if reason != "Evicted" else "Evicted", f"{name}: {detail}")
    for cond in status.get("conditions") or []:
        if cond.get("type") == "DisruptionTarget" and cond.get("status") == "True":
            why = cond.get("reason") or "DisruptionTarget"
            return Failure(RETRYABLE, "Disrupted", f"{name}: {why}: {cond.get('message') or 'pod disrupted'}")
    terminated = _terminated(pod)
    if terminated is not None:
        container, term = terminated
        code = int(term.get("exitCode", 0))
        if term.get("reason") == "OOMKilled":
            return Failure(RETRYABLE, "OOMKilled", f"{name}: container {container} was OOMKilled", code)
        if code >= SIGNAL_BASE:
            return Failure(
                RETRYABLE,
                "ExitCode",
                f"{name}: container {container} exited {code} (signal {code - SIGNAL_BASE})",
                code,
            )
        message = termination_message(term) or f"exited {code}"
        if code == EX_TEMPFAIL:
            return Failure(
                RETRYABLE, "ClusterFormation", f"{name}: container {container} exited {code}: {message}", code
            )
        return Failure(
            TRAINER_ERROR, "TrainerError", f"{name}: container {container} exited {code}: {message}", code
        )
    if status.get("phase") == "Failed":
        return Failure(
            RETRYABLE, "PodFailed", f"{name}: pod failed: {status.get('message') or reason or 'unknown'}"
        )
    if meta.get("deletionTimestamp"):
        return Failure(RETRYABLE, "PodDeleted", f"{name}: pod is being deleted")
    return None
