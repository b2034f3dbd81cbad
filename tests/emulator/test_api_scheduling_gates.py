"""Pod Scheduling Readiness in the embedded API: spec.schedulingGates can only be removed after creation
(https://kubernetes.io/docs/concepts/scheduling-eviction/pod-scheduling-readiness/)."""

from __future__ import annotations

from typing import Any

from api_helpers import Http

pytest_plugins = ["api_fixtures"]


def gated_pod(http: Http, ns: str, name: str, *gates: str) -> str:
    body: dict[str, Any] = {
        "metadata": {"name": name},
        "spec": {
            "schedulingGates": [{"name": g} for g in gates],
            "containers": [{"name": "main", "image": "busybox"}],
        },
    }
    response = http.post(f"/api/v1/namespaces/{ns}/pods", body)
    assert response.status_code == 201, response.text
    assert response.json()["spec"]["schedulingGates"] == [{"name": g} for g in gates]
    return f"/api/v1/namespaces/{ns}/pods/{name}"


def test_gates_can_be_removed_one_by_one(http: Http, ns: str) -> None:
    path = gated_pod(http, ns, "g", "example.com/a", "example.com/b")
    pod = http.get(path).json()
    pod["spec"]["schedulingGates"] = [{"name": "example.com/b"}]
    assert http.put(path, pod).status_code == 200
    cleared = http.patch(path, {"spec": {"schedulingGates": None}})
    assert cleared.status_code == 200, cleared.text
    assert "schedulingGates" not in http.get(path).json()["spec"]


def test_gates_cannot_be_added_after_creation(http: Http, ns: str) -> None:
    path = gated_pod(http, ns, "h", "example.com/a")
    added = http.patch(path, {"spec": {"schedulingGates": [{"name": "example.com/a"}, {"name": "x.io/new"}]}})
    assert added.status_code == 422
    assert added.json()["message"] == (
        'Pod "h" is invalid: spec.schedulingGates[1].name: Forbidden: only deletion is allowed, but found '
        "new scheduling gate 'x.io/new'"
    )
    http.create_pod("plain", ns)
    late = http.patch(
        f"/api/v1/namespaces/{ns}/pods/plain", {"spec": {"schedulingGates": [{"name": "x.io/a"}]}}
    )
    assert late.status_code == 422
    assert "only deletion is allowed, but found new scheduling gate 'x.io/a'" in late.json()["message"]
    assert http.get(path).json()["spec"]["schedulingGates"] == [{"name": "example.com/a"}]
