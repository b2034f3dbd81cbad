"""Pod status as a kubelet reports it: phase, conditions and container statuses. Pure functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from kube_emulator.pod_qos import qos_class as qos_class

TERMINATION_MESSAGE_LIMIT = 4096
FALLBACK_LOG_LINES = 80
FALLBACK_LOG_BYTES = 2048


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ContainerRecord:
    """What the kubelet knows about one container; `state` is the Kubernetes ContainerState object."""

    name: str
    image: str
    state: Mapping[str, Any] = field(default_factory=lambda: {"waiting": {"reason": "PodInitializing"}})
    container_id: str | None = None
    restart_count: int = 0
    last_state: Mapping[str, Any] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return "running" in self.state

    @property
    def terminated(self) -> Mapping[str, Any] | None:
        return self.state.get("terminated")

    def with_state(self, state: Mapping[str, Any], container_id: str | None = None) -> ContainerRecord:
        return replace(self, state=state, container_id=container_id or self.container_id)


def waiting(reason: str, message: str | None = None) -> dict[str, Any]:
    return {"waiting": {"reason": reason, **({"message": message} if message else {})}}


def running(started_at: datetime) -> dict[str, Any]:
    return {"running": {"startedAt": rfc3339(started_at)}}


def terminated(
    exit_code: int,
    started_at: datetime,
    finished_at: datetime,
    *,
    message: str = "",
    signal: int | None = None,
    oom_killed: bool = False,
    reason: str | None = None,
    container_id: str | None = None,
) -> dict[str, Any]:
    if reason is None:
        reason = "OOMKilled" if oom_killed else ("Completed" if exit_code == 0 else "Error")
    body: dict[str, Any] = {
        "exitCode": exit_code,
        "reason": reason,
        "startedAt": rfc3339(started_at),
        "finishedAt": rfc3339(finished_at),
    }
    if signal is not None:
        body["signal"] = signal
    if message:
        body["message"] = message
    if container_id:
        body["containerID"] = container_id
    return {"terminated": body}


def termination_message(file_content: bytes, policy: str, exit_code: int, log_tail: bytes) -> str:
    """The terminated state's message: the termination-message file (first 4096 bytes), or with
    FallbackToLogsOnError and a failure and an empty file, the log's last 80 lines (at most 2048 bytes)."""
    text = file_content[:TERMINATION_MESSAGE_LIMIT].decode("utf-8", "replace")
    if text or policy != "FallbackToLogsOnError" or exit_code == 0:
        return text
    lines = log_tail.splitlines(keepends=True)[-FALLBACK_LOG_LINES:]
    return b"".join(lines)[-FALLBACK_LOG_BYTES:].decode("utf-8", "replace")


def should_restart(restart_policy: str, init: bool, exit_code: int) -> bool:
    """Whether a container that exited is started again (init containers restart only on failure)."""
    if restart_policy == "Never":
        return False
    if restart_policy == "OnFailure" or init:
        return exit_code != 0
    return True


def pod_phase(init: Sequence[ContainerRecord], main: Sequence[ContainerRecord]) -> str:
    """The pod's phase; a container waiting to be restarted (restartCount > 0) keeps the pod Running."""
    for record in init:
        done = record.terminated
        if done is not None and done["exitCode"] != 0:
            return "Failed"
        if done is None:
            return "Pending"
    if all("waiting" in r.state and r.restart_count == 0 for r in main):
        return "Pending"
    if all(r.terminated is not None for r in main):
        return "Succeeded" if all(r.terminated["exitCode"] == 0 for r in main if r.terminated) else "Failed"
    return "Running"


def _condition(
    kind: str, ok: bool, now: datetime, previous: Mapping[str, Mapping[str, Any]], reason: str, message: str
) -> dict[str, Any]:
    status = "True" if ok else "False"
    before = previous.get(kind)
    since = before["lastTransitionTime"] if before and before.get("status") == status else rfc3339(now)
    condition: dict[str, Any] = {
        "type": kind,
        "status": status,
        "lastProbeTime": None,
        "lastTransitionTime": since,
    }
    if not ok:
        condition["reason"] = reason
        if message:
            condition["message"] = message
    return condition


def pod_conditions(
    init: Sequence[ContainerRecord],
    main: Sequence[ContainerRecord],
    phase: str,
    now: datetime,
    previous: Sequence[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    before = {c["type"]: c for c in previous}
    incomplete = [r.name for r in init if not (r.terminated and r.terminated["exitCode"] == 0)]
    unready = [r.name for r in main if not r.running]
    if phase == "Succeeded":
        ready_reason, ready_message = "PodCompleted", ""
    else:
        ready_reason, ready_message = (
            "ContainersNotReady",
            f"containers with unready status: [{' '.join(unready)}]",
        )
    return [
        _condition(
            "Initialized",
            not incomplete,
            now,
            before,
            "PodCompleted" if phase == "Succeeded" else "ContainersNotInitialized",
            f"containers with incomplete status: [{' '.join(incomplete)}]",
        ),
        _condition("Ready", not unready, now, before, ready_reason, ready_message),
        _condition("ContainersReady", not unready, now, before, ready_reason, ready_message),
        _condition("PodScheduled", True, now, before, "", ""),
    ]


def container_status(record: ContainerRecord) -> dict[str, Any]:
    status: dict[str, Any] = {
        "name": record.name,
        "image": record.image,
        "imageID": "",
        "ready": record.running,
        "restartCount": record.restart_count,
        "started": record.running,
        "state": dict(record.state),
        "lastState": dict(record.last_state),
    }
    if record.container_id:
        status["containerID"] = record.container_id
    return status


def pod_status(
    init: Sequence[ContainerRecord],
    main: Sequence[ContainerRecord],
    *,
    pod_ip: str,
    host_ip: str,
    start_time: datetime,
    now: datetime,
    previous_conditions: Sequence[Mapping[str, Any]] = (),
    phase: str | None = None,
    message: str | None = None,
    reason: str | None = None,
    qos: str = "BestEffort",
) -> dict[str, Any]:
    """The whole `.status` to PATCH to pods/{name}/status."""
    phase = phase or pod_phase(init, main)
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": pod_conditions(init, main, phase, now, previous_conditions),
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": rfc3339(start_time),
        "qosClass": qos,
        "containerStatuses": [container_status(r) for r in main],
    }
    if init:
        status["initContainerStatuses"] = [container_status(r) for r in init]
    if message:
        status["message"] = message
    if reason:
        status["reason"] = reason
    return status
