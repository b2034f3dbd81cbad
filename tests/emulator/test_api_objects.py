"""Object writes against the embedded API, checked against what a real kube-apiserver answers."""

from __future__ import annotations

import re

from api_helpers import APPLY, JSONPATCH, STRATEGIC, Http, wait_for

UID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

pytest_plugins = ["api_fixtures"]


def configmap(name: str, **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def test_create_answers_201_with_server_side_metadata(http: Http, ns: str) -> None:
    response = http.post(
        f"/api/v1/namespaces/{ns}/pods",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "uid": "forged", "resourceVersion": "999"},
            "spec": {"containers": [{"name": "main", "image": "x"}]},
        },
    )
    assert response.status_code == 201
    assert response.headers["Content-Type"].startswith("application/json")
    meta = response.json()["metadata"]
    assert meta["namespace"] == ns and meta["name"] == "p"
    assert UID.match(meta["uid"]) and TIMESTAMP.match(meta["creationTimestamp"])
    assert meta["generation"] == 1
    assert int(meta["resourceVersion"]) > 0 and meta["resourceVersion"] != "999"
    assert response.json()["status"]["phase"] == "Pending"


def test_resource_versions_come_from_one_global_counter(http: Http, ns: str) -> None:
    first = http.post(f"/api/v1/namespaces/{ns}/configmaps", configmap("a")).json()
    second = http.post(f"/api/v1/namespaces/{ns}/secrets", {"metadata": {"name": "s"}}).json()
    assert int(second["metadata"]["resourceVersion"]) == int(first["metadata"]["resourceVersion"]) + 1


def test_generate_name(http: Http, ns: str) -> None:
    response = http.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"generateName": "job-"}})
    assert response.status_code == 201
    assert re.match(r"^job-[a-z0-9]{5}$", response.json()["metadata"]["name"])


def test_create_without_name_is_invalid(http: Http, ns: str) -> None:
    response = http.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {}})
    assert response.status_code == 422
    body = response.json()
    assert body["reason"] == "Invalid"
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueRequired",
            "field": "metadata.name",
            "message": "Required value: name or generateName is required",
        }
    ]


def test_bad_name_is_invalid(http: Http, ns: str) -> None:
    response = http.post(f"/api/v1/namespaces/{ns}/configmaps", configmap("Bad_Name"))
    assert response.status_code == 422
    assert response.json()["message"].startswith(
        'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: '
        '"Bad_Name": a lowercase RFC 1123 subdomain'
    )


def test_duplicate_create_is_409_already_exists(http: Http, ns: str) -> None:
    assert http.post(f"/api/v1/namespaces/{ns}/configmaps", configmap("dup")).status_code == 201
    response = http.post(f"/api/v1/namespaces/{ns}/configmaps", configmap("dup"))
    assert response.status_code == 409
    assert response.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'configmaps "dup" already exists',
        "reason": "AlreadyExists",
        "details": {"name": "dup", "kind": "configmaps"},
        "code": 409,
    }


def test_namespace_comes_from_the_url_and_must_match(http: Http, ns: str) -> None:
    body = configmap("x")
    body["metadata"]["namespace"] = "other"
    response = http.post(f"/api/v1/namespaces/{ns}/configmaps", body)
    assert response.status_code == 400
    assert response.json()["message"] == (
        "the namespace of the provided object does not match the namespace sent on the request"
    )
    missing = http.post("/api/v1/namespaces/nope/configmaps", configmap("x"))
    assert missing.status_code == 404 and missing.json()["message"] == 'namespaces "nope" not found'


def test_get_missing_is_404_not_found(http: Http, ns: str) -> None:
    response = http.get(f"/apis/apps/v1/namespaces/{ns}/deployments/ghost")
    assert response.status_code == 404
    assert response.json()["message"] == 'deployments.apps "ghost" not found'
    assert response.json()["details"] == {"name": "ghost", "kind": "deployments", "group": "apps"}


def test_put_replaces_and_stale_resource_version_conflicts(http: Http, ns: str) -> None:
    created = http.post(f"/api/v1/namespaces/{ns}/configmaps", configmap("c", a="1")).json()
    replaced = http.put(f"/api/v1/namespaces/{ns}/configmaps/c", {**created, "data": {"b": "2"}})
    assert replaced.status_code == 200
    assert replaced.json()["data"] == {"b": "2"}
    assert replaced.json()["metadata"]["uid"] == created["metadata"]["uid"]
    stale = http.put(f"/api/v1/namespaces/{ns}/configmaps/c", {**created, "data": {"c": "3"}})
    assert stale.status_code == 409
    assert stale.json()["reason"] == "Conflict"
    assert stale.json()["message"] == (
        'Operation cannot be fulfilled on configmaps "c": the object has been '
        "modified; please apply your changes to the latest version and try again"
    )
    missing = http.put(f"/api/v1/namespaces/{ns}/configmaps/none", configmap("none"))
    assert missing.status_code == 404


def test_put_name_must_match_url(http: Http, ns: str) -> None:
    http.post(f"/api/v1/namespaces/{ns}/configmaps", configmap("c"))
    response = http.put(f"/api/v1/namespaces/{ns}/configmaps/c", configmap("d"))
    assert response.status_code == 400
    assert response.json()["message"] == "the name of the object (d) does not match the name on the URL (c)"


def test_merge_patch_and_its_resource_version_precondition(http: Http, ns: str) -> None:
    created = http.post(f"/api/v1/namespaces/{ns}/configmaps", configmap("m", a="1", b="2")).json()
    patched = http.patch(f"/api/v1/namespaces/{ns}/configmaps/m", {"data": {"a": None, "c": "3"}})
    assert patched.status_code == 200 and patched.json()["data"] == {"b": "2", "c": "3"}
    stale = {"metadata": {"resourceVersion": created["metadata"]["resourceVersion"]}, "data": {"d": "4"}}
    assert http.patch(f"/api/v1/namespaces/{ns}/configmaps/m", stale).status_code == 409
    fresh = {
        "metadata": {"resourceVersion": patched.json()["metadata"]["resourceVersion"]},
        "data": {"d": "4"},
    }
    assert http.patch(f"/api/v1/namespaces/{ns}/configmaps/m", fresh).status_code == 200


def test_merge_patch_replaces_a_map_by_a_scalar(http: Http, ns: str) -> None:
    http.post(f"/api/v1/namespaces/{ns}/configmaps", configmap("s", a="1"))
    response = http.patch(f"/api/v1/namespaces/{ns}/configmaps/s", {"metadata": {"annotations": {"x": "y"}}})
    assert response.json()["metadata"]["annotations"] == {"x": "y"}


def test_json_patch_and_failed_test_is_422(http: Http, ns: str) -> None:
    created = http.post(f"/api/v1/namespaces/{ns}/configmaps", configmap("j", a="1")).json()
    rv = created["metadata"]["resourceVersion"]
    ok = http.patch(
        f"/api/v1/namespaces/{ns}/configmaps/j",
        [
            {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
            {"op": "add", "path": "/metadata/finalizers", "value": ["x.io/f"]},
        ],
        JSONPATCH,
    )
    assert ok.status_code == 200 and ok.json()["metadata"]["finalizers"] == ["x.io/f"]
    failed = http.patch(
        f"/api/v1/namespaces/{ns}/configmaps/j",
        [
            {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
            {"op": "remove", "path": "/metadata/finalizers"},
        ],
        JSONPATCH,
    )
    assert failed.status_code == 422
    assert failed.json()["reason"] == "Invalid"
    assert (
        failed.json()["details"]["causes"][0]["message"]
        == "testing value /metadata/resourceVersion failed: test failed"
    )
    http.patch(f"/api/v1/namespaces/{ns}/configmaps/j", {"metadata": {"finalizers": None}})


def test_unknown_patch_type_is_415(http: Http, ns: str) -> None:
    http.post(f"/api/v1/namespaces/{ns}/configmaps", configmap("u"))
    response = http.patch(f"/api/v1/namespaces/{ns}/configmaps/u", {"data": {}}, "text/plain")
    assert response.status_code == 415 and response.json()["reason"] == "UnsupportedMediaType"


def test_strategic_merge_patch_merges_containers_and_env_by_name(http: Http, ns: str) -> None:
    body = {
        "metadata": {"name": "d", "finalizers": ["a"]},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "one", "image": "i1", "env": [{"name": "A", "value": "1"}]},
                        {"name": "two", "image": "i2"},
                    ]
                }
            }
        },
    }
    http.post(f"/apis/apps/v1/namespaces/{ns}/deployments", body)
    patch = {
        "metadata": {"finalizers": ["b"]},
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "one"}, {"name": "two"}],
                    "containers": [
                        {"name": "one", "env": [{"name": "B", "value": "2"}]},
                        {"name": "two", "$patch": "delete"},
                    ],
                }
            }
        },
    }
    response = http.patch(f"/apis/apps/v1/namespaces/{ns}/deployments/d", patch, STRATEGIC)
    assert response.status_code == 200
    assert response.json()["spec"]["template"]["spec"]["containers"] == [
        {"name": "one", "image": "i1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
    ]
    assert response.json()["metadata"]["finalizers"] == ["a", "b"]
    http.patch(f"/apis/apps/v1/namespaces/{ns}/deployments/d", {"metadata": {"finalizers": None}})


def test_server_side_apply_creates_then_merges(http: Http, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps/ssa"
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: '1'\n"
    created = http.patch(path, manifest, APPLY, fieldManager="test")
    assert created.status_code == 201 and created.json()["data"] == {"a": "1"}
    http.patch(path, {"metadata": {"labels": {"kept": "yes"}}})
    applied = http.patch(path, manifest.replace("'1'", "'2'"), APPLY, fieldManager="test")
    no_manager = http.patch(path, manifest, APPLY)
    assert no_manager.status_code == 400
    assert no_manager.json()["message"] == "fieldManager is required for apply requests"
    assert applied.status_code == 200
    assert applied.json()["data"] == {"a": "2"} and applied.json()["metadata"]["labels"] == {"kept": "yes"}


def test_status_subresource_is_separate_from_the_main_endpoint(http: Http, ns: str) -> None:
    pod = http.create_pod("s", ns)
    path = f"/api/v1/namespaces/{ns}/pods/s"
    main = http.patch(path, {"spec": {"activeDeadlineSeconds": 5}, "status": {"phase": "Running"}})
    assert main.json()["status"]["phase"] == "Pending"
    assert main.json()["spec"]["activeDeadlineSeconds"] == 5
    status = http.patch(
        path + "/status", {"spec": {"activeDeadlineSeconds": 9}, "status": {"phase": "Running"}}
    )
    assert status.status_code == 200
    assert status.json()["status"]["phase"] == "Running"
    assert status.json()["spec"]["activeDeadlineSeconds"] == 5
    assert http.get(path + "/status").json()["metadata"]["uid"] == pod["metadata"]["uid"]
    put = http.put(path + "/status", {**status.json(), "status": {"phase": "Succeeded"}})
    assert put.status_code == 200 and put.json()["status"]["phase"] == "Succeeded"


def test_generation_bumps_only_on_spec_changes(http: Http, ns: str) -> None:
    http.post(
        f"/apis/apps/v1/namespaces/{ns}/deployments", {"metadata": {"name": "g"}, "spec": {"replicas": 1}}
    )
    path = f"/apis/apps/v1/namespaces/{ns}/deployments/g"
    assert http.patch(path, {"metadata": {"labels": {"a": "b"}}}).json()["metadata"]["generation"] == 1
    assert http.patch(path + "/status", {"status": {"replicas": 1}}).json()["metadata"]["generation"] == 1
    assert http.patch(path, {"spec": {"replicas": 2}}).json()["metadata"]["generation"] == 2


def test_no_op_update_keeps_the_resource_version(http: Http, ns: str) -> None:
    created = http.post(f"/api/v1/namespaces/{ns}/configmaps", configmap("n", a="1")).json()
    same = http.patch(f"/api/v1/namespaces/{ns}/configmaps/n", {"data": {"a": "1"}}).json()
    assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_namespaces_are_objects_and_default_exists(http: Http) -> None:
    default = http.get("/api/v1/namespaces/default")
    assert default.status_code == 200 and default.json()["status"] == {"phase": "Active"}
    names = [n["metadata"]["name"] for n in http.get("/api/v1/namespaces").json()["items"]]
    assert {"default", "kube-system"} <= set(names)
    assert http.get("/api/v1/namespaces").json()["kind"] == "NamespaceList"


def test_deleting_a_namespace_deletes_its_contents(http: Http) -> None:
    http.post("/api/v1/namespaces", {"metadata": {"name": "doomed"}})
    http.post("/api/v1/namespaces/doomed/configmaps", configmap("c"))
    deleted = http.delete("/api/v1/namespaces/doomed")
    assert deleted.status_code == 200 and deleted.json()["status"]["phase"] == "Terminating"
    wait_for(lambda: http.get("/api/v1/namespaces/doomed").status_code == 404)
    assert http.get("/api/v1/namespaces/doomed/configmaps/c").status_code == 404


def test_server_side_dry_run_stores_nothing(http: Http, ns: str) -> None:
    response = http.post(f"/api/v1/namespaces/{ns}/configmaps", configmap("dry"), dryRun="All")
    assert response.status_code == 201 and response.json()["metadata"]["uid"]
    assert http.get(f"/api/v1/namespaces/{ns}/configmaps/dry").status_code == 404
    http.post(f"/api/v1/namespaces/{ns}/configmaps", configmap("real", a="1"))
    patched = http.patch(f"/api/v1/namespaces/{ns}/configmaps/real", {"data": {"a": "2"}}, dryRun="All")
    assert patched.json()["data"] == {"a": "2"}
    assert http.get(f"/api/v1/namespaces/{ns}/configmaps/real").json()["data"] == {"a": "1"}
    assert http.delete(f"/api/v1/namespaces/{ns}/configmaps/real", dryRun="All").status_code == 200
    assert http.get(f"/api/v1/namespaces/{ns}/configmaps/real").status_code == 200


def test_malformed_bodies_are_400_not_500(http: Http, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    assert http.post(path, "{not json").status_code == 400
    assert http.post(path, [1, 2]).status_code == 400
    assert http.post(path, {"metadata": "x"}).status_code == 400
    assert http.post(path, {"metadata": {"name": "l", "labels": ["a"]}}).status_code == 400
    http.post(path, configmap("ok"))
    assert http.patch(f"{path}/ok", {"metadata": {"labels": "x"}}).status_code == 400
    assert http.patch(f"{path}/ok", {"op": "add"}, JSONPATCH).status_code == 422
    assert http.patch(f"{path}/ok", "").status_code == 400


def test_immutable_configmap_data_cannot_change(http: Http, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    http.post(path, {**configmap("frozen", a="1"), "immutable": True})
    response = http.patch(f"{path}/frozen", {"data": {"a": "2"}})
    assert response.status_code == 422
    assert response.json()["message"] == (
        'ConfigMap "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set'
    )
    assert http.patch(f"{path}/frozen", {"metadata": {"labels": {"ok": "1"}}}).status_code == 200


def test_delete_collection_with_a_label_selector(http: Http, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    for name, team in (("a", "x"), ("b", "x"), ("c", "y")):
        http.post(path, {"metadata": {"name": name, "labels": {"team": team}}})
    deleted = http.delete(path, labelSelector="team=x")
    assert deleted.status_code == 200 and deleted.json()["kind"] == "ConfigMapList"
    assert [i["metadata"]["name"] for i in deleted.json()["items"]] == ["a", "b"]
    assert [i["metadata"]["name"] for i in http.get(path).json()["items"]] == ["c"]
