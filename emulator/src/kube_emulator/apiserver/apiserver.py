"""The embedded Kubernetes API server: a faithful-enough kube-apiserver on loopback, for local mode and tests.

Public surface::

    api = EmbeddedAPI(log_dir: Path | None = None, host="127.0.0.1", port=0, history_size=20000)
    api.start()          # sync, idempotent; serves on its own event loop in a daemon thread
    api.url              # "http://127.0.0.1:39123"
    api.log_dir          # pods/log reads <log_dir>/<namespace>/<pod>/<container>.log
    api.write_kubeconfig(path, context="mnft-local", namespace="default") -> Path   # plain http, no auth
    api.open_watches     # number of watch streams open now
    api.watch_count(group, plural)   # watches open on one resource ("kopf is watching boxes")
    api.faults           # fault injection, off by default: api.faults.plan = FaultPlan(seed=...) (api_faults)
    api.call(fn, *args)  # run fn on the server's loop (to read api.store consistently from another thread)
    api.stop()           # sync, idempotent; also `with EmbeddedAPI() as api: ...`
    await api.serve()    # alternative to start(): serve on the running loop until cancelled

Built on kmock 0.8 (`kmock.KubernetesEmulator`): its bundled resource registry supplies the built-in
resources and their discovery data; routing, the object store and the API semantics are ours
(`api_http`, `api_discovery`, `api_watch`, `api_store`, `api_gc`, `api_patch`, `api_selectors`, `api_crd`,
`api_validation`, `openapi_schema`, `api_openapi`, `api_table`, `api_logs`), because kmock's own
store lacks server-side metadata, conflicts, selectors, watch resume and CRDs, and its request log
makes every request scan the whole history (see docs/kmock-0.8-gaps.md).

Semantics follow the real API server: uid / resourceVersion (one global counter) / creationTimestamp /
generation (bumped on non-metadata, non-status changes) / generateName; 201 on create; 409
AlreadyExists and Conflict on a stale resourceVersion; 422 on a failed JSON-patch `test` and on schema
violations of custom resources; status subresources; PUT, merge-, JSON-, strategic-merge-patch and
server-side apply; label and field selectors on list and watch; watch resume from a resourceVersion
(ERROR 410 Expired once it left the bounded history), timeoutSeconds and bookmarks; namespaces;
finalizers and deletionTimestamp; background/foreground/orphan garbage collection by ownerReferences;
CRDs with structural-schema pruning, defaults and CEL rules; built-in admission (pod defaults, pod
spec immutability, label/ownerReference validation); pods/log from files; pods/binding; list paging;
server-side dry run; Table output for kubectl; an OpenAPI v3 index, so kubectl validates without
`--validate=false` (a custom resource's unknown fields: 400 with fieldValidation=Strict, else a
Warning). A pod bound to a node and not finished is deleted gracefully: it keeps a deletionTimestamp
until its kubelet deletes it with gracePeriodSeconds 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml
from aiohttp import web

from kube_emulator.apiserver import api_crd
from kube_emulator.apiserver.api_faults import FaultInjector
from kube_emulator.apiserver.api_http import Handler, make_app
from kube_emulator.apiserver.api_resources import Registry, builtin_resources
from kube_emulator.apiserver.api_store import Store


def new_store(history_size: int = 20000) -> Store:
    store = Store(Registry(builtin_resources()), history_size=history_size)
    api_crd.install(store)
    return store


class EmbeddedAPI:
    def __init__(
        self,
        log_dir: Path | str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        history_size: int = 20000,
    ) -> None:
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self.host = host
        self.port = port
        self.store = new_store(history_size)
        self._handler: Handler | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError("EmbeddedAPI is not started: call start() first")
        return f"http://{self.host}:{self.port}"

    @property
    def faults(self) -> FaultInjector:
        return self.store.faults

    @property
    def open_watches(self) -> int:
        return self._handler.open_watches if self._handler else 0

    # ---- lifecycle ----------------------------------------------------------------------------------
    async def _start_site(self) -> None:
        self._closing = asyncio.Event()
        loop = asyncio.get_running_loop()

        def schedule(fn: Callable[[], None]) -> None:
            loop.call_soon(fn)

        self.store.schedule = schedule
        app, self._handler = make_app(self.store, self.log_dir, self._closing)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        server = site._server  # the bound port when port=0
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]

    async def _stop_site(self) -> None:
        if self._closing is not None:
            self._closing.set()
        for queues in self.store.watchers.values():
            for queue in queues:
                queue.put_nowait(None)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start(self) -> EmbeddedAPI:
        with self._lock:
            if self._thread is not None:
                return self
            loop = asyncio.new_event_loop()
            started = threading.Event()
            failure: list[BaseException] = []

            def run() -> None:
                asyncio.set_event_loop(loop)
                try:
                    loop.run_until_complete(self._start_site())
                except BaseException as error:
                    failure.append(error)
                    started.set()
                    return
                started.set()
                loop.run_forever()
                loop.run_until_complete(self._stop_site())
                loop.close()

            thread = threading.Thread(target=run, name="mnft-embedded-api", daemon=True)
            thread.start()
            started.wait()
            if failure:
                thread.join()
                raise OSError(
                    f"embedded API cannot listen on {self.host}:{self.port}: {failure[0]}"
                ) from failure[0]
            self._loop, self._thread = loop, thread
            return self

    def stop(self) -> None:
        with self._lock:
            if self._thread is None or self._loop is None:
                return
            loop, thread = self._loop, self._thread
            if self._closing is not None:
                loop.call_soon_threadsafe(self._closing.set)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            self._loop = self._thread = None

    async def serve(self) -> None:
        """Serve on the running event loop until cancelled (instead of start()/stop())."""
        await self._start_site()
        try:
            await asyncio.Event().wait()
        finally:
            await self._stop_site()

    def __enter__(self) -> EmbeddedAPI:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def call(self, fn: Any, *args: Any) -> Any:
        """Run `fn(*args)` on the server's loop (e.g. to read `store` consistently) and return its result."""
        if self._loop is None:
            return fn(*args)

        async def run() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    def watch_count(self, group: str, plural: str) -> int:
        """Watch streams open now on one resource (group "" for the core API)."""
        return len(self.store.watchers.get((group, plural), ()))

    # ---- kubeconfig ---------------------------------------------------------------------------------
    def write_kubeconfig(
        self, path: Path | str, context: str = "mnft-local", namespace: str = "default"
    ) -> Path:
        path = Path(path)
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": {"server": self.url}}],
            "users": [{"name": context, "user": {}}],
            "contexts": [
                {"name": context, "context": {"cluster": context, "user": context, "namespace": namespace}}
            ],
            "current-context": context,
            "preferences": {},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        path.chmod(0o600)
        return path
