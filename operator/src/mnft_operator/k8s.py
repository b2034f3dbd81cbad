"""The only operator module that talks to the Kubernetes API.

Requests go through kopf's own authenticated client (`kopf._cogs.clients.api`, kopf is pinned), so they
use the credentials of `@kopf.on.login`, re-authenticate on 401 and retry 5xx/429/connection errors with
`settings.networking.error_backoffs` exactly like kopf's own requests. The functions work only inside a
running kopf operator (its handlers, daemons and activities). A create returns the API's answer as a
`CreateResult` (a 409 with the metadata of the object holding the name), for `reconcile.settle` to judge;
404 on delete is success. Anything else that fails is raised as `KubeUnavailable`, which the handlers turn
into `kopf.TemporaryError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import urllib.parse
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import aiohttp
import kopf
from kopf._cogs.clients import api as kopf_api
from kopf._cogs.clients import errors as kopf_errors

from mnft_operator.crd import API_VERSION as JOB_API_VERSION
from mnft_operator.crd import KIND as JOB_KIND
from mnft_operator.crd import PLURAL
from mnft_operator.names import JOB_LABEL
from mnft_operator.types import CreateResult, Event, ObjectRef

EVENT_COMPONENT = "mnft-operator"
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


class KubeUnavailable(Exception):
    """An API request failed after kopf's retries; the caller retries the whole reconcile later."""


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


def _status_of(error: kopf_errors.APIError) -> Mapping[str, Any]:
    """The API's Status object carried by an error ({} when the body was not one)."""
    payload = error.args[1] if len(error.args) > 1 else None
    return payload if isinstance(payload, Mapping) else {}


@dataclass(frozen=True)
class Children:
    pods: list[dict[str, Any]]
    services: list[dict[str, Any]]
    configmaps: list[dict[str, Any]]
    podgroups: list[dict[str, Any]]


class KubeClient:
    """Async access to the API for one reconcile, bound to kopf's settings and the job's logger."""

    def __init__(
        self,
        settings: kopf.OperatorSettings,
        logger: logging.Logger | logging.LoggerAdapter[Any],
        parallelism: int = 16,
    ) -> None:
        self.settings = settings
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
            return await kopf_api.request(
                method,
                path,
                payload=payload,
                headers=headers,
                backoffs=backoffs,
                settings=self.settings,
                logger=self.logger,
            )
        except kopf_errors.APIError:
            raise
        except (aiohttp.ClientError, TimeoutError, kopf_errors.APISessionClosed) as e:
            raise KubeUnavailable(f"{method.upper()} {path}: {e!r}") from e

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._request(method, path, **kwargs)
            async with response:
                return await response.json(content_type=None)
        except kopf_errors.APIError as e:
            if isinstance(e, kopf_errors.APINotFoundError):
                raise
            raise KubeUnavailable(f"{method.upper()} {path}: HTTP {e.status} {e}") from e

    async def get_job(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The MobileNetFineTune, or None when it is gone."""
        try:
            job: dict[str, Any] = await self._json(
                "get", resource_path(JOB_API_VERSION, JOB_KIND, namespace, name)
            )
        except kopf_errors.APINotFoundError:
            return None
        return job

    async def list_labelled(
        self, api_version: str, kind: str, namespace: str, job_name: str, optional: bool = False
    ) -> list[dict[str, Any]]:
        """Objects labelled with the job.

        `optional` kinds (Volcano's PodGroup) may be absent (404) or not granted to us (403, Volcano
        installed but `rbac.volcano` off): that is [] at once, without kopf's retries.
        """
        query = urllib.parse.urlencode({"labelSelector": job_selector(job_name)})
        path = f"{resource_path(api_version, kind, namespace)}?{query}"
        try:
            listing = await self._json("get", path, backoffs=() if optional else None)
        except kopf_errors.APINotFoundError:
            return []
        except KubeUnavailable as e:
            if optional and isinstance(e.__cause__, kopf_errors.APIForbiddenError):
                return []
            raise
        items = listing.get("items") or []
        # Filter again: an API server that ignores the selector must not make us adopt foreign objects.
        return [item for item in items if labels_of(item).get(JOB_LABEL) == job_name]

    async def list_children(self, namespace: str, job_name: str) -> Children:
        pods, services, configmaps, podgroups = await asyncio.gather(
            self.list_labelled("v1", "Pod", namespace, job_name),
            self.list_labelled("v1", "Service", namespace, job_name),
            self.list_labelled("v1", "ConfigMap", namespace, job_name),
            self.list_labelled(
                "scheduling.volcano.sh/v1beta1", "PodGroup", namespace, job_name, optional=True
            ),
        )
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
        except (kopf_errors.APIError, KubeUnavailable) as e:
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
        except kopf_errors.APIError as e:
            status = _status_of(e)
            existing = None
            if e.status == 409:
                existing = await self._metadata(obj["apiVersion"], kind, namespace, name)
            self.logger.debug(f"POST {kind} {name}: HTTP {e.status} {status.get('message')}")
            return CreateResult(
                kind,
                name,
                int(e.status or 0),
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
        except (KubeUnavailable, kopf_errors.APIError):
            return None
        items = listing.get("items") or []
        meta: dict[str, Any] | None = (items[0].get("metadata") or {}) if items else None
        return meta

    async def get_node(self, name: str) -> dict[str, Any] | None:
        """The Node, or None when it does not exist (404)."""
        try:
            node: dict[str, Any] = await self._json("get", f"/api/v1/nodes/{urllib.parse.quote(name)}")
        except kopf_errors.APINotFoundError:
            return None
        return node

    async def update(self, namespace: str, obj: Mapping[str, Any]) -> None:
        """Merge-patch an existing object with an `update` of a Plan; a vanished object is skipped."""
        name = obj["metadata"]["name"]
        path = resource_path(obj["apiVersion"], obj["kind"], namespace, name)
        try:
            await self._json("patch", path, payload=update_patch_body(obj), headers=MERGE_PATCH)
        except kopf_errors.APINotFoundError:
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
        with contextlib.suppress(kopf_errors.APINotFoundError):
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
        except kopf_errors.APINotFoundError:
            return False  # the job was deleted meanwhile
        return True

    async def post_event(self, job: Mapping[str, Any], event: Event, now: datetime) -> None:
        """Post a core/v1 Event; failures are logged, never raised (events are best effort)."""
        namespace = job["metadata"]["namespace"]
        body = event_body(job, event, now, serial=time.time_ns())
        try:
            await self._json("post", resource_path("v1", "Event", namespace), payload=body)
        except (KubeUnavailable, kopf_errors.APIError) as e:
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
