"""Pod subresources, discovery and the other built-in groups of the embedded API."""

from __future__ import annotations

import threading
import time

from api_helpers import Http
from kube_emulator.apiserver.apiserver import EmbeddedAPI

pytest_plugins = ["api_fixtures"]


def two_container_pod(http: Http, ns: str, name: str) -> None:
    body = {
        "metadata": {"name": name},
        "spec": {
            "initContainers": [{"name": "init", "image": "x"}],
            "containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "x"}],
        },
    }
    assert http.post(f"/api/v1/namespaces/{ns}/pods", body).status_code == 201


def test_pod_log_is_served_from_the_log_dir(api: EmbeddedAPI, http: Http, ns: str) -> None:
    http.create_pod("p", ns)
    path = f"/api/v1/namespaces/{ns}/pods/p/log"
    waiting = http.get(path)
    assert waiting.status_code == 400
    assert waiting.json()["message"] == 'container "main" in pod "p" is waiting to start: ContainerCreating'
    assert api.log_dir is not None
    log = api.log_dir / ns / "p" / "main.log"
    log.parent.mkdir(parents=True)
    log.write_text("one\ntwo\nthree\n")
    response = http.get(path)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    assert response.text == "one\ntwo\nthree\n"
    assert http.get(path, tailLines=2).text == "two\nthree\n"
    assert http.get(path, limitBytes=5).text == "one\nt"
    assert http.get(path, container="main", timestamps="true").text == "one\ntwo\nthree\n"
    assert http.get(f"/api/v1/namespaces/{ns}/pods/none/log").status_code == 404


def test_pod_log_needs_a_container_name_when_there_are_several(http: Http, ns: str) -> None:
    two_container_pod(http, ns, "multi")
    response = http.get(f"/api/v1/namespaces/{ns}/pods/multi/log")
    assert response.status_code == 400
    assert response.json()["message"] == (
        "a container name must be specified for pod multi, choose one of: [a b] "
        "or one of the init containers: [init]"
    )
    wrong = http.get(f"/api/v1/namespaces/{ns}/pods/multi/log", container="zzz")
    assert wrong.status_code == 400 and wrong.json()["message"] == "container zzz is not valid for pod multi"


def test_pod_log_follow_streams_until_the_pod_ends(api: EmbeddedAPI, http: Http, ns: str) -> None:
    http.create_pod("f", ns)
    assert api.log_dir is not None
    log = api.log_dir / ns / "f" / "main.log"
    log.parent.mkdir(parents=True)
    log.write_text("start\n")

    def finish() -> None:
        time.sleep(0.3)
        with log.open("a") as handle:
            handle.write("end\n")
        http.patch(f"/api/v1/namespaces/{ns}/pods/f/status", {"status": {"phase": "Succeeded"}})

    threading.Thread(target=finish).start()
    response = http.get(f"/api/v1/namespaces/{ns}/pods/f/log", follow="true")
    assert response.text == "start\nend\n"


def test_binding_assigns_the_node_once(http: Http, ns: str) -> None:
    http.create_pod("b", ns)
    binding = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": "b"},
        "target": {"apiVersion": "v1", "kind": "Node", "name": "local"},
    }
    response = http.post(f"/api/v1/namespaces/{ns}/pods/b/binding", binding)
    assert response.status_code == 201 and response.json()["status"] == "Success"
    pod = http.get(f"/api/v1/namespaces/{ns}/pods/b").json()
    assert pod["spec"]["nodeName"] == "local"
    assert [c["type"] for c in pod["status"]["conditions"]] == ["PodScheduled"]
    again = http.post(f"/api/v1/namespaces/{ns}/pods/b/binding", binding)
    assert again.status_code == 409 and 'is already assigned to node "local"' in again.json()["message"]


def test_pod_spec_is_immutable_but_for_images_and_deadline(http: Http, ns: str) -> None:
    http.create_pod("im", ns)
    path = f"/api/v1/namespaces/{ns}/pods/im"
    changed = http.patch(path, {"spec": {"nodeName": "elsewhere"}})
    assert changed.status_code == 422
    assert changed.json()["message"].startswith(
        'Pod "im" is invalid: spec: Forbidden: pod updates may not change fields other than '
        "`spec.containers[*].image`"
    )
    replaced = http.get(path).json()
    replaced["spec"]["containers"][0]["image"] = "new"
    replaced["spec"]["activeDeadlineSeconds"] = 30
    assert http.put(path, replaced).status_code == 200
    assert http.patch(path, {"metadata": {"labels": {"ok": "yes"}}}).status_code == 200


def test_pods_get_server_defaults_and_structural_validation(http: Http, ns: str) -> None:
    spec = http.create_pod("d", ns)["spec"]
    assert {
        k: spec[k] for k in ("restartPolicy", "terminationGracePeriodSeconds", "dnsPolicy", "schedulerName")
    } == {
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "schedulerName": "default-scheduler",
    }
    container = spec["containers"][0]
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "File" and container["imagePullPolicy"] == "Always"
    bad = {
        "metadata": {"name": "bad", "labels": {"job": "x" * 64}},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {"name": "main", "image": "i:1", "volumeMounts": [{"name": "data", "mountPath": "/d"}]}
            ],
        },
    }
    response = http.post(f"/api/v1/namespaces/{ns}/pods", bad)
    assert response.status_code == 422
    assert response.json()["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "field": "metadata.labels",
            "message": f'Invalid value: "{"x" * 64}": must be no more than 63 characters',
        },
        {
            "reason": "FieldValueNotFound",
            "field": "spec.containers[0].volumeMounts[0].name",
            "message": 'Not found: "data"',
        },
    ]


def test_pod_status_starts_pending_with_its_qos_class(http: Http, ns: str) -> None:
    def create(name: str, resources: dict) -> dict:
        body = {
            "metadata": {"name": name},
            "status": {"phase": "Running"},
            "spec": {"containers": [{"name": "c", "image": "i:1", "resources": resources}]},
        }
        return http.post(f"/api/v1/namespaces/{ns}/pods", body).json()["status"]

    assert create("best", {}) == {"phase": "Pending", "qosClass": "BestEffort"}
    assert create("burst", {"requests": {"cpu": "1"}})["qosClass"] == "Burstable"
    both = {"cpu": "1", "memory": "1Gi"}
    assert create("guaranteed", {"requests": both, "limits": both})["qosClass"] == "Guaranteed"
    assert create("limits-only", {"limits": both})["qosClass"] == "Guaranteed"
    # Only cpu and memory count, as in Kubernetes and the local kubelet's status.
    assert create("device-only", {"limits": {"huawei.com/Ascend910": "8"}})["qosClass"] == "BestEffort"


def test_rbac_names_may_contain_colons(http: Http) -> None:
    role = {"metadata": {"name": "system:mnft:reader"}, "rules": []}
    assert http.post("/apis/rbac.authorization.k8s.io/v1/clusterroles", role).status_code == 201


def test_services_get_a_cluster_ip(http: Http, ns: str) -> None:
    body = {"metadata": {"name": "svc"}, "spec": {"selector": {"a": "b"}, "ports": [{"port": 80}]}}
    spec = http.post(f"/api/v1/namespaces/{ns}/services", body).json()["spec"]
    assert spec["type"] == "ClusterIP" and spec["clusterIP"].startswith("10.96.")
    assert spec["ports"] == [{"protocol": "TCP", "port": 80}]
    headless = {"metadata": {"name": "hl"}, "spec": {"clusterIP": "None", "selector": {"a": "b"}}}
    assert http.post(f"/api/v1/namespaces/{ns}/services", headless).json()["spec"]["clusterIP"] == "None"


def test_subresources_without_a_server_behind_them_are_404(http: Http, ns: str) -> None:
    http.create_pod("p", ns)
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p"}}
    assert http.post(f"/api/v1/namespaces/{ns}/pods/p/eviction", eviction).status_code == 404
    assert http.get(f"/api/v1/namespaces/{ns}/pods/p").status_code == 200  # not evicted
    assert http.get(f"/api/v1/namespaces/{ns}/configmaps/x/status").status_code == 404


def test_core_discovery_reports_v1_not_slash_v1(http: Http) -> None:
    core = http.get("/api/v1").json()
    assert core["kind"] == "APIResourceList" and core["groupVersion"] == "v1"
    names = {r["name"] for r in core["resources"]}
    assert {
        "pods",
        "pods/status",
        "pods/log",
        "pods/binding",
        "namespaces",
        "events",
        "nodes",
        "nodes/status",
        "services",
        "configmaps",
        "secrets",
        "persistentvolumeclaims",
        "serviceaccounts",
    } <= names
    assert http.get("/api").json()["versions"] == ["v1"]
    groups = {g["name"] for g in http.get("/apis").json()["groups"]}
    assert {
        "apps",
        "rbac.authorization.k8s.io",
        "coordination.k8s.io",
        "events.k8s.io",
        "apiextensions.k8s.io",
    } <= groups
    assert "scheduling.volcano.sh" not in groups
    assert http.get("/version").json()["major"] == "1"


def test_openapi_v3_lists_patch_operations_with_field_validation(http: Http) -> None:
    root = http.get("/openapi/v3").json()["paths"]
    assert root["api/v1"]["serverRelativeURL"].startswith("/openapi/v3/api/v1?hash=")
    assert "apis/apps/v1" in root
    core = http.get("/openapi/v3/api/v1").json()
    patch = core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "", "version": "v1", "kind": "Pod"}
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
    assert core["components"]["schemas"]["io.k8s.api.core.v1.Pod"]["x-kubernetes-preserve-unknown-fields"]
    assert http.get("/openapi/v3/apis/nope/v1").status_code == 404


def test_events_leases_and_rbac_round_trip(http: Http, ns: str) -> None:
    event = {
        "metadata": {"name": "e1"},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": ns},
        "reason": "Started",
        "message": "hi",
        "type": "Normal",
    }
    assert http.post(f"/api/v1/namespaces/{ns}/events", event).status_code == 201
    found = http.get(f"/api/v1/namespaces/{ns}/events", fieldSelector="involvedObject.name=p,reason=Started")
    assert [e["metadata"]["name"] for e in found.json()["items"]] == ["e1"]
    new_event = {
        "metadata": {"name": "e2"},
        "regarding": {"kind": "Pod", "name": "p"},
        "reason": "X",
        "action": "Y",
        "reportingController": "c",
        "reportingInstance": "i",
        "eventTime": None,
    }
    assert http.post(f"/apis/events.k8s.io/v1/namespaces/{ns}/events", new_event).status_code == 201
    lease = {"metadata": {"name": "l"}, "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}}
    created = http.put(f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/l", lease)
    assert created.status_code == 201 and created.json()["spec"]["holderIdentity"] == "me"
    role = {
        "metadata": {"name": "r"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
    }
    assert http.post("/apis/rbac.authorization.k8s.io/v1/clusterroles", role).status_code == 201
    assert http.post(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles", role).status_code == 201
    assert http.get(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/clusterroles").status_code == 404


def test_nodes_are_cluster_scoped_and_keep_status_on_create(http: Http) -> None:
    node = {"metadata": {"name": "n1"}, "status": {"capacity": {"cpu": "2"}}}
    created = http.post("/api/v1/nodes", node)
    assert created.status_code == 201 and created.json()["status"] == {"capacity": {"cpu": "2"}}
    assert "namespace" not in created.json()["metadata"]
    assert http.patch("/api/v1/nodes/n1/status", {"status": {"capacity": {"cpu": "4"}}}).status_code == 200
