"""Resource quantities: the embedded API stores and returns canonical strings, as kube-apiserver does, so the
`kubernetes` client's typed models can read pods created with integer quantities."""

from __future__ import annotations

from typing import Any

from kubernetes import client as k8s

from api_helpers import Http, k8s_configuration
from kube_emulator.apiserver.apiserver import EmbeddedAPI

pytest_plugins = ["api_fixtures"]


def pod_body(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "initContainers": [{"name": "init", "image": "x", "resources": {"requests": {"cpu": 0.5}}}],
            "containers": [
                {
                    "name": "trainer",
                    "image": "x",
                    "resources": {
                        "limits": {"huawei.com/Ascend910": 8, "memory": "1024Mi", "cpu": "2000m"},
                        "requests": {"huawei.com/Ascend910": 8, "memory": 1073741824, "cpu": "1.5"},
                    },
                }
            ],
            "overhead": {"cpu": 0.25},
        },
    }


def test_pod_quantities_are_stored_and_returned_canonical(http: Http, ns: str) -> None:
    created = http.post(f"/api/v1/namespaces/{ns}/pods", pod_body("q"))
    assert created.status_code == 201, created.text
    for pod in (created.json(), http.get(f"/api/v1/namespaces/{ns}/pods/q").json()):
        spec = pod["spec"]
        assert spec["containers"][0]["resources"] == {
            "limits": {"huawei.com/Ascend910": "8", "memory": "1Gi", "cpu": "2"},
            "requests": {"huawei.com/Ascend910": "8", "memory": "1073741824", "cpu": "1500m"},
        }
        assert spec["initContainers"][0]["resources"] == {"requests": {"cpu": "500m"}}
        assert spec["overhead"] == {"cpu": "250m"}


def test_sync_kubernetes_client_lists_a_pod_created_with_integer_quantities(
    api: EmbeddedAPI, http: Http, ns: str
) -> None:
    assert http.post(f"/api/v1/namespaces/{ns}/pods", pod_body("typed")).status_code == 201
    core = k8s.CoreV1Api(k8s.ApiClient(k8s_configuration(api)))
    pods = core.list_namespaced_pod(ns).items
    assert [p.metadata and p.metadata.name for p in pods] == ["typed"]
    assert pods[0].spec is not None
    resources = pods[0].spec.containers[0].resources
    assert resources is not None and resources.requests is not None
    assert resources.limits == {"huawei.com/Ascend910": "8", "memory": "1Gi", "cpu": "2"}
    assert resources.requests["cpu"] == "1500m"


def test_an_update_resending_integers_is_no_spec_change(http: Http, ns: str) -> None:
    """8 and "8" are the same request: a PUT of the original body (integers) is not a forbidden spec edit."""
    created = http.post(f"/api/v1/namespaces/{ns}/pods", pod_body("same")).json()
    body = {**created, "metadata": {**created["metadata"], "labels": {"x": "y"}}}
    container = body["spec"]["containers"][0]
    container["resources"] = pod_body("same")["spec"]["containers"][0]["resources"]
    updated = http.put(f"/api/v1/namespaces/{ns}/pods/same", body)
    assert updated.status_code == 200, updated.text
    assert updated.json()["spec"]["containers"][0]["resources"]["limits"]["huawei.com/Ascend910"] == "8"
    assert updated.json()["metadata"]["labels"] == {"x": "y"}


def test_an_invalid_quantity_is_a_422_naming_the_field(http: Http, ns: str) -> None:
    body: dict[str, Any] = {
        "metadata": {"name": "bad"},
        "spec": {"containers": [{"name": "c", "image": "x"}]},
    }
    body["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "two"}}
    response = http.post(f"/api/v1/namespaces/{ns}/pods", body)
    assert response.status_code == 422
    causes = response.json()["details"]["causes"]
    assert [c["field"] for c in causes] == ["spec.containers[0].resources.limits[cpu]"]
    assert causes[0]["message"].startswith('Invalid value: "two": quantities must match the regular')


def test_node_capacity_is_canonical_on_create_and_status_patch(http: Http) -> None:
    node = {"metadata": {"name": "qn"}, "status": {"capacity": {"cpu": 2, "memory": "1024Ki"}}}
    created = http.post("/api/v1/nodes", node)
    assert created.status_code == 201, created.text
    assert created.json()["status"]["capacity"] == {"cpu": "2", "memory": "1Mi"}
    patch = {"status": {"allocatable": {"huawei.com/Ascend910": 8, "cpu": 1.5}}}
    patched = http.patch("/api/v1/nodes/qn/status", patch)
    assert patched.status_code == 200, patched.text
    assert patched.json()["status"]["allocatable"] == {"huawei.com/Ascend910": "8", "cpu": "1500m"}
    http.delete("/api/v1/nodes/qn")
