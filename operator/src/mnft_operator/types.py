"""The reconcile contract of docs/architecture.md: what the handlers observe and what `plan()` returns.

Kept in its own module so `k8s.py` and the handlers can import the shapes without the planner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
    status: Mapping[str, Any] | None = None  # the whole new .status; None when nothing changed
    events: tuple[Event, ...] = ()
    delete_job: bool = False  # ttlSecondsAfterFinished has passed
    requeue_after: float | None = None  # seconds until plan() should run again even without events
