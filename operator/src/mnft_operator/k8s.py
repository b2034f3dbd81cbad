"""The only operator module that talks to the Kubernetes API.

Requests go through the operator's own aiohttp session (`Connection`), not kopf's client: kopf's API
client is private (`kopf._cogs`) and may change in any release. The session is built from the
`kopf.ConnectionInfo` that `@kopf.on.login` (`handlers/login.py`) returned to kopf, through its public
`as_http_headers()` / `as_ssl_context()`, so the operator and kopf present the same credentials and
verify the server against the same CA. Like kopf's own requests, a 401 fetches fresh credentials from the
login function once (a rotated service-account token, a rewritten kubeconfig) and repeats the request;
5xx, 403, 429 (honouring Retry-After) and connection errors are retried after each delay of
`settings.networking.error_backoffs`; requests time out after `settings.networking.request_timeout`.
A create returns the API's answer as a `CreateResult` (a 409 with the metadata of the object holding the
name), for `settle.settle` to judge; 404 on delete is success. Anything else that fails is raised as
`KubeUnavailable`, which the handlers turn into `kopf.TemporaryError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import aiohttp
import kopf

from mnft_operator import metrics
from mnft_operator.crd import API_VERSION as JOB_API_VERSION
from mnft_operator.crd import KIND as JOB_KIND
from mnft_operator.crd import PLURAL
from mnft_operator.names import JOB_LABEL
from mnft_operator.types import CreateResult, Event, ObjectRef

EVENT_COMPONENT = "mnft-operator"
USER_AGENT = "mnft-operator"
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}

# kind -> plural for everything the operator reads or writes.
PLURALS: dict[str, str] = {
    "Pod": "pods",
    "Service": "services",
    "ConfigMap": "configmaps",
    "PodGroup": "podgroups",
    "Event": "events",
    "Node": "nodes",
    JOB_KIND: PLURAL,
}

T = TypeVar("T")
Logger = logging.Logger | logging.LoggerAdapter[Any]
Login = Callable[[], "kopf.ConnectionInfo | None"]  # fresh credentials (blocking: files, exec plugins)


class KubeUnavailable(Exception):
    """An API request failed after its retries; the caller retries the whole reconcile later."""


class ApiError(Exception):
    """An error answer of the API: `status` is its HTTP code, `body` its Status object ({} if none)."""

    def __init__(
        self, status: int, body: Mapping[str, Any], text: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(str(body.get("message") or text[:256] or f"HTTP {status}"))
        self.status = status
        self.body = body
        self.retry_after = retry_after


class NotFound(ApiError):
    """404: the object (or its kind) does not exist."""


def retryable(status: int) -> bool:
    """The answers kopf's own client retries: 5xx, 429 and 403 (API servers answer 403 while upgrading)."""
    return status >= 500 or status in (403, 429)


async def api_error(response: aiohttp.ClientResponse) -> ApiError:
    """The error an answer >= 400 means; reads and releases the response."""
    async with response:
        text = await response.text(errors="replace")
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    body: Mapping[str, Any] = payload if isinstance(payload, Mapping) else {}
    details = body.get("details") or {}
    header = response.headers.get("Retry-After")
    retry_after: float | None = None
    with contextlib.suppress(ValueError, TypeError, KeyError):
        retry_after = float(header) if header else float(details["retryAfterSeconds"])
    kind = NotFound if response.status == 404 else ApiError
    return kind(response.status, body, text, retry_after)


def delays(backoffs: float | Iterable[float] | None) -> Iterable[float]:
    if backoffs is None:
        return ()
    return [backoffs] if isinstance(backoffs, (int, float)) else backoffs


class Connection:
    """The operator's HTTP session to the API, with the credentials `@kopf.on.login` gave kopf.

    One per running operator (kopf's operator memo), created before kopf starts; the login handler calls
    `use()` each time it logs in (kopf runs it in a thread) and passes `login`, the same function, for
    fresh credentials after a 401. The aiohttp session is opened on the first request, in the operator's
    event loop, and carries no credentials itself: each request takes the current ones, so a re-login
    never interrupts requests in flight. `close()` at the operator's exit.
    """

    def __init__(
        self,
        settings: kopf.OperatorSettings | None = None,
        info: kopf.ConnectionInfo | None = None,
        login: Login | None = None,
    ) -> None:
        self.settings = settings or kopf.OperatorSettings()
        self.info = info
        self.login = login
        self.relogins = 0  # credentials replaced after a 401
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._relogin_lock = asyncio.Lock()
        self._prepared: tuple[kopf.ConnectionInfo, dict[str, str], ssl.SSLContext] | None = None

    def use(
        self,
        info: kopf.ConnectionInfo | None,
        settings: kopf.OperatorSettings | None = None,
        login: Login | None = None,
    ) -> None:
        """The credentials (and settings, login function) from now on."""
        if settings is not None:
            self.settings = settings
        if login is not None:
            self.login = login
        self.info = info

    def _credentials(self) -> tuple[kopf.ConnectionInfo, dict[str, str], ssl.SSLContext]:
        info = self.info
        if info is None:
            raise KubeUnavailable("not logged in to the API (no credentials from the login handler yet)")
        if self._prepared is None or self._prepared[0] is not info:
            self._prepared = (info, info.as_http_headers(), info.as_ssl_context())
        return self._prepared

    def _open(self, info: kopf.ConnectionInfo) -> aiohttp.ClientSession:
        if self._closed:
            raise KubeUnavailable("the operator's API connection is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0),
                headers={"User-Agent": USER_AGENT},
                trust_env=info.trust_env or self.settings.networking.trust_env,
            )
        return self._session

    async def _relogin(self, stale: kopf.ConnectionInfo, logger: Logger) -> bool:
        """After a 401 with `stale`: True once other credentials are in use (fresh, or a concurrent one's)."""
        async with self._relogin_lock:
            if self.info is not stale:
                return True  # a request that failed at the same time has logged in again already
            if self.login is None:
                return False
            try:
                fresh = await asyncio.to_thread(self.login)
            except Exception as e:  # the login handler's errors (e.g. an unusable kubeconfig) are one line
                logger.warning(f"re-login after 401 failed: {e}")
                return False
            if fresh is None or fresh == stale:
                return False
            self.use(fresh)
            self.relogins += 1
            logger.info("The API rejected our credentials (401); logged in again with fresh ones.")
            return True

    async def request(
        self,
        method: str,
        path: str,
        *,
        logger: Logger,
        payload: object | None = None,
        headers: Mapping[str, str] | None = None,
        backoffs: float | Iterable[float] | None = None,
    ) -> aiohttp.ClientResponse:
        """The API's answer (< 400, unread) to a request on `path`; raises ApiError or the transport's error.

        `backoffs` None: `settings.networking.error_backoffs`; () for a single attempt.
        """
        networking = self.settings.networking
        waits = iter(delays(networking.error_backoffs if backoffs is None else backoffs))
        timeout = aiohttp.ClientTimeout(
            total=networking.request_timeout, sock_connect=networking.connect_timeout
        )
        what = f"{method.upper()} {path}"
        relogged = False
        while True:
            info, auth, context = self._credentials()
            session = self._open(info)
            error: Exception
            try:
                response = await session.request(
                    method,
                    info.server.rstrip("/") + path,
                    json=payload,
                    headers={**auth, **(headers or {})},
                    ssl=context,
                    proxy=info.proxy_url,
                    timeout=timeout,
                )
            except (aiohttp.ClientConnectionError, TimeoutError) as e:
                error = e
            else:
                if response.status < 400:
                    return response
                answer = await api_error(response)
                if answer.status == 401 and not relogged:
                    relogged = True
                    if await self._relogin(info, logger):
                        continue
                if not retryable(answer.status):
                    raise answer
                error = answer
            wait = next(waits, None)
            if wait is None:
                raise error
            late = error.retry_after if isinstance(error, ApiError) and error.status == 429 else None
            if late is not None and (networking.enforce_retry_after or late > wait):
                wait = late  # the server's Retry-After, as kopf's client obeys it
            logger.warning(f"{what} failed, retrying in {wait:g} s: {error!r}")
            await asyncio.sleep(wait)  # a backoff between attempts, cancellable

    async def close(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()


def resource_path(api_version: str, kind: str, namespace: str, name: str | None = None) -> str:
    """The REST path of a namespaced collection (name None) or object."""
    try:
        plural = PLURALS[kind]
    except KeyError:
        raise ValueError(f"the operator does not manage objects of kind {kind!r}") from None
    prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    path = f"{prefix}/namespaces/{urllib.parse.quote(namespace)}/{plural}"
    return path if name is None else f"{path}/{urllib.parse.quote(name)}"


def labels_of(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def job_selector(job_name: str) -> str:
    return f"{JOB_LABEL}={job_name}"


def update_patch_body(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The merge patch that applies an `update` object of a Plan to the existing object.

    Only labels and annotations of metadata are patched (never uid, resourceVersion, ownerReferences).
    A Pod's spec is immutable, so for pods only metadata is sent; for other kinds every top-level
    field except apiVersion, kind and status (for a ConfigMap: data, binaryData).
    """
    metadata = obj.get("metadata") or {}
    body: dict[str, Any] = {
        "metadata": {key: dict(metadata[key]) for key in ("labels", "annotations") if key in metadata}
    }
    if obj.get("kind") != "Pod":
        for key, value in obj.items():
            if key not in ("apiVersion", "kind", "metadata", "status"):
                body[key] = value
    return body


def merge_patch(old: Mapping[str, Any], new: Mapping[str, Any], keep: Iterable[str] = ()) -> dict[str, Any]:
    """The RFC 7386 merge patch turning `old` into `new` ({} when equal).

    Keys of `old` missing from `new` are set to None (deleted) unless listed in `keep`
    (top level only, e.g. kopf's own `status.kopf`). Lists are replaced whole.
    """
    patch: dict[str, Any] = {}
    kept = set(keep)
    for key in old:
        if key not in new and key not in kept:
            patch[key] = None
    for key, value in new.items():
        if key not in old:
            patch[key] = value
        elif isinstance(value, Mapping) and isinstance(old[key], Mapping):
            sub = merge_patch(old[key], value)
            if sub:
                patch[key] = sub
        elif value != old[key]:
            patch[key] = value
    return patch


def event_body(job: Mapping[str, Any], event: Event, now: datetime, serial: int) -> dict[str, Any]:
    """A core/v1 Event about the job (involvedObject = the MobileNetFineTune)."""
    meta = job["metadata"]
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{meta['name']}.{serial:x}", "namespace": meta["namespace"]},
        "involvedObject": {
            "apiVersion": job.get("apiVersion", JOB_API_VERSION),
            "kind": job.get("kind", JOB_KIND),
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
        },
        "type": event.type,
        "reason": event.reason,
        "message": event.message[:1024],
        "source": {"component": EVENT_COMPONENT},
        "reportingComponent": EVENT_COMPONENT,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


async def _no_objects() -> list[dict[str, Any]]:
    return []


@dataclass(frozen=True)
class Children:
    pods: list[dict[str, Any]]
    services: list[dict[str, Any]]
    configmaps: list[dict[str, Any]]
    podgroups: list[dict[str, Any]]


class KubeClient:
    """Async access to the API for one job through the operator's `Connection`; logs to the job's logger."""

    def __init__(self, connection: Connection, logger: Logger, parallelism: int = 16) -> None:
        self.connection = connection
        self.logger = logger
        self.parallelism = max(1, parallelism)
        self.requests = 0  # counted for the benchmark and the debug log

    async def _request(
        self,
        method: str,
        path: str,
        payload: object | None = None,
        headers: dict[str, str] | None = None,
        backoffs: Sequence[float] | None = None,
    ) -> aiohttp.ClientResponse:
        self.requests += 1
        try:
            return await self.connection.request(
                method, path, payload=payload, headers=headers, backoffs=backoffs, logger=self.logger
            )
        except ApiError as e:
            metrics.api_error(e.status)
            raise
        except (aiohttp.ClientError, TimeoutError) as e:
            metrics.api_error(None)
            raise KubeUnavailable(f"{method.upper()} {path}: {e!r}") from e

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._request(method, path, **kwargs)
            async with response:
                return await response.json(content_type=None)
        except ApiError as e:
            if isinstance(e, NotFound):
                raise
            raise KubeUnavailable(f"{method.upper()} {path}: HTTP {e.status} {e}") from e

    async def get_job(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The MobileNetFineTune, or None when it is gone."""
        try:
            job: dict[str, Any] = await self._json(
                "get", resource_path(JOB_API_VERSION, JOB_KIND, namespace, name)
            )
        except NotFound:
            return None
        return job

    async def list_labelled(
        self, api_version: str, kind: str, namespace: str, job_name: str, optional: bool = False
    ) -> list[dict[str, Any]]:
        """Objects labelled with the job.

        `optional` kinds (Volcano's PodGroup) may be absent (404) or not granted to us (403, Volcano
        installed but `rbac.volcano` off): that is [] at once, without retries.
        """
        query = urllib.parse.urlencode({"labelSelector": job_selector(job_name)})
        path = f"{resource_path(api_version, kind, namespace)}?{query}"
        try:
            listing = await self._json("get", path, backoffs=() if optional else None)
        except NotFound:
            return []
        except KubeUnavailable as e:
            if optional and isinstance(e.__cause__, ApiError) and e.__cause__.status == 403:
                return []
            raise
        items = listing.get("items") or []
        # Filter again: an API server that ignores the selector must not make us adopt foreign objects.
        return [item for item in items if labels_of(item).get(JOB_LABEL) == job_name]

    async def list_children(
        self, namespace: str, job_name: str, kubernetes_podgroups: bool = False
    ) -> Children:
        """The job's children; Kubernetes' PodGroups only when asked (`scheduling.gang: kubernetes`), so
        other jobs cost no request and no 403/404 in the API error metrics."""
        pods, services, configmaps, volcano_groups, k8s_groups = await asyncio.gather(
            self.list_labelled("v1", "Pod", namespace, job_name),
            self.list_labelled("v1", "Service", namespace, job_name),
            self.list_labelled("v1", "ConfigMap", namespace, job_name),
            self.list_labelled(
                "scheduling.volcano.sh/v1beta1", "PodGroup", namespace, job_name, optional=True
            ),
            # Kubernetes' own PodGroups (scheduling.gang: kubernetes; 1.37+ with GenericWorkload).
            self.list_labelled("scheduling.k8s.io/v1beta1", "PodGroup", namespace, job_name, optional=True)
            if kubernetes_podgroups
            else _no_objects(),
        )
        # Both PodGroup kinds in one list, told apart by apiVersion (stamped: list items may omit it).
        podgroups = [
            {**g, "apiVersion": api, "kind": "PodGroup"}
            for api, groups in (
                ("scheduling.volcano.sh/v1beta1", volcano_groups),
                ("scheduling.k8s.io/v1beta1", k8s_groups),
            )
            for g in groups
        ]
        return Children(pods=pods, services=services, configmaps=configmaps, podgroups=podgroups)

    async def read_log_tail(
        self, namespace: str, pod: str, container: str = "trainer", lines: int = 50
    ) -> str | None:
        """The last lines of a container's log through pods/log; None when it cannot be read now.

        Best effort, no retries: the API server proxies pods/log to the node's kubelet, which may be
        unreachable (5xx), the container may not have started (400), or pods/log may not be granted
        (403). Progress is simply not updated this time; the status is reconciled anyway.
        """
        query = urllib.parse.urlencode({"container": container, "tailLines": lines})
        path = f"{resource_path('v1', 'Pod', namespace, pod)}/log?{query}"
        try:
            response = await self._request("get", path, backoffs=())
            async with response:
                return await response.text(errors="replace")
        except (ApiError, KubeUnavailable) as e:
            self.logger.debug(f"no log tail of {pod} this time: {e}")
            return None

    async def create(self, namespace: str, obj: Mapping[str, Any]) -> CreateResult:
        """Create an object and return the API's answer; only a transport failure raises.

        On 409 the existing object's metadata is read (None when that fails) so the caller can tell an
        object it created before (its controller ownerReference) from a foreign one.
        """
        kind, name = obj["kind"], obj["metadata"]["name"]
        path = resource_path(obj["apiVersion"], kind, namespace)
        try:
            response = await self._request("post", path, payload=dict(obj))
            async with response:
                await response.read()
        except ApiError as e:
            status = e.body
            existing = None
            if e.status == 409:
                existing = await self._metadata(obj["apiVersion"], kind, namespace, name)
            self.logger.debug(f"POST {kind} {name}: HTTP {e.status} {status.get('message')}")
            return CreateResult(
                kind,
                name,
                e.status,
                reason=str(status.get("reason") or ""),
                message=str(status.get("message") or e),
                existing=existing,
            )
        return CreateResult(kind, name, 201)

    async def _metadata(
        self, api_version: str, kind: str, namespace: str, name: str
    ) -> dict[str, Any] | None:
        """An object's metadata through a list by name (the `list` we are granted; no `get` needed)."""
        query = urllib.parse.urlencode({"fieldSelector": f"metadata.name={name}"})
        try:
            listing = await self._json(
                "get", f"{resource_path(api_version, kind, namespace)}?{query}", backoffs=()
            )
        except (KubeUnavailable, ApiError):
            return None
        items = listing.get("items") or []
        meta: dict[str, Any] | None = (items[0].get("metadata") or {}) if items else None
        return meta

    async def get_node(self, name: str) -> dict[str, Any] | None:
        """The Node, or None when it does not exist (404)."""
        try:
            node: dict[str, Any] = await self._json("get", f"/api/v1/nodes/{urllib.parse.quote(name)}")
        except NotFound:
            return None
        return node

    async def update(self, namespace: str, obj: Mapping[str, Any]) -> None:
        """Merge-patch an existing object with an `update` of a Plan; a vanished object is skipped."""
        name = obj["metadata"]["name"]
        path = resource_path(obj["apiVersion"], obj["kind"], namespace, name)
        try:
            await self._json("patch", path, payload=update_patch_body(obj), headers=MERGE_PATCH)
        except NotFound:
            self.logger.debug(f"{obj['kind']} {name} vanished before its update; the next reconcile sees it")

    async def delete(self, namespace: str, ref: ObjectRef, grace_period_seconds: int | None = None) -> None:
        """Delete an object (background propagation; 0 s grace forces a pod's deletion); 404 is success."""
        path = resource_path(ref.api_version, ref.kind, namespace, ref.name)
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "propagationPolicy": "Background",
        }
        if grace_period_seconds is not None:
            body["gracePeriodSeconds"] = grace_period_seconds
        with contextlib.suppress(NotFound):
            await self._json("delete", path, payload=body)

    async def patch_status(self, job: Mapping[str, Any], status: Mapping[str, Any]) -> bool:
        """Make the job's .status equal to `status` through the status subresource; False if nothing to do."""
        old = job.get("status") or {}
        patch = merge_patch(old, status, keep=("kopf",))
        if not patch:
            return False
        meta = job["metadata"]
        path = resource_path(JOB_API_VERSION, JOB_KIND, meta["namespace"], meta["name"]) + "/status"
        try:
            await self._json("patch", path, payload={"status": patch}, headers=MERGE_PATCH)
        except NotFound:
            return False  # the job was deleted meanwhile
        return True

    async def post_event(self, job: Mapping[str, Any], event: Event, now: datetime) -> None:
        """Post a core/v1 Event; failures are logged, never raised (events are best effort)."""
        namespace = job["metadata"]["namespace"]
        body = event_body(job, event, now, serial=time.time_ns())
        try:
            await self._json("post", resource_path("v1", "Event", namespace), payload=body)
        except (KubeUnavailable, ApiError) as e:
            self.logger.warning(f"could not post event {event.reason}: {e}")

    async def delete_job(self, namespace: str, name: str) -> None:
        await self.delete(namespace, ObjectRef(JOB_API_VERSION, JOB_KIND, name))

    async def bounded(self, calls: Sequence[Awaitable[T]]) -> list[T]:
        """Run calls concurrently (at most `parallelism` at once); after all, raise the first error."""
        semaphore = asyncio.Semaphore(self.parallelism)

        async def one(call: Awaitable[T]) -> T:
            async with semaphore:
                return await call

        results = await asyncio.gather(*(one(call) for call in calls), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return [result for result in results if not isinstance(result, BaseException)]
