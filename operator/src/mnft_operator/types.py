"""The reconcile contract of docs/architecture.md: what the handlers observe and what `plan()` returns.

Kept in its own module so `k8s.py` and the handlers can import the shapes without the planner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ObjectRef:
    api_version: str  # "v1", "scheduling.volcano.sh/v1beta1"
    kind: str  # "Pod", "Service", "ConfigMap", "PodGroup"
    name: str  # in the job's namespace


@dataclass(frozen=True)
class Observed:
    job: Mapping[str, Any]  # the MobileNetFineTune as read (metadata, spec, status)
    pods: Sequence[Mapping[str, Any]]  # pods labelled finetune.mindspore.io/job-name=<job>
    services: Sequence[Mapping[str, Any]]  # same label
    configmaps: Sequence[Mapping[str, Any]]  # same label
    podgroups: Sequence[Mapping[str, Any]]  # same label (empty when Volcano is not installed)
    rank0_log_tail: str | None  # last lines of <job>-worker-0's trainer log, None if not read
    now: datetime  # timezone-aware UTC
    allow_host_path: bool = False  # the operator's --allow-host-path: hostPath volume sources pass validation
    # The nodes of the job's terminating pods (`pod_state.nodes_to_check`): name -> Node, None when gone.
    nodes: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)


@dataclass(frozen=True)
class CreateResult:
    """What the API answered to one `Plan.create` object (same order as `Plan.create`)."""

    kind: str
    name: str
    code: int  # 201 created; else the HTTP status of the refusal (409, 422, 403, 500, ...)
    reason: str = ""  # the API Status reason: AlreadyExists, Invalid, Forbidden, ...
    message: str = ""  # the API's message ("" when created)
    existing: Mapping[str, Any] | None = None  # on 409: metadata of the object holding the name, if read


@dataclass(frozen=True)
class Event:
    type: str  # "Normal" | "Warning"
    reason: str  # CamelCase, e.g. "PodsCreated", "InvalidSpec", "Restarting"
    message: str


@dataclass(frozen=True)
class Plan:
    create: tuple[Mapping[str, Any], ...] = ()  # complete objects, ownerReferences included
    update: tuple[Mapping[str, Any], ...] = ()  # existing objects to merge-patch (ConfigMap data/annotations)
    delete: tuple[ObjectRef, ...] = ()
    force_delete: tuple[ObjectRef, ...] = ()  # pods on lost nodes: DELETE with gracePeriodSeconds=0
    status: Mapping[str, Any] | None = None  # the whole new .status; None when nothing changed
    events: tuple[Event, ...] = ()
    delete_job: bool = False  # ttlSecondsAfterFinished has passed
    requeue_after: float | None = None  # seconds until plan() should run again even without events
