"""Deletion against the embedded API: finalizers, deletionTimestamp, garbage collection by ownerReferences."""

from __future__ import annotations

from api_helpers import JSONPATCH, Http, wait_for

pytest_plugins = ["api_fixtures"]


def owned_by(owner: dict, name: str) -> dict:
    ref = {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    return {"metadata": {"name": name, "ownerReferences": [ref]}}


def test_finalizers_hold_the_object_with_a_deletion_timestamp(http: Http, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    http.post(path, {"metadata": {"name": "f", "finalizers": ["x.io/hold"]}})
    first = http.delete(f"{path}/f")
    assert first.status_code == 200
    meta = first.json()["metadata"]
    assert meta["deletionTimestamp"] and meta["finalizers"] == ["x.io/hold"]
    assert http.get(f"{path}/f").json()["metadata"]["deletionTimestamp"] == meta["deletionTimestamp"]
    again = http.delete(f"{path}/f").json()["metadata"]
    assert again["resourceVersion"] == meta["resourceVersion"]
    added = http.patch(f"{path}/f", {"metadata": {"finalizers": ["x.io/hold", "x.io/new"]}})
    assert added.status_code == 422 and added.json()["details"]["causes"][0]["field"] == "metadata.finalizers"
    released = http.patch(f"{path}/f", [{"op": "remove", "path": "/metadata/finalizers/0"}], JSONPATCH)
    assert released.status_code == 200
    assert http.get(f"{path}/f").status_code == 404


def test_delete_without_finalizers_removes_at_once(http: Http, ns: str) -> None:
    http.create_pod("p", ns)
    deleted = http.delete(f"/api/v1/namespaces/{ns}/pods/p")
    assert deleted.status_code == 200 and deleted.json()["metadata"]["name"] == "p"
    assert http.get(f"/api/v1/namespaces/{ns}/pods/p").status_code == 404
    assert http.delete(f"/api/v1/namespaces/{ns}/pods/p").status_code == 404


def test_a_bound_running_pod_is_deleted_gracefully_until_its_kubelet_confirms(http: Http, ns: str) -> None:
    http.create_pod("g", ns)
    path = f"/api/v1/namespaces/{ns}/pods/g"
    http.post(f"{path}/binding", {"metadata": {"name": "g"}, "target": {"kind": "Node", "name": "n"}})
    http.patch(f"{path}/status", {"status": {"phase": "Running"}})
    first = http.delete(path).json()["metadata"]
    assert first["deletionGracePeriodSeconds"] == 30 and first["deletionTimestamp"]
    assert http.get(path).status_code == 200
    assert (
        http.delete(path, {"gracePeriodSeconds": 60}).json()["metadata"]["deletionGracePeriodSeconds"] == 30
    )
    confirmed = http.delete(
        path, {"gracePeriodSeconds": 0, "preconditions": {"uid": http.get(path).json()["metadata"]["uid"]}}
    )
    assert confirmed.status_code == 200
    assert http.get(path).status_code == 404


def test_unbound_or_finished_pods_are_deleted_at_once(http: Http, ns: str) -> None:
    http.create_pod("unbound", ns)
    assert http.delete(f"/api/v1/namespaces/{ns}/pods/unbound").status_code == 200
    assert http.get(f"/api/v1/namespaces/{ns}/pods/unbound").status_code == 404
    http.create_pod("done", ns)
    path = f"/api/v1/namespaces/{ns}/pods/done"
    http.post(f"{path}/binding", {"metadata": {"name": "done"}, "target": {"kind": "Node", "name": "n"}})
    http.patch(f"{path}/status", {"status": {"phase": "Succeeded"}})
    http.delete(path)
    assert http.get(path).status_code == 404


def test_delete_preconditions(http: Http, ns: str) -> None:
    http.create_pod("p", ns)
    response = http.delete(f"/api/v1/namespaces/{ns}/pods/p", {"preconditions": {"uid": "not-it"}})
    assert (
        response.status_code == 409
        and "Precondition failed: UID in precondition: not-it" in response.json()["message"]
    )


def test_background_gc_cascades_through_dependents(http: Http, ns: str) -> None:
    owner = http.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "owner"}}).json()
    pod = http.post(
        f"/api/v1/namespaces/{ns}/pods",
        {**owned_by(owner, "child"), "spec": {"containers": [{"name": "c", "image": "x"}]}},
    ).json()
    http.post(f"/api/v1/namespaces/{ns}/secrets", owned_by(pod, "grandchild"))
    http.post(f"/api/v1/namespaces/{ns}/secrets", {"metadata": {"name": "unrelated"}})
    assert http.delete(f"/api/v1/namespaces/{ns}/configmaps/owner").status_code == 200
    wait_for(lambda: http.get(f"/api/v1/namespaces/{ns}/secrets/grandchild").status_code == 404)
    assert http.get(f"/api/v1/namespaces/{ns}/pods/child").status_code == 404
    assert http.get(f"/api/v1/namespaces/{ns}/secrets/unrelated").status_code == 200


def test_gc_keeps_a_dependent_that_has_another_live_owner(http: Http, ns: str) -> None:
    one = http.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "one"}}).json()
    two = http.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "two"}}).json()
    child = owned_by(one, "child")
    second = owned_by(two, "child")["metadata"]["ownerReferences"][0]
    child["metadata"]["ownerReferences"].append({**second, "controller": False})
    http.post(f"/api/v1/namespaces/{ns}/secrets", child)
    http.delete(f"/api/v1/namespaces/{ns}/configmaps/one")
    path = f"/api/v1/namespaces/{ns}/secrets/child"
    wait_for(lambda: len(http.get(path).json()["metadata"]["ownerReferences"]) == 1)
    assert http.get(path).json()["metadata"]["ownerReferences"][0]["name"] == "two"


def test_orphan_propagation_keeps_dependents(http: Http, ns: str) -> None:
    owner = http.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "owner"}}).json()
    http.post(f"/api/v1/namespaces/{ns}/secrets", owned_by(owner, "kept"))
    http.delete(f"/api/v1/namespaces/{ns}/configmaps/owner", {"propagationPolicy": "Orphan"})
    kept = http.get(f"/api/v1/namespaces/{ns}/secrets/kept")
    assert kept.status_code == 200 and "ownerReferences" not in kept.json()["metadata"]


def test_foreground_deletion_removes_dependents_first(http: Http, ns: str) -> None:
    owner = http.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "owner"}}).json()
    child = owned_by(owner, "child")
    child["metadata"]["finalizers"] = ["x.io/hold"]
    http.post(f"/api/v1/namespaces/{ns}/secrets", child)
    deleting = http.delete(
        f"/api/v1/namespaces/{ns}/configmaps/owner", {"propagationPolicy": "Foreground"}
    ).json()
    assert (
        deleting["metadata"]["finalizers"] == ["foregroundDeletion"]
        and deleting["metadata"]["deletionTimestamp"]
    )
    wait_for(
        lambda: bool(
            http.get(f"/api/v1/namespaces/{ns}/secrets/child").json()["metadata"].get("deletionTimestamp")
        )
    )
    assert http.get(f"/api/v1/namespaces/{ns}/configmaps/owner").status_code == 200
    http.patch(f"/api/v1/namespaces/{ns}/secrets/child", {"metadata": {"finalizers": None}})
    wait_for(lambda: http.get(f"/api/v1/namespaces/{ns}/configmaps/owner").status_code == 404)


def test_owner_references_are_validated(http: Http, ns: str) -> None:
    owner = http.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "o"}}).json()
    twice = owned_by(owner, "twice")
    twice["metadata"]["ownerReferences"].append({**twice["metadata"]["ownerReferences"][0], "uid": "other"})
    response = http.post(f"/api/v1/namespaces/{ns}/secrets", twice)
    assert response.status_code == 422
    assert response.json()["details"]["causes"][0]["message"].endswith(
        "Only one reference can have Controller set to true"
    )
    no_uid = owned_by(owner, "no-uid")
    del no_uid["metadata"]["ownerReferences"][0]["uid"]
    response = http.post(f"/api/v1/namespaces/{ns}/secrets", no_uid)
    assert response.json()["message"] == (
        'Secret "no-uid" is invalid: metadata.ownerReferences.uid: Invalid value: "": uid must not be empty'
    )


def test_dependent_of_a_missing_owner_is_collected(http: Http, ns: str) -> None:
    ghost = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ghost", "uid": "0000-gone"}}
    assert http.post(f"/api/v1/namespaces/{ns}/secrets", owned_by(ghost, "orphan")).status_code == 201
    wait_for(lambda: http.get(f"/api/v1/namespaces/{ns}/secrets/orphan").status_code == 404)
