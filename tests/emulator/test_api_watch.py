"""List and watch against the embedded API: kinds, resourceVersions, selectors, resume, expiry, timeouts."""

from __future__ import annotations

import threading
import time

from api_helpers import Http
from kube_emulator.apiserver import api_watch
from kube_emulator.apiserver.apiserver import EmbeddedAPI

pytest_plugins = ["api_fixtures"]


def names(items: list[dict]) -> list[str]:
    return [i["metadata"]["name"] for i in items]


def test_list_has_kind_and_current_resource_version(http: Http, ns: str) -> None:
    pod = http.create_pod("a", ns)
    body = http.get(f"/api/v1/namespaces/{ns}/pods").json()
    assert body["kind"] == "PodList" and body["apiVersion"] == "v1"
    assert int(body["metadata"]["resourceVersion"]) >= int(pod["metadata"]["resourceVersion"])
    assert names(body["items"]) == ["a"]


def test_list_pages_with_limit_and_continue(http: Http, ns: str) -> None:
    for name in ("a", "b", "c"):
        http.create_pod(name, ns)
    path = f"/api/v1/namespaces/{ns}/pods"
    first = http.get(path, limit=2).json()
    assert names(first["items"]) == ["a", "b"] and first["metadata"]["remainingItemCount"] == 1
    second = http.get(path, limit=2, **{"continue": first["metadata"]["continue"]}).json()
    assert names(second["items"]) == ["c"] and "continue" not in second["metadata"]
    assert http.get(path, **{"continue": "%%%"}).status_code == 400


def test_label_selectors(http: Http, ns: str) -> None:
    http.create_pod("a", ns, labels={"app": "x", "tier": "web"})
    http.create_pod("b", ns, labels={"app": "y"})
    http.create_pod("c", ns)
    path = f"/api/v1/namespaces/{ns}/pods"
    cases = {
        "app=x": ["a"],
        "app==x": ["a"],
        "app!=x": ["b", "c"],
        "app in (x,y)": ["a", "b"],
        "app notin (x)": ["b", "c"],
        "tier": ["a"],
        "!tier": ["b", "c"],
        "app,tier=web": ["a"],
    }
    for selector, expected in cases.items():
        assert names(http.get(path, labelSelector=selector).json()["items"]) == expected, selector


def test_field_selectors(http: Http, ns: str) -> None:
    http.create_pod("a", ns)
    http.create_pod("b", ns)
    http.patch(f"/api/v1/namespaces/{ns}/pods/b/status", {"status": {"phase": "Running"}})
    binding = {"metadata": {"name": "a"}, "target": {"kind": "Node", "name": "n1"}}
    assert http.post(f"/api/v1/namespaces/{ns}/pods/a/binding", binding).status_code == 201
    path = f"/api/v1/namespaces/{ns}/pods"
    assert names(http.get(path, fieldSelector="metadata.name=a").json()["items"]) == ["a"]
    assert names(http.get(path, fieldSelector="status.phase=Running").json()["items"]) == ["b"]
    assert names(http.get(path, fieldSelector="status.phase!=Running").json()["items"]) == ["a"]
    assert names(http.get(path, fieldSelector="spec.nodeName=n1").json()["items"]) == ["a"]
    assert names(http.get(path, fieldSelector="spec.nodeName=").json()["items"]) == ["b"]
    all_ns = http.get("/api/v1/pods", fieldSelector=f"metadata.namespace={ns}").json()["items"]
    assert names(all_ns) == ["a", "b"]
    bad = http.get(path, fieldSelector="spec.bogus=1")
    assert bad.status_code == 400 and bad.json()["message"] == "field label not supported: spec.bogus"


def test_watch_from_zero_lists_then_streams_and_ends_at_timeout(
    api: EmbeddedAPI, http: Http, ns: str
) -> None:
    http.create_pod("a", ns)
    path = f"/api/v1/namespaces/{ns}/pods"
    watches_before = api.watch_count("", "pods")

    def later() -> None:
        # Handshake: write only once the server holds the watch open (so these are live events).
        while api.watch_count("", "pods") <= watches_before:
            time.sleep(0.01)
        http.create_pod("b", ns)
        http.patch(f"{path}/b/status", {"status": {"phase": "Running"}})
        http.delete(f"{path}/a")

    writer = threading.Thread(target=later)
    writer.start()
    started = time.monotonic()
    events = [(e["type"], e["object"]["metadata"]["name"]) for e in http.watch(path, timeoutSeconds=3)]
    assert time.monotonic() - started >= 2.9  # ended by its timeoutSeconds (a lower bound only)
    writer.join()
    assert events == [("ADDED", "a"), ("ADDED", "b"), ("MODIFIED", "b"), ("DELETED", "a")]


def test_watch_resumes_after_a_resource_version(http: Http, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    first = http.post(path, {"metadata": {"name": "one"}}).json()
    http.post(path, {"metadata": {"name": "two"}})
    http.patch(f"{path}/one", {"data": {"k": "v"}})
    events = list(http.watch(path, resourceVersion=first["metadata"]["resourceVersion"], timeoutSeconds=0.3))
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "two"),
        ("MODIFIED", "one"),
    ]
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(rvs) and rvs[0] > int(first["metadata"]["resourceVersion"])


def test_watch_with_a_selector_turns_transitions_into_added_and_deleted(http: Http, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/pods"
    start = http.create_pod("p", ns)["metadata"]["resourceVersion"]
    http.patch(f"{path}/p/status", {"status": {"phase": "Running"}})
    http.patch(f"{path}/p/status", {"status": {"phase": "Succeeded"}})
    events = list(
        http.watch(path, resourceVersion=start, fieldSelector="status.phase=Running", timeoutSeconds=0.3)
    )
    assert [(e["type"], e["object"]["status"]["phase"]) for e in events] == [
        ("ADDED", "Running"),
        ("DELETED", "Succeeded"),
    ]


def test_too_old_resource_version_gets_an_expired_error_event(tmp_path) -> None:
    with EmbeddedAPI(history_size=5) as small:
        client = Http.to(small)
        first = client.post("/api/v1/namespaces/default/configmaps", {"metadata": {"name": "c0"}}).json()
        for i in range(1, 10):
            client.post("/api/v1/namespaces/default/configmaps", {"metadata": {"name": f"c{i}"}})
        events = list(
            client.watch(
                "/api/v1/namespaces/default/configmaps",
                resourceVersion=first["metadata"]["resourceVersion"],
                timeoutSeconds=1,
            )
        )
        assert len(events) == 1 and events[0]["type"] == "ERROR"
        status = events[0]["object"]
        assert status["kind"] == "Status" and status["code"] == 410 and status["reason"] == "Expired"
        assert status["message"].startswith(
            f"too old resource version: {first['metadata']['resourceVersion']} ("
        )


def test_watch_bookmarks_and_initial_events_end(http: Http, ns: str, monkeypatch) -> None:
    http.create_pod("a", ns)
    events = list(
        http.watch(
            f"/api/v1/namespaces/{ns}/pods",
            sendInitialEvents="true",
            allowWatchBookmarks="true",
            resourceVersionMatch="NotOlderThan",
            timeoutSeconds=0.3,
        )
    )
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    bookmark = events[1]["object"]
    assert bookmark["kind"] == "Pod" and bookmark["metadata"]["annotations"] == {
        "k8s.io/initial-events-end": "true"
    }
    monkeypatch.setattr(api_watch, "BOOKMARK_INTERVAL", 0.1)
    idle = list(
        http.watch(
            f"/api/v1/namespaces/{ns}/pods",
            resourceVersion=bookmark["metadata"]["resourceVersion"],
            allowWatchBookmarks="true",
            timeoutSeconds=0.45,
        )
    )
    assert len(idle) >= 2 and {e["type"] for e in idle} == {"BOOKMARK"}
    assert "annotations" not in idle[0]["object"]["metadata"]


def test_watch_single_object_by_name_in_path(http: Http, ns: str) -> None:
    http.create_pod("a", ns)
    http.create_pod("b", ns)
    events = list(http.watch(f"/api/v1/watch/namespaces/{ns}/pods/b", timeoutSeconds=0.2))
    assert [e["object"]["metadata"]["name"] for e in events] == ["b"]
