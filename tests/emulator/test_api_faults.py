"""Fault injection in the embedded API: off by default, seeded, as real Status errors, delays, cut watches
and a node marked NotReady."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from api_helpers import Http
from kube_emulator.apiserver.api_faults import FaultPlan
from kube_emulator.apiserver.apiserver import EmbeddedAPI

pytest_plugins = ["api_fixtures"]


@pytest.fixture
def faults(api: EmbeddedAPI) -> Iterator[EmbeddedAPI]:
    """The module's server with its fault plan reset after each test."""
    yield api
    api.faults.plan = None


def _codes(http: Http, path: str, n: int) -> list[int]:
    return [http.get(path).status_code for _ in range(n)]


def test_off_by_default(http: Http, ns: str, api: EmbeddedAPI) -> None:
    assert api.faults.plan is None
    assert _codes(http, f"/api/v1/namespaces/{ns}/pods", 30) == [200] * 30
    assert not any(k.startswith("error") for k in api.faults.counts)


def test_a_429_carries_retry_after_and_the_request_is_not_applied(
    http: Http, ns: str, faults: EmbeddedAPI
) -> None:
    faults.faults.plan = FaultPlan(seed=1, error_rate=1.0, codes=(429,), retry_after=3, verbs={"create"})
    response = http.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "c"}})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    body = response.json()
    assert (body["kind"], body["status"], body["reason"], body["code"]) == (
        "Status",
        "Failure",
        "TooManyRequests",
        429,
    )
    assert body["message"] == "Too many requests, please try again later."
    assert body["details"] == {"retryAfterSeconds": 3}
    faults.faults.plan = None
    assert http.get(f"/api/v1/namespaces/{ns}/configmaps/c").status_code == 404


@pytest.mark.parametrize(
    ("code", "reason"), [(409, "Conflict"), (500, "InternalError"), (503, "ServiceUnavailable")]
)
def test_each_error_code_is_a_status_body(
    http: Http, ns: str, faults: EmbeddedAPI, code: int, reason: str
) -> None:
    faults.faults.plan = FaultPlan(seed=1, error_rate=1.0, codes=(code,))
    response = http.get(f"/api/v1/namespaces/{ns}/pods")
    assert response.status_code == code
    assert (response.json()["reason"], response.json()["code"]) == (reason, code)


def test_the_same_seed_gives_the_same_faults(http: Http, ns: str, faults: EmbeddedAPI) -> None:
    path = f"/api/v1/namespaces/{ns}/pods"
    runs = []
    for seed in (11, 11, 12):
        faults.faults.plan = FaultPlan(seed=seed, error_rate=0.4, codes=(409, 429, 500))
        runs.append(_codes(http, path, 40))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert {409, 429, 500, 200} <= set(runs[0])  # a fraction fails, with every code drawn


def test_filters_by_verb_resource_and_client(http: Http, ns: str, faults: EmbeddedAPI) -> None:
    faults.faults.plan = FaultPlan(seed=2, error_rate=1.0, codes=(500,), verbs={"create"}, resources={"pods"})
    assert http.get(f"/api/v1/namespaces/{ns}/pods").status_code == 200
    assert http.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "ok"}}).status_code == 201
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    assert http.post(f"/api/v1/namespaces/{ns}/pods", pod).status_code == 500
    faults.faults.plan = FaultPlan(seed=2, error_rate=1.0, user_agents={"kopf"})
    assert http.get(f"/api/v1/namespaces/{ns}/pods").status_code == 200  # python-requests is spared
    faults.faults.plan = FaultPlan(seed=2, error_rate=1.0, user_agents={"python-requests"})
    assert http.get(f"/api/v1/namespaces/{ns}/pods").status_code == 500


def test_limit_caps_the_errors_injected(http: Http, ns: str, faults: EmbeddedAPI) -> None:
    before = faults.faults.counts["error-500"]
    faults.faults.plan = FaultPlan(seed=3, error_rate=1.0, limit=3)
    assert _codes(http, f"/api/v1/namespaces/{ns}/pods", 6) == [500, 500, 500, 200, 200, 200]
    assert faults.faults.counts["error-500"] - before == 3
    faults.faults.plan = FaultPlan(seed=3, error_rate=1.0)
    assert http.get(f"/api/v1/namespaces/{ns}/pods").status_code == 500
    faults.faults.plan = None  # off again: the very next request is served
    assert http.get(f"/api/v1/namespaces/{ns}/pods").status_code == 200


def test_a_delay_holds_the_request_then_answers_it(http: Http, ns: str, faults: EmbeddedAPI) -> None:
    faults.faults.plan = FaultPlan(seed=4, delay=0.5, delay_rate=1.0, verbs={"get"})
    started = time.monotonic()
    response = http.get(f"/api/v1/namespaces/{ns}")
    assert time.monotonic() - started >= 0.5  # a lower bound only: a busy machine makes it longer
    assert response.status_code == 200 and response.json()["metadata"]["name"] == ns


def test_cut_watches_ends_open_streams_and_a_resumed_watch_misses_nothing(
    http: Http, ns: str, faults: EmbeddedAPI
) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    rv = http.get(path).json()["metadata"]["resourceVersion"]
    seen: list[dict[str, Any]] = []
    watching = threading.Event()

    def read() -> None:
        for event in http.watch(path, resourceVersion=rv, timeoutSeconds=300):
            seen.append(event)
            watching.set()

    reader = threading.Thread(target=read, daemon=True)
    assert http.post(path, {"metadata": {"name": "before"}}).status_code == 201
    reader.start()
    assert watching.wait(30)
    assert faults.faults.cut_watches() >= 1
    reader.join(30)
    assert not reader.is_alive()  # the stream ended long before its 300 s timeout
    assert [e["object"]["metadata"]["name"] for e in seen] == ["before"]
    assert http.post(path, {"metadata": {"name": "after"}}).status_code == 201
    last = seen[-1]["object"]["metadata"]["resourceVersion"]
    resumed = [
        e["object"]["metadata"]["name"] for e in http.watch(path, resourceVersion=last, timeoutSeconds=1)
    ]
    assert resumed == ["after"]


def test_a_node_marked_not_ready_and_back(http: Http, faults: EmbeddedAPI) -> None:
    node = {"metadata": {"name": "n1"}, "spec": {}}
    assert http.post("/api/v1/nodes", node).status_code == 201
    ready = {
        "type": "Ready",
        "status": "True",
        "reason": "KubeletReady",
        "message": "",
        "lastTransitionTime": "x",
    }
    assert http.patch("/api/v1/nodes/n1/status", {"status": {"conditions": [ready]}}).status_code == 200

    faults.faults.set_node_ready("n1", False)
    lost = http.get("/api/v1/nodes/n1").json()
    condition = lost["status"]["conditions"][0]
    assert (condition["status"], condition["reason"], condition["message"]) == (
        "Unknown",
        "NodeStatusUnknown",
        "Kubelet stopped posting node status.",
    )
    assert [(t["key"], t["effect"]) for t in lost["spec"]["taints"]] == [
        ("node.kubernetes.io/unreachable", "NoSchedule"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
    ]
    faults.faults.set_node_ready("n1", True)
    back = http.get("/api/v1/nodes/n1").json()
    assert back["status"]["conditions"][0]["status"] == "True"
    assert "taints" not in back["spec"]
    assert faults.faults.counts["node-not-ready"] >= 1


def test_a_plan_out_of_range_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match=r"FaultPlan\.error_rate must be within \[0, 1\], not 1.5"):
        FaultPlan(error_rate=1.5)
    with pytest.raises(ValueError, match=r"FaultPlan\.codes must be some of"):
        FaultPlan(codes=(404,))
