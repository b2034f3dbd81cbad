"""Fault injection in the embedded API: off by default, seeded, for chaos runs and recovery tests.

Public surface (`api = EmbeddedAPI(...)`; every call is safe from any thread)::

    api.faults.plan = FaultPlan(seed=7, error_rate=0.2, codes=(409, 429, 500), verbs={"create", "patch"},
                                resources={"pods"}, delay=0.5, delay_rate=0.1, limit=5)
    api.faults.plan = None          # off again (the default)
    api.faults.cut_watches()        # end every open watch stream now (clients must resume)
    api.faults.set_node_ready("local", False)   # Ready=Unknown + unreachable taints, as on node loss
    api.faults.counts               # Counter: "error-500", "delay", "watches-cut", ... injected so far

A plan draws from `random.Random(seed)` once per request it matches (verb as the kube-apiserver names
it: get, list, watch, create, update, patch, delete, deletecollection; resource: the plural, with
`/subresource`), in arrival order, so one client's sequence of requests meets the same faults for the
same seed. Errors are Status bodies as a real server sends them: 409 Conflict ("the object has been
modified"), 429 TooManyRequests with `Retry-After` (API Priority and Fairness), 500 InternalError,
503 ServiceUnavailable; the request is not applied. A delay holds the request before it is handled.
"""

from __future__ import annotations

import asyncio
import collections
import json
import random
import threading
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kube_emulator.apiserver.api_errors import ApiError
from kube_emulator.apiserver.api_events import now_rfc3339

if TYPE_CHECKING:
    from kube_emulator.apiserver.api_store import Store

UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
ERROR_CODES = (409, 429, 500, 503)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class FaultPlan:
    seed: int = 0
    error_rate: float = 0.0  # fraction of matching requests answered with an error from `codes`
    codes: tuple[int, ...] = (500,)
    retry_after: int = 1  # seconds, on 429
    delay: float = 0.0  # seconds a delayed request waits before it is handled
    delay_rate: float = 0.0  # fraction of matching requests delayed
    verbs: Collection[str] | None = None  # None: every verb
    resources: Collection[str] | None = None  # plurals ("pods", "pods/status"); None: every resource
    user_agents: Collection[str] | None = None  # substrings of User-Agent; None: every client
    limit: int | None = None  # stop injecting errors after this many
    exclude_watch: bool = field(default=False)  # leave watch requests alone (cut them with cut_watches)

    def __post_init__(self) -> None:
        for name in ("error_rate", "delay_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"FaultPlan.{name} must be within [0, 1], not {getattr(self, name)}")
        unknown = sorted(set(self.codes) - set(ERROR_CODES))
        if unknown or not self.codes:
            raise ValueError(f"FaultPlan.codes must be some of {ERROR_CODES}, not {self.codes}")

    def matches(self, verb: str, resource: str, user_agent: str) -> bool:
        if self.exclude_watch and verb == "watch":
            return False
        if self.verbs is not None and verb not in self.verbs:
            return False
        if self.resources is not None and resource not in self.resources:
            return False
        return self.user_agents is None or any(agent in user_agent for agent in self.user_agents)


@dataclass(frozen=True)
class Fault:
    code: int | None  # an error to answer with, or None
    delay: float  # seconds to wait first


def error_response(code: int, retry_after: int, what: str) -> web.Response:
    reason, message = {
        409: (
            "Conflict",
            f"Operation cannot be fulfilled on {what}: the object has been modified; "
            "please apply your changes to the latest version and try again",
        ),
        429: ("TooManyRequests", "Too many requests, please try again later."),
        500: ("InternalError", f"Internal error occurred: injected fault on {what}"),
        503: ("ServiceUnavailable", "The server is currently unable to handle the request"),
    }[code]
    details: dict[str, Any] = {"retryAfterSeconds": retry_after} if code == 429 else {}
    body = ApiError(code, reason, message, details).status()
    response = web.Response(body=json.dumps(body).encode(), status=code, content_type="application/json")
    if code == 429:
        response.headers["Retry-After"] = str(retry_after)
    return response


class FaultInjector:
    """The embedded API's fault state: the plan, its random stream, and what was injected."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.counts: collections.Counter[str] = collections.Counter()
        self._plan: FaultPlan | None = None
        self._rng = random.Random(0)
        self._errors = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    @property
    def plan(self) -> FaultPlan | None:
        return self._plan

    @plan.setter
    def plan(self, plan: FaultPlan | None) -> None:
        with self._lock:
            self._plan = plan
            self._rng = random.Random(plan.seed if plan is not None else 0)
            self._errors = 0

    def draw(self, verb: str, resource: str, user_agent: str) -> Fault | None:
        """The fault for one request (None: handle it normally). Advances the plan's random stream."""
        with self._lock:
            plan = self._plan
            if plan is None or not plan.matches(verb, resource, user_agent):
                return None
            error_roll, delay_roll, pick = (
                self._rng.random(),
                self._rng.random(),
                self._rng.randrange(1 << 30),
            )
            code = None
            if error_roll < plan.error_rate and (plan.limit is None or self._errors < plan.limit):
                code = plan.codes[pick % len(plan.codes)]
                self._errors += 1
                self.counts[f"error-{code}"] += 1
            delay = plan.delay if delay_roll < plan.delay_rate else 0.0
            if delay:
                self.counts["delay"] += 1
            return Fault(code, delay) if code is not None or delay else None

    # ---- faults acted on the server's state (run on its loop) -----------------------------------------
    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def _on_loop(self, fn: Callable[[], Any]) -> Any:
        loop = self._loop
        if loop is None or not loop.is_running():
            return fn()
        try:
            if asyncio.get_running_loop() is loop:
                return fn()
        except RuntimeError:
            pass

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), loop).result(timeout=30)

    def cut_watches(self) -> int:
        """End every open watch stream (as an API server restart or a load balancer does); how many."""

        def cut() -> int:
            queues = [q for queues in self.store.watchers.values() for q in queues]
            for queue in queues:
                queue.put_nowait(None)
            return len(queues)

        cut_now: int = self._on_loop(cut)
        self.counts["watches-cut"] += cut_now
        return cut_now

    def set_node_ready(self, node: str, ready: bool) -> None:
        """Ready=Unknown with the unreachable taints, as the node lifecycle controller marks a node whose
        kubelet stopped posting status; `ready=True` restores Ready=True and drops those taints."""

        def mark() -> None:
            res = self.store.resource("", "v1", "nodes")
            obj = self.store.get(res, None, node)
            spec = dict(obj.get("spec") or {})
            taints = [t for t in spec.get("taints") or () if t.get("key") != UNREACHABLE_TAINT]
            if not ready:
                now = now_rfc3339()
                taints += [
                    {"key": UNREACHABLE_TAINT, "effect": "NoSchedule", "timeAdded": now},
                    {"key": UNREACHABLE_TAINT, "effect": "NoExecute", "timeAdded": now},
                ]
            if taints:
                spec["taints"] = taints
            else:
                spec.pop("taints", None)
            obj, _ = self.store.update(res, None, node, {**obj, "spec": spec})
            status = dict(obj.get("status") or {})
            conditions = [dict(c) for c in status.get("conditions") or ()]
            for condition in conditions:
                if condition.get("type") != "Ready":
                    continue
                condition["lastTransitionTime"] = now_rfc3339()
                if ready:
                    condition.update(
                        status="True", reason="KubeletReady", message="mnft local kubelet is ready"
                    )
                else:
                    condition.update(
                        status="Unknown",
                        reason="NodeStatusUnknown",
                        message="Kubelet stopped posting node status.",
                    )
            status["conditions"] = conditions
            self.store.update(res, None, node, {**obj, "status": status}, subresource="status")

        self._on_loop(mark)
        self.counts["node-ready" if ready else "node-not-ready"] += 1


def request_info(request: web.Request) -> tuple[str, str]:
    """(verb, resource) of a request as the kube-apiserver's RequestInfo names them ("" for discovery)."""
    from kube_emulator.apiserver.api_http import parse_target  # api_http installs this middleware

    target = parse_target([p for p in request.path.split("/") if p])
    if target is None:
        return "get", ""
    resource = target.plural + (f"/{target.subresource}" if target.subresource else "")
    method = request.method
    if method == "GET":
        if target.watch or request.query.get("watch") in ("true", "1"):
            return "watch", resource
        return ("get" if target.name else "list"), resource
    if method == "DELETE":
        return ("delete" if target.name else "deletecollection"), resource
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower()), resource


def middleware(injector: FaultInjector) -> Any:
    """The aiohttp middleware that applies `injector.plan` to every request (nothing when it is None)."""

    @web.middleware
    async def inject_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
        injector.bind(asyncio.get_running_loop())
        if injector.plan is None:
            return await handler(request)
        try:
            verb, resource = request_info(request)
        except ApiError:
            return await handler(request)
        fault = injector.draw(verb, resource, request.headers.get("User-Agent", ""))
        if fault is None:
            return await handler(request)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.code is not None:
            plan = injector.plan
            return error_response(fault.code, plan.retry_after if plan else 1, f"{resource} ({verb})")
        return await handler(request)

    return inject_faults
