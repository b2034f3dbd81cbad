"""`pods/log` served from files: `<log_dir>/<namespace>/<pod>/<container>.log` (written by the local kubelet).

Honors `container`, `tailLines`, `limitBytes` and `follow` (streams the file as it grows until the pod
is terminal or gone, or the client leaves); `timestamps` is accepted and ignored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from kube_emulator.apiserver import api_errors as errors
from kube_emulator.apiserver.api_resources import ResourceDef
from kube_emulator.apiserver.api_store import Store

FOLLOW_POLL = 0.1


def log_path(log_dir: Path, namespace: str, pod: str, container: str) -> Path:
    return log_dir / namespace / pod / f"{container}.log"


def pick_container(pod: Mapping[str, Any], requested: str | None) -> str:
    name = pod["metadata"]["name"]
    spec = pod.get("spec") or {}
    containers = [c["name"] for c in spec.get("containers") or ()]
    init = [c["name"] for c in spec.get("initContainers") or ()]
    if not requested:
        if len(containers) == 1:
            return containers[0]
        message = (
            f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
        )
        if init:
            message += f" or one of the init containers: [{' '.join(init)}]"
        raise errors.bad_request(message)
    if requested not in containers + init:
        raise errors.bad_request(f"container {requested} is not valid for pod {name}")
    return requested


def _tail(data: bytes, lines: int) -> bytes:
    if lines <= 0:
        return b""
    parts = data.splitlines(keepends=True)
    return b"".join(parts[-lines:])


async def serve_log(
    request: web.Request,
    store: Store,
    res: ResourceDef,
    namespace: str | None,
    name: str,
    log_dir: Path | None,
) -> web.StreamResponse:
    pod = store.get(res, namespace, name)
    container = pick_container(pod, request.query.get("container"))
    path = log_path(log_dir, namespace or "", name, container) if log_dir is not None else None
    if path is None or not path.exists():
        raise errors.bad_request(
            f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating'
        )
    data = path.read_bytes()
    offset = len(data)
    if request.query.get("tailLines"):
        data = _tail(data, int(request.query["tailLines"]))
    limit = int(request.query["limitBytes"]) if request.query.get("limitBytes") else None
    if limit is not None:
        data = data[:limit]
    if request.query.get("follow") not in ("true", "1"):
        return web.Response(body=data, content_type="text/plain")
    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    sent = len(data)
    await response.write(data)
    finished = False
    try:
        while limit is None or sent < limit:
            with path.open("rb") as handle:
                handle.seek(offset)
                chunk = handle.read()
            if chunk:
                offset += len(chunk)
                if limit is not None:
                    chunk = chunk[: limit - sent]
                sent += len(chunk)
                await response.write(chunk)
                continue
            if finished:
                break
            current = store.find(res, namespace, name)
            # one more read after the pod ends, for lines written just before its status changed
            finished = current is None or (current.get("status") or {}).get("phase") in (
                "Succeeded",
                "Failed",
            )
            if finished:
                continue
            if request.transport is None or request.transport.is_closing():
                break
            await asyncio.sleep(FOLLOW_POLL)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    return response
