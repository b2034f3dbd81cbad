"""The kubelet's list+watch client against the embedded API: resume from a resourceVersion, 410 -> relist."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kube_emulator.apiserver.apiserver import EmbeddedAPI
from kube_emulator.kubelet.kubelet_client import KubeletClient, WatchExpired, list_and_watch

PATH = "/api/v1/namespaces/default/configmaps"


def configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": name}}


async def test_watch_resumes_after_a_resource_version_and_expires_when_too_old() -> None:
    api = EmbeddedAPI(history_size=5)
    api.start()
    client = KubeletClient(api.url, api.token, api.ca_pem)
    await client.open()
    try:
        await client.request("POST", PATH, configmap("before"))
        listed = await client.request("GET", PATH)
        rv = listed["metadata"]["resourceVersion"]
        await client.request("POST", PATH, configmap("after"))
        events = client.watch(PATH, rv)
        kind, obj = await asyncio.wait_for(events.__anext__(), 60)
        assert (kind, obj["metadata"]["name"]) == ("ADDED", "after")  # "before" is not replayed
        await events.aclose()

        for i in range(10):  # push `rv` out of the API's 5-event history
            await client.request("POST", PATH, configmap(f"filler-{i}"))
        with pytest.raises(WatchExpired):
            async for _ in client.watch(PATH, rv):
                pass
    finally:
        await client.close()
        api.stop()


async def test_list_and_watch_lists_then_streams_and_survives_handler_errors() -> None:
    api = EmbeddedAPI()
    api.start()
    client = KubeletClient(api.url, api.token, api.ca_pem)
    await client.open()
    seen: list[tuple[str, str]] = []
    ready = asyncio.Event()

    async def on_list(items: list[dict[str, Any]]) -> None:
        seen.extend(("LIST", i["metadata"]["name"]) for i in items)

    async def on_event(kind: str, obj: dict[str, Any]) -> None:
        seen.append((kind, obj["metadata"]["name"]))
        if obj["metadata"]["name"] == "boom":
            raise RuntimeError("a handler bug")

    try:
        await client.request("POST", PATH, configmap("old"))
        task = asyncio.create_task(list_and_watch(client, PATH, on_list, on_event, ready))
        await asyncio.wait_for(ready.wait(), 60)
        await client.request("POST", PATH, configmap("boom"))
        await client.request("POST", PATH, configmap("new"))
        for _ in range(100):
            if ("ADDED", "new") in seen:
                break
            await asyncio.sleep(0.02)
        assert seen == [("LIST", "old"), ("ADDED", "boom"), ("ADDED", "new")]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        await client.close()
        api.stop()
