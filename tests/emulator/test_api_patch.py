"""The embedded API's patch formats and selectors, as pure functions."""

from __future__ import annotations

import pytest

from kube_emulator.apiserver.api_errors import ApiError
from kube_emulator.apiserver.api_patch import (
    JsonPatchError,
    apply_patch,
    json_patch,
    merge_patch,
    strategic_merge_patch,
)
from kube_emulator.apiserver.api_selectors import parse_field_selector, parse_label_selector


def test_merge_patch_rfc7386() -> None:
    assert merge_patch({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"b": None, "e": 3}, "d": [2], "f": "x"}) == {
        "a": {"c": 2, "e": 3},
        "d": [2],
        "f": "x",
    }
    assert merge_patch({"a": {"b": 1}}, {"a": "scalar"}) == {"a": "scalar"}


def test_json_patch_operations() -> None:
    doc = {"a": [1, 2], "b": {"c": 1}}
    assert json_patch(
        doc,
        [
            {"op": "add", "path": "/a/-", "value": 3},
            {"op": "remove", "path": "/b/c"},
            {"op": "replace", "path": "/a/0", "value": 0},
            {"op": "copy", "from": "/a", "path": "/d"},
            {"op": "move", "from": "/d", "path": "/b/e"},
            {"op": "add", "path": "/x~1y", "value": 1},
        ],
    ) == {"a": [0, 2, 3], "b": {"e": [0, 2, 3]}, "x/y": 1}
    assert doc == {"a": [1, 2], "b": {"c": 1}}


def test_json_patch_failures() -> None:
    with pytest.raises(JsonPatchError, match=r"^testing value /a failed: test failed$"):
        json_patch({"a": 1}, [{"op": "test", "path": "/a", "value": 2}])
    with pytest.raises(JsonPatchError, match="unable to remove nonexistent key"):
        json_patch({"a": 1}, [{"op": "remove", "path": "/b"}])
    with pytest.raises(JsonPatchError, match="replace operation does not apply"):
        json_patch({"a": 1}, [{"op": "replace", "path": "/b", "value": 1}])


def test_strategic_merge_by_key_and_directives() -> None:
    live = {
        "spec": {
            "containers": [
                {"name": "a", "image": "1", "ports": [{"containerPort": 80}]},
                {"name": "b", "image": "2"},
            ],
            "volumes": [{"name": "v", "emptyDir": {}}],
        },
        "metadata": {"finalizers": ["x"]},
        "status": {"conditions": [{"type": "Ready", "status": "False"}]},
    }
    patch = {
        "spec": {
            "containers": [
                {"name": "a", "image": "3", "ports": [{"containerPort": 81}]},
                {"name": "c", "image": "4"},
                {"name": "b", "$patch": "delete"},
            ],
            "$setElementOrder/containers": [{"name": "a"}, {"name": "c"}],
        },
        "metadata": {"finalizers": ["y"], "$deleteFromPrimitiveList/finalizers": ["x"]},
        "status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Done", "status": "True"}]},
    }
    assert strategic_merge_patch(live, patch) == {
        "spec": {
            "containers": [
                {"name": "a", "image": "3", "ports": [{"containerPort": 80}, {"containerPort": 81}]},
                {"name": "c", "image": "4"},
            ],
            "volumes": [{"name": "v", "emptyDir": {}}],
        },
        "metadata": {"finalizers": ["y"]},
        "status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Done", "status": "True"}]},
    }
    assert strategic_merge_patch(
        {"spec": {"a": {"b": 1}}}, {"spec": {"a": {"$patch": "replace", "c": 2}}}
    ) == {"spec": {"a": {"c": 2}}}
    assert strategic_merge_patch({"args": ["a", "b"]}, {"args": ["c"]}) == {"args": ["c"]}


def test_apply_patch_on_custom_resources_follows_list_types() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "env": {"type": "array", "items": {"type": "object"}},
                    "ports": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["name"],
                        "items": {"type": "object"},
                    },
                    "tags": {"type": "array", "x-kubernetes-list-type": "set", "items": {"type": "string"}},
                },
            }
        },
    }
    live = {
        "spec": {
            "env": [{"name": "A", "value": "1"}],
            "ports": [{"name": "a", "port": 1}],
            "tags": ["x"],
            "keep": True,
        }
    }
    applied = {
        "spec": {
            "env": [{"name": "B", "value": "2"}],
            "ports": [{"name": "a", "port": 2}, {"name": "b"}],
            "tags": ["y"],
        }
    }
    assert apply_patch(live, applied, schema) == {
        "spec": {
            "env": [{"name": "B", "value": "2"}],
            "ports": [{"name": "a", "port": 2}, {"name": "b"}],
            "tags": ["x", "y"],
            "keep": True,
        }
    }
    assert apply_patch(live, applied)["spec"]["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "2"},
    ]


def labelled(**labels: str) -> dict:
    return {"metadata": {"labels": labels}}


def test_label_selector_grammar() -> None:
    select = parse_label_selector("app in (a, b),tier!=db,!legacy,env")
    assert select(labelled(app="a", tier="web", env="x"))
    assert not select(labelled(app="c", tier="web", env="x"))
    assert not select(labelled(app="a", tier="db", env="x"))
    assert not select(labelled(app="a", env="x", legacy="1"))
    assert not select(labelled(app="a"))
    assert parse_label_selector("")(labelled())
    with pytest.raises(ApiError) as bad:
        parse_label_selector("a=b=c")
    assert bad.value.code == 400


def test_field_selector_allows_per_kind_fields() -> None:
    pod = {
        "metadata": {"name": "p", "namespace": "n"},
        "spec": {"nodeName": "x"},
        "status": {"phase": "Running"},
    }
    assert parse_field_selector("spec.nodeName=x,status.phase!=Failed", "Pod")(pod)
    assert not parse_field_selector("metadata.name==q", "Pod")(pod)
    with pytest.raises(ApiError, match=r"field label not supported: spec\.nodeName"):
        parse_field_selector("spec.nodeName=x", "ConfigMap")
    assert parse_field_selector("spec.size=3", "Gadget", ("spec.size",))(
        {"metadata": {}, "spec": {"size": 3}}
    )
