"""The operator's run-time settings, kept in kopf's global memo (never in module globals)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MEMO_CONFIG = "mnft_config"
MEMO_WAKERS = "mnft_wakers"
MEMO_API = "mnft_api"  # the operator's k8s.Connection, created before kopf starts, filled by login
MEMO_LAST_ERROR = "mnft_last_error"  # per-job memo: the last reconcile error logged with a traceback


@dataclass(frozen=True)
class OperatorConfig:
    server: str | None = None  # explicit API URL (local mode, tests); None: in-cluster or kubeconfig
    kubeconfig: str | None = None  # None: in-cluster, then $KUBECONFIG or ~/.kube/config
    namespaces: tuple[str, ...] = ()  # () = all namespaces
    peering: str | None = None  # kopf peering name; None = standalone (no peering objects)
    priority: int = 0  # kopf peering priority: the highest-priority live instance is the active one
    liveness: str | None = None  # e.g. http://0.0.0.0:8080/healthz
    metrics_port: int = 0  # Prometheus /metrics on this port; 0 serves none (`mnft operator` default 8081)
    parallel_requests: int = 16  # concurrent creates/deletes per reconcile
    debounce_seconds: float = 0.05  # after a wake-up, let a burst of pod events settle before observing
    progress_seconds: float = 10.0  # re-read rank 0's log this often while it runs
    resync_seconds: float = 300.0  # reconcile at least this often even with no events
    error_delay_seconds: float = 5.0  # retry a reconcile this long after an API failure
    log_tail_lines: int = 50
    allow_host_path: bool = False  # accept hostPath volume sources in job specs (`mnft local`: its dirs)


@dataclass
class Wakers:
    """Per-job wake-up events, shared by the job daemons and the pod/job event handlers."""

    events: dict[tuple[str, str], asyncio.Event] = field(default_factory=dict)
    generations: dict[tuple[str, str], Any] = field(default_factory=dict)

    def register(self, namespace: str, name: str) -> asyncio.Event:
        event = asyncio.Event()
        self.events[(namespace, name)] = event
        return event

    def unregister(self, namespace: str, name: str, event: asyncio.Event) -> None:
        if self.events.get((namespace, name)) is event:
            del self.events[(namespace, name)]
            self.generations.pop((namespace, name), None)

    def seen(self, namespace: str, name: str, job: Mapping[str, Any]) -> None:
        """Remember the job's metadata.generation the daemon last reconciled."""
        self.generations[(namespace, name)] = (job.get("metadata") or {}).get("generation")

    def job_changed(self, namespace: str, name: str, job: Mapping[str, Any]) -> bool:
        """True unless the job event only changed status (same generation as last reconciled).

        Our own status patches would otherwise wake the daemon after every reconcile.
        Without a generation (an API that does not keep one) every event counts.
        """
        generation = (job.get("metadata") or {}).get("generation")
        if generation is None or (job.get("metadata") or {}).get("deletionTimestamp"):
            return True
        return self.generations.get((namespace, name)) != generation

    def wake(self, namespace: str, name: str) -> bool:
        event = self.events.get((namespace, name))
        if event is None:
            return False
        event.set()
        return True
