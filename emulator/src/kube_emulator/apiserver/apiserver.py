"""The embedded Kubernetes API server: a faithful-enough kube-apiserver on loopback, for local mode and tests.

Public surface::

    api = EmbeddedAPI(log_dir: Path | None = None, host="127.0.0.1", port=0, history_size=20000,
                      token: str | None = None)   # None: a fresh random bearer token
    api.start()          # sync, idempotent; serves on its own event loop in a daemon thread
    api.url              # "https://127.0.0.1:39123": HTTPS with a fresh self-signed cert (`api_tls`)
    api.token            # the bearer token every request needs (`api_auth`); api.auth_headers
    api.ca_pem, api.ca_file   # the certificate clients trust (PEM bytes; a file while started)
    api.ssl_context()    # a client ssl.SSLContext trusting it
    api.log_dir          # pods/log reads <log_dir>/<namespace>/<pod>/<container>.log
    api.write_kubeconfig(path, context="mnft-local", namespace="default") -> Path
                         # URL, CA and token, mode 0600; never replaces a file it did not write
    api.remove_kubeconfig(path)   # remove it again, if it is still the one this server wrote
    api.open_watches     # number of watch streams open now
    api.watch_count(group, plural)   # watches open on one resource ("kopf is watching boxes")
    api.faults           # fault injection, off by default: api.faults.plan = FaultPlan(seed=...) (api_faults)
    api.call(fn, *args)  # run fn on the server's loop (to read api.store consistently from another thread)
    api.stop()           # sync, idempotent; also `with EmbeddedAPI() as api: ...`
    await api.serve()    # alternative to start(): serve on the running loop until cancelled

Built on kmock 0.8 (`kmock.KubernetesEmulator`): its bundled resource registry supplies the built-in
resources and their discovery data; routing, the object store and the API semantics are ours
(`api_http`, `api_discovery`, `api_watch`, `api_store`, `api_gc`, `api_patch`, `api_fields`,
`api_selectors`, `api_crd`, `api_validation`, `openapi_schema`, `api_openapi`, `api_table`, `api_logs`,
`api_protobuf`, `api_scale`, `api_reviews`, `api_admission`), because kmock's own
store lacks server-side metadata, conflicts, selectors, watch resume and CRDs, and its request log
makes every request scan the whole history (see docs/kmock-0.8-gaps.md).

Semantics follow the real API server: uid / resourceVersion (one global counter) / creationTimestamp /
generation (bumped on non-metadata, non-status changes) / generateName; 201 on create; 409
AlreadyExists and Conflict on a stale resourceVersion; 422 on a failed JSON-patch `test` and on schema
violations of custom resources; status and scale subresources; PUT, merge-, JSON-, strategic-merge-patch and
server-side apply with managedFields, conflicts and removal of fields a manager stops applying; JSON,
YAML and protobuf request bodies (protobuf answers when a client accepts nothing else); metav1.Time
fields stored as RFC 3339 `...Z`; access reviews; mutating and validating admission webhooks and
ValidatingAdmissionPolicies; label and field selectors on list and watch; watch resume from a resourceVersion
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
import base64
import contextlib
import os
import shutil
import ssl
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml
from aiohttp import web

from kube_emulator.apiserver import api_auth, api_crd, api_tls
from kube_emulator.apiserver.api_faults import FaultInjector
from kube_emulator.apiserver.api_http import Handler, make_app
from kube_emulator.apiserver.api_resources import Registry, builtin_resources
from kube_emulator.apiserver.api_store import Store

# The first line of every kubeconfig this server writes: how it recognises its own files.
KUBECONFIG_MARKER = "# Written by kube_emulator's EmbeddedAPI (mnft api, mnft local); it holds a token.\n"


class KubeconfigExists(FileExistsError):
    """The kubeconfig path holds a file this server did not write; it is never overwritten."""


def kubeconfig_is_ours(path: Path | str) -> bool:
    """True when `path` is absent or a regular file (not a symlink) an EmbeddedAPI wrote."""
    path = Path(path)
    if not os.path.lexists(path):
        return True
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with path.open("rb") as file:
            return file.read(len(KUBECONFIG_MARKER.encode())) == KUBECONFIG_MARKER.encode()
    except OSError:
        return False


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
        token: str | None = None,
    ) -> None:
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self.token = token or api_auth.new_token()
        self._cert = api_tls.self_signed(host)
        self._ca_dir: Path | None = None
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
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    @property
    def ca_pem(self) -> bytes:
        """The serving certificate (self-signed: it is its own CA), PEM."""
        return self._cert.cert_pem

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context trusting this server (for urllib, aiohttp)."""
        return ssl.create_default_context(cadata=self.ca_pem.decode())

    @property
    def ca_file(self) -> str:
        """A file holding `ca_pem` (for clients that take a path: requests, the kubernetes client)."""
        if self._ca_dir is None:
            raise RuntimeError("EmbeddedAPI is not started: call start() first")
        return str(self._ca_dir / "ca.crt")

    @property
    def auth_headers(self) -> dict[str, str]:
        """The header every request needs: `Authorization: Bearer <token>`."""
        return {"Authorization": f"Bearer {self.token}"}

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
        app.middlewares.insert(0, api_auth.middleware(self.token, self.host))  # outermost: first check
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner,
            self.host,
            self.port,
            reuse_address=True,
            ssl_context=api_tls.server_context(self._cert),
        )
        await site.start()
        self._ca_dir = Path(tempfile.mkdtemp(prefix="kube-emulator-ca-"))
        (self._ca_dir / "ca.crt").write_bytes(self.ca_pem)
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
        if self._ca_dir is not None:
            shutil.rmtree(self._ca_dir, ignore_errors=True)
            self._ca_dir = None

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
        """Write a kubeconfig (this server's URL and token) to `path`, created with mode 0600.

        A file this server (or an earlier one) wrote is replaced; any other file, or a symlink, raises
        KubeconfigExists and is left as it was.
        """
        path = Path(path)
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": context,
                    "cluster": {
                        "server": self.url,
                        "certificate-authority-data": base64.b64encode(self.ca_pem).decode(),
                    },
                }
            ],
            "users": [{"name": context, "user": {"token": self.token}}],
            "contexts": [
                {"name": context, "context": {"cluster": context, "user": context, "namespace": namespace}}
            ],
            "current-context": context,
            "preferences": {},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        if not kubeconfig_is_ours(path):
            raise KubeconfigExists(f"{path} exists and was not written by the embedded API")
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        # O_EXCL: never follow a symlink planted in between; 0600 from the start, not chmod after.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(KUBECONFIG_MARKER + yaml.safe_dump(config, sort_keys=False))
        return path

    def remove_kubeconfig(self, path: Path | str) -> None:
        """Remove `path` if it is a kubeconfig this server wrote (its token in it); else leave it."""
        path = Path(path)
        if not os.path.lexists(path) or not kubeconfig_is_ours(path):
            return
        with contextlib.suppress(OSError):
            if f"token: {self.token}" in path.read_text():
                path.unlink()
