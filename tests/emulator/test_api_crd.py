"""CRDs in the embedded API: serving, discovery, schema enforcement as a real server does it."""

from __future__ import annotations

from typing import Any

import pytest

from api_helpers import STRATEGIC, Http, wait_for

GROUP = "demo.mnft.io"
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "required": ["image"],
            "x-kubernetes-validations": [
                {
                    "rule": "self.minReplicas <= self.replicas",
                    "message": "replicas must be at least minReplicas",
                    "fieldPath": ".replicas",
                },
                {"rule": "self.image == oldSelf.image", "message": "image is immutable"},
            ],
            "properties": {
                "image": {"type": "string", "minLength": 1},
                "replicas": {"type": "integer", "minimum": 1, "maximum": 8, "default": 1},
                "minReplicas": {"type": "integer", "default": 1},
                "mode": {"type": "string", "enum": ["fast", "slow"], "default": "fast"},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "tags": {"type": "array", "maxItems": 2, "items": {"type": "string"}},
            },
        },
        "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
    },
}

pytest_plugins = ["api_fixtures"]


def crd(plural: str = "gadgets", kind: str = "Gadget", scope: str = "Namespaced") -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": scope,
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind, "shortNames": ["gd"]},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}
                    ],
                    "schema": {"openAPIV3Schema": SCHEMA},
                }
            ],
        },
    }


@pytest.fixture(scope="module")
def gadgets(http: Http) -> str:
    response = http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd())
    assert response.status_code == 201, response.text
    return f"/apis/{GROUP}/v1"


def gadget(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/v1", "kind": "Gadget", "metadata": {"name": name}, "spec": spec}


def test_crd_is_established_and_discoverable(http: Http, gadgets: str) -> None:
    def established() -> bool:
        status = http.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.{GROUP}").json()
        return any(
            c["type"] == "Established" and c["status"] == "True"
            for c in status.get("status", {}).get("conditions", [])
        )

    wait_for(established)
    groups = http.get("/apis").json()["groups"]
    assert {
        "name": GROUP,
        "kind": "APIGroup",
        "apiVersion": "v1",
        "versions": [{"groupVersion": f"{GROUP}/v1", "version": "v1"}],
        "preferredVersion": {"groupVersion": f"{GROUP}/v1", "version": "v1"},
    } in groups
    resources = http.get(gadgets).json()["resources"]
    assert [r["name"] for r in resources] == ["gadgets", "gadgets/status"]
    assert resources[0]["kind"] == "Gadget" and resources[0]["namespaced"] is True
    assert resources[0]["shortNames"] == ["gd"]


def test_custom_object_gets_defaults_and_unknown_fields_pruned(http: Http, ns: str, gadgets: str) -> None:
    response = http.post(
        f"{gadgets}/namespaces/{ns}/gadgets", gadget("g", image="img", junk=1, extra={"any": 1})
    )
    assert response.status_code == 201
    body = response.json()
    assert body["spec"] == {
        "image": "img",
        "replicas": 1,
        "minReplicas": 1,
        "mode": "fast",
        "extra": {"any": 1},
    }
    assert body["metadata"]["generation"] == 1 and "status" not in body


@pytest.mark.parametrize(
    ("spec", "field", "reason", "message"),
    [
        (
            {"image": "i", "replicas": 0},
            "spec.replicas",
            "FieldValueInvalid",
            "Invalid value: 0: spec.replicas in body should be greater than or equal to 1",
        ),
        (
            {"image": "i", "replicas": 9},
            "spec.replicas",
            "FieldValueInvalid",
            "Invalid value: 9: spec.replicas in body should be less than or equal to 8",
        ),
        (
            {"image": "i", "mode": "warp"},
            "spec.mode",
            "FieldValueNotSupported",
            'Unsupported value: "warp": supported values: "fast", "slow"',
        ),
        ({"replicas": 2}, "spec.image", "FieldValueRequired", "Required value"),
        (
            {"image": "i", "replicas": "two"},
            "spec.replicas",
            "FieldValueTypeInvalid",
            'Invalid value: "string": spec.replicas in body must be of type integer: "string"',
        ),
        (
            {"image": "i", "tags": ["a", "b", "c"]},
            "spec.tags",
            "FieldValueTooMany",
            "Too many: 3: must have at most 2 items",
        ),
        (
            {"image": "i", "replicas": 2, "minReplicas": 3},
            "spec.replicas",
            "FieldValueInvalid",
            'Invalid value: "object": replicas must be at least minReplicas',
        ),
    ],
)
def test_schema_violations_are_422_naming_the_field(
    http: Http, ns: str, gadgets: str, spec: dict, field: str, reason: str, message: str
) -> None:
    response = http.post(f"{gadgets}/namespaces/{ns}/gadgets", gadget("bad", **spec))
    assert response.status_code == 422
    body = response.json()
    assert body["reason"] == "Invalid"
    assert body["message"] == f'Gadget.{GROUP} "bad" is invalid: {field}: {message}'
    assert body["details"] == {
        "name": "bad",
        "group": GROUP,
        "kind": "Gadget",
        "causes": [{"reason": reason, "message": message, "field": field}],
    }


def test_transition_rule_uses_old_self_on_update_only(http: Http, ns: str, gadgets: str) -> None:
    path = f"{gadgets}/namespaces/{ns}/gadgets"
    assert http.post(path, gadget("t", image="a")).status_code == 201
    changed = http.patch(f"{path}/t", {"spec": {"image": "b"}})
    assert changed.status_code == 422
    assert (
        changed.json()["message"]
        == f'Gadget.{GROUP} "t" is invalid: spec: Invalid value: "object": image is immutable'
    )
    assert http.patch(f"{path}/t", {"spec": {"replicas": 3}}).json()["metadata"]["generation"] == 2


def test_status_subresource_of_a_custom_resource(http: Http, ns: str, gadgets: str) -> None:
    path = f"{gadgets}/namespaces/{ns}/gadgets"
    http.post(path, {**gadget("s", image="a"), "status": {"phase": "Ignored"}})
    assert "status" not in http.get(f"{path}/s").json()
    updated = http.patch(f"{path}/s/status", {"status": {"phase": "Running"}})
    assert updated.json()["status"] == {"phase": "Running"} and updated.json()["metadata"]["generation"] == 1
    assert http.patch(f"{path}/s", {"status": {"phase": "Nope"}}).json()["status"] == {"phase": "Running"}


def test_strategic_merge_patch_is_415_for_custom_resources(http: Http, ns: str, gadgets: str) -> None:
    http.post(f"{gadgets}/namespaces/{ns}/gadgets", gadget("x", image="a"))
    response = http.patch(f"{gadgets}/namespaces/{ns}/gadgets/x", {"spec": {}}, STRATEGIC)
    assert response.status_code == 415


def test_printer_columns_in_table_output(http: Http, ns: str, gadgets: str) -> None:
    http.post(f"{gadgets}/namespaces/{ns}/gadgets", gadget("tab", image="a", replicas=3))
    response = http.session.get(
        http.url + f"{gadgets}/namespaces/{ns}/gadgets",
        headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"},
    )
    table = response.json()
    assert table["kind"] == "Table"
    # a CRD's own columns replace the default Age column, as on a real server
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Replicas"]
    assert table["rows"][0]["cells"][:2] == ["tab", 3]


def test_invalid_crd_name_is_rejected(http: Http) -> None:
    body = crd("things", "Thing")
    body["metadata"]["name"] = "wrong.name"
    response = http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body)
    assert response.status_code == 422
    assert response.json()["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "field": "metadata.name",
            "message": 'Invalid value: "wrong.name": must be spec.names.plural+"."+spec.group',
        }
    ]


def test_unknown_resource_is_404_until_its_crd_exists_and_after_it_is_deleted(http: Http) -> None:
    path = f"/apis/{GROUP}/v1/widgets"
    assert http.get(path).status_code == 404
    assert (
        http.post(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd("widgets", "Widget", "Cluster")
        ).status_code
        == 201
    )
    assert http.post(path, {**gadget("w", image="a"), "kind": "Widget"}).status_code == 201
    assert http.get(f"{path}/w").json()["metadata"].get("namespace") is None
    http.delete(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{GROUP}")
    wait_for(lambda: http.get(path).status_code == 404)  # the CRD finalizer deletes "w", then the CRD


CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def _terminating(crd: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in crd.get("status", {}).get("conditions", []) if c["type"] == "Terminating"), None)


def test_deleting_a_crd_deletes_its_objects_then_the_crd(http: Http, ns: str) -> None:
    assert http.post(CRDS, crd("sprockets", "Sprocket")).status_code == 201
    path = f"/apis/{GROUP}/v1/namespaces/{ns}/sprockets"
    for name in ("a", "b"):
        assert http.post(path, {**gadget(name, image="x"), "kind": "Sprocket"}).status_code == 201
    deleted = http.delete(f"{CRDS}/sprockets.{GROUP}")
    assert deleted.status_code == 200, deleted.text
    # As a real server answers: marked for deletion with the cleanup finalizer, not gone yet.
    assert deleted.json()["metadata"]["deletionTimestamp"]
    assert deleted.json()["metadata"]["finalizers"] == ["customresourcecleanup.apiextensions.k8s.io"]
    wait_for(lambda: http.get(f"{CRDS}/sprockets.{GROUP}").status_code == 404)
    assert http.get(path).status_code == 404
    assert "sprockets" not in http.get(f"/apis/{GROUP}/v1").text


def test_an_object_with_a_finalizer_keeps_its_crd_terminating_until_the_finalizer_goes(
    http: Http, ns: str
) -> None:
    assert http.post(CRDS, crd("cogs", "Cog")).status_code == 201
    path = f"/apis/{GROUP}/v1/namespaces/{ns}/cogs"
    held = {**gadget("held", image="x"), "kind": "Cog"}
    held["metadata"]["finalizers"] = ["example.com/hold"]
    assert http.post(path, held).status_code == 201
    assert http.post(path, {**gadget("free", image="x"), "kind": "Cog"}).status_code == 201
    assert http.delete(f"{CRDS}/cogs.{GROUP}").status_code == 200

    def cleanup_waits() -> bool:
        condition = _terminating(http.get(f"{CRDS}/cogs.{GROUP}").json())
        return condition is not None and http.get(f"{path}/free").status_code == 404

    wait_for(cleanup_waits)
    terminating = http.get(f"{CRDS}/cogs.{GROUP}").json()
    assert terminating["metadata"]["deletionTimestamp"]
    condition = _terminating(terminating)
    assert condition is not None
    assert (condition["status"], condition["reason"], condition["message"]) == (
        "True",
        "InstanceDeletionInProgress",
        "CustomResource deletion is in progress",
    )
    # The held object is marked for deletion and still served (its controller must be able to finish it).
    assert http.get(f"{path}/held").json()["metadata"]["deletionTimestamp"]
    refused = http.post(path, {**gadget("late", image="x"), "kind": "Cog"})
    assert refused.status_code == 405
    assert refused.json()["reason"] == "MethodNotAllowed"
    assert refused.json()["message"] == "create not allowed while custom resource definition is terminating"
    assert http.delete(f"{CRDS}/cogs.{GROUP}").status_code == 200  # deleting again changes nothing
    assert http.get(f"{CRDS}/cogs.{GROUP}").status_code == 200

    released = http.patch(f"{path}/held", {"metadata": {"finalizers": None}})
    assert released.status_code == 200, released.text
    wait_for(lambda: http.get(f"{CRDS}/cogs.{GROUP}").status_code == 404)
    assert http.get(path).status_code == 404


def test_a_crd_deletion_is_seen_by_a_watch_step_by_step(http: Http) -> None:
    created = http.post(CRDS, crd("levers", "Lever"))
    assert created.status_code == 201
    wait_for(lambda: bool(http.get(f"{CRDS}/levers.{GROUP}").json().get("status")))  # Established
    rv = http.get(f"{CRDS}/levers.{GROUP}").json()["metadata"]["resourceVersion"]
    assert http.delete(f"{CRDS}/levers.{GROUP}").status_code == 200
    wait_for(lambda: http.get(f"{CRDS}/levers.{GROUP}").status_code == 404)
    steps = []
    for event in http.watch(CRDS, resourceVersion=rv, timeoutSeconds=1):
        meta, condition = event["object"]["metadata"], _terminating(event["object"])
        if meta["name"] == f"levers.{GROUP}":
            reason = None if condition is None else f"{condition['status']} {condition['reason']}"
            steps.append((event["type"], meta.get("finalizers"), reason))
    cleanup = ["customresourcecleanup.apiextensions.k8s.io"]
    assert steps == [
        ("MODIFIED", cleanup, None),  # deletionTimestamp and the cleanup finalizer
        ("MODIFIED", cleanup, "True InstanceDeletionInProgress"),
        ("MODIFIED", cleanup, "False InstanceDeletionCompleted"),
        ("MODIFIED", [], "False InstanceDeletionCompleted"),
        ("DELETED", [], "False InstanceDeletionCompleted"),
    ]
