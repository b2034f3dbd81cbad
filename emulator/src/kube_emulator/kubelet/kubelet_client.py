"""The few Kubernetes API calls the local kubelet makes, over aiohttp, plus a resumable watch."""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import aiohttp

log = logging.getLogger("kube_emulator.kubelet")

MERGE_PATCH = "application/merge-patch+json"


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


class WatchExpired(Exception):
    """410 Gone: the resourceVersion is too old; list again."""


class KubeletClient:
    """`token`: sent as `Authorization: Bearer`; `ca_pem`: the API's certificate (PEM) for https."""

    def __init__(self, api_url: str, token: str | None = None, ca_pem: bytes | str | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._ssl: ssl.SSLContext | bool = True
        if ca_pem is not None:
            cadata = ca_pem.decode() if isinstance(ca_pem, bytes) else ca_pem
            self._ssl = ssl.create_default_context(cadata=cadata)
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
            headers=self._headers,
            connector=aiohttp.TCPConnector(ssl=self._ssl),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "client not open"
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        content_type: str = "application/json",
        params: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        async with self.session.request(
            method,
            self.api_url + path,
            data=data,
            headers=headers,
            params=params,
            timeout=aiohttp.ClientTimeout(total=30),
        ) as resp:
            text = await resp.text()
            if resp.status >= 400:
                try:
                    message = json.loads(text).get("message", text)
                except (ValueError, AttributeError):
                    message = text
                raise ApiError(resp.status, str(message)[:500])
            if not text:
                return {}
            result: dict[str, Any] = json.loads(text)
            return result

    async def get_or_none(self, path: str) -> dict[str, Any] | None:
        try:
            return await self.request("GET", path)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def merge_patch(self, path: str, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """PATCH with a JSON merge patch; None when the object is gone."""
        try:
            return await self.request("PATCH", path, body, content_type=MERGE_PATCH)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def watch(
        self, path: str, resource_version: str
    ) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
        """Yield (type, object) from a watch starting after `resource_version`; raise WatchExpired on 410."""
        params = {
            "watch": "true",
            "resourceVersion": resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": "300",
        }
        async with self.session.get(
            self.api_url + path, params=params, timeout=aiohttp.ClientTimeout(total=None, sock_read=None)
        ) as resp:
            if resp.status == 410:
                raise WatchExpired(path)
            if resp.status >= 400:
                raise ApiError(resp.status, (await resp.text())[:500])
            buffer = b""
            async for chunk in resp.content.iter_any():
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    kind, obj = event.get("type", ""), event.get("object") or {}
                    if kind == "ERROR":
                        if obj.get("code") == 410:
                            raise WatchExpired(path)
                        raise ApiError(int(obj.get("code") or 500), str(obj.get("message")))
                    yield kind, obj


async def list_and_watch(
    client: KubeletClient, path: str, on_list: Any, on_event: Any, ready: asyncio.Event | None = None
) -> None:
    """Keep a list+watch loop on `path` going forever: relist on 410, reconnect on errors.

    `on_list(items)` gets every (re)list, `on_event(type, obj)` every watch event except bookmarks.
    """
    resource_version: str | None = None
    while True:
        try:
            if resource_version is None:
                listing = await client.request("GET", path)
                resource_version = str(listing.get("metadata", {}).get("resourceVersion") or "0")
                await _guarded(on_list(listing.get("items") or []), path)
                if ready is not None:
                    ready.set()
            async for kind, obj in client.watch(path, resource_version):
                resource_version = obj.get("metadata", {}).get("resourceVersion") or resource_version
                if kind != "BOOKMARK":
                    await _guarded(on_event(kind, obj), path)
        except WatchExpired:
            resource_version = None
        except asyncio.CancelledError:
            raise
        except (aiohttp.ClientError, ApiError, ValueError, asyncio.TimeoutError) as exc:
            log.debug("watch %s: %s; reconnecting", path, exc)
            await asyncio.sleep(0.5)


async def _guarded(handling: Any, path: str) -> None:
    """Run one event's handling; a failure there is logged and must not end the watch."""
    try:
        await handling
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("handling an event of %s", path)
