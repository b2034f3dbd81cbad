"""Watch streams of the embedded API: initial state or resume from a resourceVersion, then live events.

One JSON event per line (`application/json`, chunked), as client-go, kopf and kubectl expect:
`resourceVersion` absent or "0" starts with ADDED for every matching object; a later one replays the
bounded history after it (or sends one ERROR event with a 410 `Expired` Status when it is too old);
`sendInitialEvents=true` (the WatchList protocol) ends the initial ADDED events with a bookmark
annotated `k8s.io/initial-events-end`; `allowWatchBookmarks` adds a BOOKMARK every BOOKMARK_INTERVAL
idle seconds; `timeoutSeconds` ends the stream. Objects entering or leaving the selectors on a
MODIFIED arrive as ADDED or DELETED. With `Accept: ...;as=Table` events carry Table rows (`kubectl get -w`).
A client that accepts only protobuf gets length-delimited metav1.WatchEvent frames
(`application/vnd.kubernetes.protobuf;stream=watch`, `api_protobuf.watch_frame`) for the built-in kinds.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from kube_emulator.apiserver import api_errors as errors
from kube_emulator.apiserver import api_protobuf, api_table
from kube_emulator.apiserver.api_errors import ApiError
from kube_emulator.apiserver.api_events import WatchEvent
from kube_emulator.apiserver.api_resources import ResourceDef
from kube_emulator.apiserver.api_store import Store

BOOKMARK_INTERVAL = 5.0


def dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


class WatchView:
    """How one watch renders events: its selector, and Table rows when kubectl asked for them."""

    def __init__(
        self,
        res: ResourceDef,
        match: Callable[[Mapping[str, Any]], bool],
        table: bool,
        protobuf: bool = False,
    ) -> None:
        self.res, self.match, self.table, self.protobuf = res, match, table, protobuf
        self.columns_sent = False

    def _frame(self, kind: str, obj: Mapping[str, Any]) -> bytes:
        return api_protobuf.watch_frame(kind, obj) or b""

    def line(self, kind: str, obj: Mapping[str, Any]) -> bytes:
        out: Any = obj
        if obj.get("apiVersion") != self.res.api_version:
            out = {**obj, "apiVersion": self.res.api_version}
        if self.table:
            out = api_table.table(self.res, [out], obj["metadata"].get("resourceVersion", ""))
            if self.columns_sent:  # like the real server: column definitions only in the first event
                out["columnDefinitions"] = []
            self.columns_sent = True
        if self.protobuf:
            return self._frame(kind, out)
        return b'{"type":"' + kind.encode() + b'","object":' + dumps(out) + b"}\n"

    def event_line(self, event: WatchEvent) -> bytes:
        """The event as this watch sees it: objects entering or leaving the selector are ADDED / DELETED."""
        new_ok = self.match(event.obj)
        kind = event.type
        if kind == "MODIFIED":
            old_ok = event.old is not None and self.match(event.old)
            if not new_ok and not old_ok:
                return b""
            kind = "MODIFIED" if new_ok and old_ok else ("ADDED" if new_ok else "DELETED")
        elif not new_ok:
            return b""
        return self.line(kind, event.obj)

    def bookmark(self, rv: int, annotations: dict[str, str] | None = None) -> bytes:
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if annotations:
            meta["annotations"] = annotations
        obj = {"kind": self.res.kind, "apiVersion": self.res.api_version, "metadata": meta}
        if self.protobuf:
            return self._frame("BOOKMARK", obj)
        return dumps({"type": "BOOKMARK", "object": obj}) + b"\n"

    def error(self, status: Mapping[str, Any]) -> bytes:
        if self.protobuf:
            return self._frame("ERROR", status)
        return dumps({"type": "ERROR", "object": status}) + b"\n"


async def serve_watch(
    request: web.Request,
    store: Store,
    res: ResourceDef,
    namespace: str | None,
    match: Callable[[Mapping[str, Any]], bool],
    closing: asyncio.Event,
) -> web.StreamResponse:
    query = request.query
    accept = request.headers.get("Accept", "")
    protobuf = (
        "as=Table" not in accept
        and api_protobuf.wants_protobuf(accept)
        and api_protobuf.message_for(res.api_version, res.kind) is not None
    )
    view = WatchView(res, match, "as=Table" in accept, protobuf)
    bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
    timeout = float(query["timeoutSeconds"]) if query.get("timeoutSeconds") else None
    since = query.get("resourceVersion") or "0"
    send_initial = query.get("sendInitialEvents") in ("true", "1")
    try:
        since_rv = int(since)
    except ValueError:
        raise errors.bad_request(f'invalid resource version "{since}"') from None
    queue: asyncio.Queue[WatchEvent | None] = asyncio.Queue()
    store.watchers[res.store_key].add(queue)
    content_type = api_protobuf.WATCH_MEDIA_TYPE if protobuf else "application/json"
    response = web.StreamResponse(headers={"Content-Type": content_type})
    response.enable_chunked_encoding()
    try:
        await response.prepare(request)
        if since_rv == 0 or send_initial:
            initial = [view.line("ADDED", o) for o in store.list(res, namespace) if view.match(o)]
            if send_initial:
                initial.append(view.bookmark(store.rv, {"k8s.io/initial-events-end": "true"}))
        else:
            try:
                initial = [
                    line for e in store.events_since(res.store_key, since_rv) if (line := view.event_line(e))
                ]
            except ApiError as error:
                await response.write(view.error(error.status()))
                return response
        if initial:
            await response.write(b"".join(initial))
        await _stream(request, response, view, store, queue, closing, timeout, bookmarks)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        store.watchers[res.store_key].discard(queue)
    return response


async def _stream(
    request: web.Request,
    response: web.StreamResponse,
    view: WatchView,
    store: Store,
    queue: asyncio.Queue[WatchEvent | None],
    closing: asyncio.Event,
    timeout: float | None,
    bookmarks: bool,
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout if timeout is not None else None
    while not closing.is_set():
        wait = BOOKMARK_INTERVAL
        if deadline is not None:
            wait = min(wait, deadline - loop.time())
            if wait <= 0:
                return
        try:
            event = await asyncio.wait_for(queue.get(), wait)
        except asyncio.TimeoutError:
            if deadline is not None and loop.time() >= deadline:
                return
            if request.transport is None or request.transport.is_closing():
                return  # the client left while the stream was idle
            if bookmarks:
                await response.write(view.bookmark(store.rv))
            continue
        if event is None:
            return  # the server is stopping
        lines = [view.event_line(event)]
        while not queue.empty():
            more = queue.get_nowait()
            if more is None:
                break
            lines.append(view.event_line(more))
        data = b"".join(line for line in lines if line)
        if data:
            await response.write(data)
