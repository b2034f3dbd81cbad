"""EmbeddedAPI's own surface: start/stop, context manager, serve() inside a running loop, port errors."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.request
from typing import Any

import pytest

from kube_emulator.apiserver.apiserver import EmbeddedAPI


def get(api: EmbeddedAPI, path: str, timeout: float = 60) -> Any:
    request = urllib.request.Request(f"{api.url}{path}", headers=api.auth_headers)
    return urllib.request.urlopen(request, timeout=timeout, context=api.ssl_context())


def namespaces(api: EmbeddedAPI) -> list[str]:
    with get(api, "/api/v1/namespaces") as response:
        return [n["metadata"]["name"] for n in json.load(response)["items"]]


def test_start_and_stop_are_idempotent() -> None:
    api = EmbeddedAPI()
    with pytest.raises(RuntimeError, match="not started"):
        _ = api.url
    assert api.start() is api
    url = api.url
    assert api.start().url == url and url.startswith("https://127.0.0.1:")
    assert "default" in namespaces(api)
    api.stop()
    api.stop()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/api/v1/namespaces", timeout=5, context=api.ssl_context())


def test_context_manager_closes_open_watches() -> None:
    with EmbeddedAPI() as api:
        stream = get(api, "/api/v1/pods?watch=true")
        while api.open_watches != 1:  # handshake: the server holds the stream open
            time.sleep(0.01)
    assert stream.read() == b""  # stopping the server ended the stream (a hang would hit urlopen's timeout)


def test_a_taken_port_is_one_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=f"embedded API cannot listen on 127.0.0.1:{port}"):
            EmbeddedAPI(port=port).start()


async def test_serve_inside_a_running_loop() -> None:
    api = EmbeddedAPI()
    task = asyncio.create_task(api.serve())
    for _ in range(100):
        if api.port:
            break
        await asyncio.sleep(0.01)
    assert "default" in await asyncio.to_thread(namespaces, api)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_call_reads_the_store_on_the_server_loop() -> None:
    with EmbeddedAPI() as api:
        before = api.call(lambda: api.store.rv)
        urllib.request.urlopen(
            urllib.request.Request(
                f"{api.url}/api/v1/namespaces/default/configmaps",
                method="POST",
                data=b'{"metadata":{"name":"c"}}',
                headers={"Content-Type": "application/json", **api.auth_headers},
            ),
            timeout=5,
            context=api.ssl_context(),
        ).close()
        assert api.call(lambda: api.store.rv) == before + 1
        assert api.watch_count("", "pods") == 0
