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
        ("Epoch", ".status.progress.epoch"),
        ("Accuracy", ".status.result.accuracy"),
        ("Age", ".metadata.creationTimestamp"),
    ]


def test_every_spec_and_status_field_has_a_type_and_description() -> None:
    missing = [
        path
        for path, schema in walk(ROOT)
        if path.startswith(("spec", "status"))
        and ("description" not in schema or not ("type" in schema or "x-kubernetes-int-or-string" in schema))
    ]
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


def test_some_cases_are_rejected() -> None:
    rejected = 0
    for changes, metadata in CASES:
        job = copy.deepcopy(BASE)
        job["spec"].update(changes)
        if metadata:
            job["metadata"] = metadata
        rejected += bool(validate(job))
    assert rejected == 21
