"""The CRD dict: names, printer columns, descriptions, immutability; its CEL rules agree with spec.validate.

The CEL rules are compiled and evaluated with cel-python on the same specs spec.validate sees, so the
Python twins cannot drift from what a real API server enforces.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

import celpy
import pytest

from mnft_operator.crd import crd
from mnft_operator.crd_spec import CORE_V1_FIELDS
from mnft_operator.spec import defaulted_spec, validate

VERSION = crd()["spec"]["versions"][0]
ROOT = VERSION["schema"]["openAPIV3Schema"]


def walk(schema: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    yield path, schema
    for key, sub in schema.get("properties", {}).items():
        yield from walk(sub, f"{path}.{key}" if path else key)
    if "items" in schema:
        yield from walk(schema["items"], f"{path}[]")


def test_names_scope_and_subresources() -> None:
    c = crd()
    assert c["metadata"]["name"] == "mobilenetfinetunes.finetune.mindspore.io"
    assert c["spec"]["names"] == {
        "kind": "MobileNetFineTune",
        "listKind": "MobileNetFineTuneList",
        "plural": "mobilenetfinetunes",
        "singular": "mobilenetfinetune",
        "shortNames": ["mft"],
        "categories": ["all", "mindspore", "training"],
    }
    assert (c["spec"]["scope"], VERSION["name"], VERSION["subresources"]) == (
        "Namespaced",
        "v1alpha1",
        {"status": {}},
    )
    assert [(col["name"], col["jsonPath"]) for col in VERSION["additionalPrinterColumns"]] == [
        ("Phase", ".status.phase"),
        ("Platform", ".spec.platform"),
        ("Workers", ".status.workersReady"),
        ("Restarts", ".status.restarts"),
        ("Epoch", ".status.progress.epoch"),
        ("Images/s", ".status.progress.imagesPerSecond"),
        ("ETA(s)", ".status.progress.etaSeconds"),
        ("Accuracy", ".status.result.accuracy"),
        ("Age", ".metadata.creationTimestamp"),
    ]


def _inside_core_v1(path: str) -> bool:
    return any(path.startswith((f"{field}.", f"{field}[]")) for field in CORE_V1_FIELDS)


def test_every_spec_and_status_field_has_a_type_and_description() -> None:
    """Ours all have both; inside the embedded core/v1 types upstream's descriptions are kept as they are."""
    missing = []
    for path, schema in walk(ROOT):
        if not path.startswith(("spec", "status")):
            continue
        typed = "type" in schema or "x-kubernetes-int-or-string" in schema
        if not typed or ("description" not in schema and not _inside_core_v1(path)):
            missing.append(path)
    assert missing == []


def test_immutable_fields() -> None:
    immutable = sorted(
        path
        for path, schema in walk(ROOT)
        if any(r["rule"] == "self == oldSelf" for r in schema.get("x-kubernetes-validations", []))
    )
    assert immutable == [
        "spec.communication",
        "spec.dataset",
        "spec.devicesPerWorker",
        "spec.export",
        "spec.hyperparameters",
        "spec.output",
        "spec.platform",
        "spec.pretrained",
        "spec.scheduling",
        "spec.workers",
    ]


def test_crd_is_a_fresh_dict_each_call() -> None:
    a = crd()
    a["spec"]["names"]["kind"] = "Changed"
    assert crd()["spec"]["names"]["kind"] == "MobileNetFineTune"


# -- CEL ----------------------------------------------------------------------------------------------------
CEL = celpy.Environment()


def cel_failures(obj: Mapping[str, Any]) -> set[str]:
    """Fields named by the CRD's non-transition CEL rules that fail on `obj` (spec already defaulted)."""
    failures: set[str] = set()

    def visit(schema: Mapping[str, Any], value: Any, path: str) -> None:
        for rule in schema.get("x-kubernetes-validations", []):
            if "oldSelf" in rule["rule"]:
                continue
            program = CEL.program(CEL.compile(rule["rule"]))
            if not bool(program.evaluate({"self": celpy.json_to_cel(value)})):
                # Root rules have no fieldPath; their message starts with the field.
                where = (
                    path + rule["fieldPath"] if "fieldPath" in rule else path or rule["message"].split(" ")[0]
                )
                failures.add(where)
        if isinstance(value, dict):
            for key, sub in schema.get("properties", {}).items():
                if key in value:
                    visit(sub, value[key], f"{path}.{key}" if path else key)

    visit(ROOT, obj, "")
    return {f.lstrip(".") for f in failures}


def test_root_rules_name_their_field_in_the_message() -> None:
    assert [r["message"].split(" ")[0] for r in ROOT["x-kubernetes-validations"]] == ["metadata.name"] * 2
    assert all("fieldPath" not in r for r in ROOT["x-kubernetes-validations"])


BASE: dict[str, Any] = {
    "apiVersion": "finetune.mindspore.io/v1alpha1",
    "kind": "MobileNetFineTune",
    "metadata": {"name": "flowers"},
    "spec": {"platform": "CPU", "image": "mnft:0.1", "dataset": {"path": "/data"}},
}
CASES: list[tuple[dict[str, Any], dict[str, Any] | None]] = [
    ({}, None),
    ({"platform": "Ascend", "devicesPerWorker": 3}, None),
    ({"platform": "Ascend", "workers": 2, "devicesPerWorker": 4}, None),
    ({"platform": "Ascend", "workers": 2, "devicesPerWorker": 8}, None),
    ({"platform": "Ascend", "devicesPerWorker": 2}, None),
    ({"communication": {"mode": "rankTable"}}, None),
    ({"platform": "Ascend", "communication": {"mode": "rankTable"}}, None),
    ({"workers": 2, "scheduling": {"minAvailable": 3}}, None),
    ({"workers": 2, "scheduling": {"minAvailable": 2}}, None),
    ({"dataset": {"path": "relative"}}, None),
    ({"dataset": {"path": "/abs", "volume": {"emptyDir": {}}}}, None),
    ({"dataset": {"path": "rel", "volume": {"emptyDir": {}}}}, None),
    ({"dataset": {"path": "/a/../b"}}, None),
    ({"pretrained": {"freezeLayer": "backbone"}}, None),
    ({"pretrained": {"checkpoint": "/c", "url": "https://x", "sha256": "0" * 64}}, None),
    ({"pretrained": {"url": "https://x"}}, None),
    ({"pretrained": {"url": "https://x", "sha256": "0" * 64, "volume": {"emptyDir": {}}}}, None),
    ({"pretrained": {"url": "https://x", "sha256": "0" * 64}}, None),
    ({"pretrained": {"checkpoint": "c.ckpt"}}, None),
    ({"pretrained": {"checkpoint": "c.ckpt", "volume": {"emptyDir": {}}}}, None),
    ({"output": {"path": "/abs"}}, None),
    ({"output": {"path": "a/../../b"}}, None),
    ({"hyperparameters": {"warmupEpochs": 5, "epochSize": 2}}, None),
    ({"hyperparameters": {"warmupEpochs": 2, "epochSize": 2, "lrEnd": 0.5, "lrMax": 0.1}}, None),
    ({"hyperparameters": {"lrEnd": 0.1, "lrMax": 0.1}}, None),
    ({"hyperparameters": {"lrEnd": 0, "lrMax": 0.8}}, None),  # JSON integer in a number field
    ({"hyperparameters": {"lrEnd": 2, "lrMax": 1.5}}, None),
    ({"hyperparameters": {"cropScaleMin": 0.9, "cropScaleMax": 0.5}}, None),
    ({"hyperparameters": {"cropRatioMin": 2, "cropRatioMax": 1.5}}, None),
    (
        {"hyperparameters": {"cropScaleMin": 0.6, "cropScaleMax": 0.6, "cropRatioMin": 1, "cropRatioMax": 1}},
        None,
    ),
    ({}, {"name": "Bad_Name"}),
    ({}, {"name": "a" * 52}),
    ({}, {"name": "a" * 51}),
]


@pytest.mark.parametrize(("changes", "metadata"), CASES)
def test_cel_rules_match_the_python_twins(changes: dict[str, Any], metadata: dict[str, Any] | None) -> None:
    job = copy.deepcopy(BASE)
    job["spec"].update(changes)
    if metadata:
        job["metadata"] = metadata
    defaulted = {**job, "spec": defaulted_spec(job)}
    assert cel_failures(defaulted) == {e.field for e in validate(job)}


# The valid side of each boundary in CASES. Every other case is invalid, so the twin test above compares
# real rejections (CEL and Python naming the same fields), not two empty lists.
ACCEPTED: list[tuple[dict[str, Any], dict[str, Any] | None]] = [
    ({}, None),
    ({"platform": "Ascend", "workers": 2, "devicesPerWorker": 8}, None),
    ({"platform": "Ascend", "devicesPerWorker": 2}, None),
    ({"platform": "Ascend", "communication": {"mode": "rankTable"}}, None),
    ({"workers": 2, "scheduling": {"minAvailable": 2}}, None),
    ({"dataset": {"path": "rel", "volume": {"emptyDir": {}}}}, None),
    ({"pretrained": {"url": "https://x", "sha256": "0" * 64}}, None),
    ({"pretrained": {"checkpoint": "c.ckpt", "volume": {"emptyDir": {}}}}, None),
    ({"hyperparameters": {"lrEnd": 0.1, "lrMax": 0.1}}, None),
    ({"hyperparameters": {"lrEnd": 0, "lrMax": 0.8}}, None),
    (
        {"hyperparameters": {"cropScaleMin": 0.6, "cropScaleMax": 0.6, "cropRatioMin": 1, "cropRatioMax": 1}},
        None,
    ),
    ({}, {"name": "a" * 51}),
]


def test_the_valid_side_of_each_boundary_is_accepted_and_every_other_case_rejected() -> None:
    assert [case for case in ACCEPTED if case not in CASES] == []
    for changes, metadata in CASES:
        job = copy.deepcopy(BASE)
        job["spec"].update(changes)
        if metadata:
            job["metadata"] = metadata
        assert (validate(job) == []) == ((changes, metadata) in ACCEPTED), (changes, metadata)


# ---- the embedded core/v1 schemas (mnft_operator.core_v1) ----


def _nodes(schema: Mapping[str, Any], path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    yield path, schema
    for key, sub in schema.get("properties", {}).items():
        yield from _nodes(sub, f"{path}.{key}")
    if isinstance(schema.get("items"), Mapping):
        yield from _nodes(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), Mapping):
        yield from _nodes(schema["additionalProperties"], f"{path}{{}}")


def test_embedded_core_v1_schemas_are_structural_and_bounded() -> None:
    """What apiextensions requires of a structural schema, plus a size bound on every string/list/map."""
    problems = []
    for field in CORE_V1_FIELDS:
        node: Mapping[str, Any] = ROOT
        for part in field.split(".")[0:]:
            node = node["properties"][part]
        for path, sub in _nodes(node, field):
            keys = set(sub)
            if (
                "$ref" in keys
                or "oneOf" in keys
                or keys & {"x-kubernetes-patch-strategy", "x-kubernetes-patch-merge-key"}
            ):
                problems.append(f"{path}: non-structural key")
            if sub.get("x-kubernetes-int-or-string"):
                if "type" in sub or sub.get("anyOf") not in (None, [{"type": "integer"}, {"type": "string"}]):
                    problems.append(f"{path}: int-or-string with a type")
                continue
            if not isinstance(sub.get("type"), str):
                problems.append(f"{path}: no single type")
            if "properties" in sub and "additionalProperties" in sub:
                problems.append(f"{path}: properties and additionalProperties")
            if sub.get("type") == "string" and "maxLength" not in sub and "enum" not in sub:
                problems.append(f"{path}: unbounded string")
            if sub.get("type") == "array" and "maxItems" not in sub:
                problems.append(f"{path}: unbounded list")
            if "additionalProperties" in sub and "maxProperties" not in sub:
                problems.append(f"{path}: unbounded map")
            if sub.get("x-kubernetes-list-type") == "map":
                item = sub["items"]
                for key in sub["x-kubernetes-list-map-keys"]:
                    if key not in item.get("required", []) and "default" not in item["properties"][key]:
                        problems.append(f"{path}: list-map key {key} neither required nor defaulted")
    assert problems == []


def test_crd_stays_well_under_the_etcd_object_limit() -> None:
    import json

    assert len(json.dumps(crd())) < 1_000_000


def test_quantity_pattern_agrees_with_the_quantity_parser() -> None:
    import re

    from kube_schema import quantity
    from mnft_operator import core_v1

    for text in ("1", "500m", "1.5", "4Gi", "2k", "1e3", "+1", ".5", "0", "1E"):
        assert re.search(core_v1.QUANTITY, text), text
        quantity.parse(text)
    for text in ("lots", "1 Gi", "4GB", "1.2.3", "", "Gi", "1ki"):
        assert not re.search(core_v1.QUANTITY, text), text
        with pytest.raises(quantity.QuantityError):
            quantity.parse(text)


def test_generation_inlines_refs_and_makes_quantities_int_or_string() -> None:
    from mnft_operator import core_v1

    defs = {
        core_v1.CORE + "Toleration": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "properties": {
                "operator": {"type": ["string", "null"], "description": "Operator."},
                "tolerationSeconds": {"type": ["integer", "null"], "format": "int64"},
            },
        },
        "io.k8s.apimachinery.pkg.api.resource.Quantity": {"oneOf": [{"type": "string"}, {"type": "number"}]},
        "x.Holder": {
            "type": "object",
            "properties": {
                "t": {"$ref": "#/$defs/" + core_v1.CORE + "Toleration", "description": "A toleration."},
                "q": {"$ref": "/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.api.resource.Quantity"},
                "tags": {
                    "type": "array",
                    "items": {"type": "string"},
                    "x-kubernetes-patch-strategy": "merge",
                },
            },
        },
    }
    assert core_v1._convert(defs, "x.Holder", ("x.Holder",)) == {
        "type": "object",
        "properties": {
            "t": {
                "type": "object",
                "description": "A toleration.",
                "properties": {
                    "operator": {
                        "type": "string",
                        "description": "Operator.",
                        "enum": ["", "Exists", "Equal"],
                    },
                    "tolerationSeconds": {"type": "integer", "format": "int64", "minimum": 0},
                },
            },
            "q": {
                "x-kubernetes-int-or-string": True,
                "anyOf": [{"type": "integer"}, {"type": "string"}],
                "pattern": core_v1.QUANTITY,
            },
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 4096}, "maxItems": 256},
        },
    }


def test_generated_file_matches_kubernetes_validate_1_33() -> None:
    import json

    from mnft_operator import core_v1

    defs = json.loads(core_v1.definitions_file().read_text())["$defs"]
    assert "v1.33.0" in str(core_v1.definitions_file())
    assert json.loads(core_v1.SCHEMAS_FILE.read_text()) == json.loads(
        json.dumps(core_v1.generate_schemas(defs))
    )
