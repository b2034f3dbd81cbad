"""Server-side apply's field ownership (pure): field sets, FieldsV1, conflicts, removal, Update entries."""

from __future__ import annotations

import pytest

from kube_emulator.apiserver import api_fields as af

NOW, LATER = "2026-07-01T10:00:00Z", "2026-07-01T11:00:00Z"
DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {
        "replicas": 2,
        "template": {
            "spec": {
                "containers": [{"name": "main", "image": "nginx", "env": [{"name": "A", "value": "1"}]}],
                "volumes": [{"name": "v", "emptyDir": {}}],
            }
        },
    },
}


def test_field_set_and_fields_v1_of_a_deployment() -> None:
    # kubectl get deployment web --show-managed-fields: the FieldsV1 a kube-apiserver writes for this apply
    members = af.field_set(DEPLOYMENT)
    assert af.to_fields_v1(members) == {
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {
            "f:replicas": {},
            "f:template": {
                "f:spec": {
                    "f:containers": {
                        'k:{"name":"main"}': {
                            ".": {},
                            "f:name": {},
                            "f:image": {},
                            "f:env": {'k:{"name":"A"}': {".": {}, "f:name": {}, "f:value": {}}},
                        }
                    },
                    "f:volumes": {'k:{"name":"v"}': {".": {}, "f:name": {}, "f:emptyDir": {}}},
                }
            },
        },
    }
    assert af.from_fields_v1(af.to_fields_v1(members)) == members


def test_sets_and_atomic_lists_and_crd_list_types() -> None:
    obj = {"metadata": {"finalizers": ["a", "b"]}, "spec": {"args": ["x", "y"]}}
    assert af.to_fields_v1(af.field_set(obj)) == {
        "f:metadata": {"f:finalizers": {'v:"a"': {}, 'v:"b"': {}}},
        "f:spec": {"f:args": {}},
    }
    schema = {
        "properties": {
            "spec": {
                "properties": {
                    "ports": {
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["port", "protocol"],
                        "items": {"properties": {"port": {}, "protocol": {}}},
                    },
                    "tags": {"x-kubernetes-list-type": "set"},
                }
            }
        }
    }
    custom = {"spec": {"ports": [{"port": 80, "protocol": "TCP"}], "tags": ["t"]}}
    assert af.to_fields_v1(af.field_set(custom, schema)) == {
        "f:spec": {
            "f:ports": {'k:{"port":80,"protocol":"TCP"}': {".": {}, "f:port": {}, "f:protocol": {}}},
            "f:tags": {'v:"t"': {}},
        }
    }


def test_reapplying_without_a_field_removes_it_unless_another_manager_owns_it() -> None:
    # helm upgrade with a key dropped from the chart (helm 4 applies server-side as "helm")
    live = {"data": {"keep": "1", "drop": "2", "theirs": "3"}, "metadata": {"name": "c"}}
    entries = [
        {"manager": "helm", "operation": "Apply", "apiVersion": "v1", "time": NOW,
         "fieldsV1": {"f:data": {"f:keep": {}, "f:drop": {}, "f:theirs": {}}}},
        {"manager": "kubectl-edit", "operation": "Update", "apiVersion": "v1", "time": NOW,
         "fieldsV1": {"f:data": {"f:theirs": {}}}},
    ]  # fmt: skip
    pruned, managed = af.apply(live, {"data": {"keep": "1"}}, "helm", entries, "v1", LATER)
    assert pruned == {"data": {"keep": "1", "theirs": "3"}, "metadata": {"name": "c"}}
    assert managed == [
        {"manager": "helm", "operation": "Apply", "apiVersion": "v1", "time": LATER,
         "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:keep": {}}}},
        {"manager": "kubectl-edit", "operation": "Update", "apiVersion": "v1", "time": NOW,
         "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:theirs": {}}}},
    ]  # fmt: skip


def test_dropping_a_keyed_item_removes_it_and_an_emptied_list() -> None:
    entries = [{"manager": "helm", "operation": "Apply", "apiVersion": "apps/v1", "time": NOW,
                "fieldsV1": af.to_fields_v1(af.field_set(DEPLOYMENT))}]  # fmt: skip
    without_env = {
        "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "nginx"}]}}},
    }
    pruned, _ = af.apply(DEPLOYMENT, without_env, "helm", entries, "apps/v1", LATER)
    assert pruned["spec"] == {"template": {"spec": {"containers": [{"name": "main", "image": "nginx"}]}}}
    assert pruned["metadata"] == {"name": "web"}


def test_a_changed_field_another_manager_owns_is_a_conflict_unless_forced() -> None:
    # kubectl apply --server-side after kubectl create: "conflict with "kubectl-create" using v1"
    live = {"data": {"a": "1", "b": "2"}}
    entries = [{"manager": "kubectl-create", "operation": "Update", "apiVersion": "v1", "time": NOW,
                "fieldsV1": {"f:data": {"f:a": {}, "f:b": {}}}}]  # fmt: skip
    with pytest.raises(af.Conflicts) as raised:
        af.apply(live, {"data": {"a": "1", "b": "3"}}, "mine", entries, "v1", LATER)
    assert af.conflict_message(raised.value.conflicts) == (
        'Apply failed with 1 conflict: conflict with "kubectl-create" using v1: .data.b'
    )
    _, managed = af.apply(live, {"data": {"a": "1", "b": "3"}}, "mine", entries, "v1", LATER, force=True)
    assert [(m["manager"], m["fieldsV1"]) for m in managed] == [
        ("kubectl-create", {"f:data": {"f:a": {}}}),  # the same value applied: shared, no conflict
        ("mine", {"f:data": {"f:a": {}, "f:b": {}}}),
    ]


def test_conflict_paths_name_keyed_items_as_kube_apiserver_prints_them() -> None:
    path = ("f:spec", "f:containers", 'k:{"name":"web"}', "f:image")
    assert af.Conflict("m", "v1", path).field == '.spec.containers[name="web"].image'


def test_an_update_takes_the_fields_it_changed() -> None:
    # kubectl patch cm c -p '{"data":{"a":"9"}}' after helm applied data.a and data.b
    old = {"data": {"a": "1", "b": "2"}}
    entries = [{"manager": "helm", "operation": "Apply", "apiVersion": "v1", "time": NOW,
                "fieldsV1": {"f:data": {"f:a": {}, "f:b": {}}}}]  # fmt: skip
    managed = af.record_update(old, {"data": {"a": "9", "b": "2"}}, "kubectl-patch", entries, "v1", LATER)
    assert [(m["manager"], m["operation"], m["fieldsV1"], m["time"]) for m in managed] == [
        ("helm", "Apply", {"f:data": {"f:b": {}}}, NOW),
        ("kubectl-patch", "Update", {"f:data": {"f:a": {}}}, LATER),
    ]
    unchanged = af.record_update(old, old, "kubectl-patch", entries, "v1", LATER)
    assert unchanged == [{**entries[0], "fieldsType": "FieldsV1"}]  # a no-op write owns nothing new
