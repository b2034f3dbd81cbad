"""The operator's Prometheus metrics (prometheus_client), served on `--metrics-port` at /metrics.

- `mnft_jobs{phase}`: MobileNetFineTunes by status.phase, as last reconciled by this operator;
- `mnft_job_restarts_total{reason}`: whole-job restarts, by the Restarting condition's reason;
- `mnft_reconcile_duration_seconds`: one observe -> plan -> apply round of a job;
- `mnft_api_errors_total{code}`: Kubernetes API responses that were errors, by HTTP status (`none` when
  no response came: connection refused, timeout). 404 on delete and 409 on create count too, although
  the operator treats them as success.

The handlers call `reconciled` and `api_error`; everything else stays here. State lives in this module's
own registry, so several operators in one process (tests) share it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import start_http_server

PHASES = ("Pending", "Running", "Restarting", "Succeeded", "Failed", "Suspended")

REGISTRY = CollectorRegistry()
JOBS = Gauge("mnft_jobs", "MobileNetFineTunes by phase.", ["phase"], registry=REGISTRY)
RESTARTS = Counter(
    "mnft_job_restarts",
    "Whole-job restarts after retryable failures, by reason.",
    ["reason"],
    registry=REGISTRY,
)
RECONCILE = Histogram(
    "mnft_reconcile_duration_seconds",
    "Duration of one reconcile of a job (observe, plan, apply).",
    registry=REGISTRY,
)
API_ERRORS = Counter(
    "mnft_api_errors", "Kubernetes API error responses, by HTTP status code.", ["code"], registry=REGISTRY
)

_phases: dict[tuple[str, str], str] = {}
_lock = threading.Lock()
for _phase in PHASES:
    JOBS.labels(_phase).set(0)


def api_error(status: int | None) -> None:
    API_ERRORS.labels("none" if status is None else str(status)).inc()


def _restart_reason(status: Mapping[str, Any]) -> str:
    for condition in status.get("conditions") or ():
        if condition.get("type") == "Restarting" and condition.get("status") == "True":
            return str(condition.get("reason") or "Unknown")
    return "Unknown"


def reconciled(
    namespace: str,
    name: str,
    old_status: Mapping[str, Any] | None,
    new_status: Mapping[str, Any] | None,
    seconds: float,
) -> None:
    """Record one reconcile: `old_status` as observed (None: the job is gone), `new_status` the plan's
    status (None: unchanged)."""
    RECONCILE.observe(seconds)
    key = (namespace, name)
    with _lock:
        if old_status is None:
            _phases.pop(key, None)
        else:
            status = new_status if new_status is not None else old_status
            before = int(old_status.get("restarts") or 0)
            after = int(status.get("restarts") or 0)
            if after > before:
                RESTARTS.labels(_restart_reason(status)).inc(after - before)
            phase = status.get("phase")
            if phase in PHASES:
                _phases[key] = str(phase)
        counts = dict.fromkeys(PHASES, 0)
        for phase in _phases.values():
            counts[phase] += 1
        for phase, count in counts.items():
            JOBS.labels(phase).set(count)


def record_outcome(namespace: str, name: str, outcome: Any, seconds: float) -> None:
    """`reconciled` for a job daemon's `Outcome` (its observed job, None when gone, and its plan)."""
    job = None if outcome.observed is None else outcome.observed.job
    if job is None or (job.get("metadata") or {}).get("deletionTimestamp"):
        reconciled(namespace, name, None, None, seconds)
    else:
        reconciled(namespace, name, job.get("status") or {}, outcome.plan.status, seconds)


class MetricsServer:
    """/metrics over HTTP in a daemon thread; `port` 0 serves nothing."""

    def __init__(self, port: int, address: str = "0.0.0.0") -> None:
        self._server = None
        if port:
            self._server, _ = start_http_server(port, address, registry=REGISTRY)

    @property
    def port(self) -> int | None:
        return None if self._server is None else int(self._server.server_port)

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
