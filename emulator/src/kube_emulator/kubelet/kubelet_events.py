"""Kubernetes Events the local kubelet records for a pod (what `kubectl describe pod` lists)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import aiohttp

from kube_emulator.kubelet.kubelet_client import ApiError, KubeletClient
from kube_emulator.kubelet.kubelet_status import rfc3339
from kube_emulator.kubelet.pod_process import now_utc


def pod_event(
    pod: Mapping[str, Any],
    reason: str,
    message: str,
    now: datetime,
    *,
    warning: bool = False,
    component: str = "kubelet",
    host: str = "",
    field_path: str = "",
) -> dict[str, Any]:
    meta = pod["metadata"]
    namespace = meta.get("namespace", "default")
    involved: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "name": meta["name"],
        "namespace": namespace,
        "uid": meta.get("uid", ""),
    }
    if field_path:
        involved["fieldPath"] = field_path
    stamp = rfc3339(now)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{meta['name']}.{uuid.uuid4().hex[:16]}", "namespace": namespace},
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": "Warning" if warning else "Normal",
        "source": {"component": component, **({"host": host} if host else {})},
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "reportingComponent": component,
        "reportingInstance": host,
    }


class EventRecorder:
    """Posts events in the background: losing one is harmless and must never hold up a pod."""

    def __init__(self, client: KubeletClient, host: str) -> None:
        self.client = client
        self.host = host
        self._tasks: set[asyncio.Task[None]] = set()

    def record(
        self,
        pod: Mapping[str, Any],
        reason: str,
        message: str,
        *,
        warning: bool = False,
        container: str = "",
        component: str = "kubelet",
    ) -> None:
        body = pod_event(
            pod,
            reason,
            message,
            now_utc(),
            warning=warning,
            component=component,
            host=self.host,
            field_path=f"spec.containers{{{container}}}" if container else "",
        )
        path = f"/api/v1/namespaces/{body['metadata']['namespace']}/events"

        async def post() -> None:
            with contextlib.suppress(ApiError, aiohttp.ClientError, asyncio.TimeoutError):
                await self.client.request("POST", path, body)

        task = asyncio.get_running_loop().create_task(post())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
