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
    assert http.get(path).status_code == 404


def test_the_projects_crd_rejects_zero_workers_as_a_real_server_words_it(http: Http) -> None:
    from mnft_operator.crd import crd as mnft_crd

    assert http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", mnft_crd()).status_code == 201
    job = {
        "apiVersion": "finetune.mindspore.io/v1alpha1",
        "kind": "MobileNetFineTune",
        "metadata": {"name": "x"},
        "spec": {
            "platform": "CPU",
            "image": "mnft-trainer:0.1.0",
            "workers": 0,
            "dataset": {"path": "d", "volume": {"persistentVolumeClaim": {"claimName": "data"}}},
        },
    }
    response = http.post("/apis/finetune.mindspore.io/v1alpha1/namespaces/default/mobilenetfinetunes", job)
    assert response.status_code == 422
    assert response.json()["message"] == (
        'MobileNetFineTune.finetune.mindspore.io "x" is invalid: spec.workers: Invalid value: 0: '
        "spec.workers in body should be greater than or equal to 1"
    )
    assert response.json()["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "field": "spec.workers",
            "message": "Invalid value: 0: spec.workers in body should be greater than or equal to 1",
        }
    ]
    job["spec"]["workers"] = 2
    created = http.post("/apis/finetune.mindspore.io/v1alpha1/namespaces/default/mobilenetfinetunes", job)
    assert created.status_code == 201, created.text
