"""CustomResourceDefinitions in the embedded API: serving, status, and admission of every write.

`install(store)` hooks the store so that a created/updated CRD serves its resource at once (discovery
and endpoints, marked Established), a deleted CRD takes its objects with it, and every write of a
custom object is pruned, defaulted and validated against its version's `openAPIV3Schema` (after the
built-in admission of `api_validation`, which every kind goes through).
"""

from __future__ import annotations

from typing import Any

from kube_emulator.apiserver import api_errors as errors
from kube_emulator.apiserver import openapi_schema
from kube_emulator.apiserver.api_pod_security import admit_pod
from kube_emulator.apiserver.api_resources import ResourceDef, resources_from_crd
from kube_emulator.apiserver.api_store import Store, now_rfc3339
from kube_emulator.apiserver.api_validation import admit_builtin

CRD_KEY = ("apiextensions.k8s.io", "customresourcedefinitions")


def install(store: Store) -> None:
    def admit(res: ResourceDef, obj: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        obj = admit_builtin(res.kind, res.group, obj, old)
        if res.kind == "Pod" and res.group == "" and old is None:
            namespace = store.objects[("", "namespaces")].get(("", obj["metadata"].get("namespace", "")))
            admit_pod(namespace, obj)
        if res.store_key == CRD_KEY:
            check_crd(obj)
        if res.custom and res.schema is not None:
            obj = admit_custom(res, obj, old)
        return obj

    def after_write(res: ResourceDef, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if res.store_key != CRD_KEY:
            return
        if old is not None:
            names = old["spec"]["names"]
            if new is None:
                for key in list(store.objects.get((old["spec"]["group"], names["plural"]), {})):
                    store._remove((old["spec"]["group"], names["plural"]), key)
            store.registry.remove_group_plural(old["spec"]["group"], names["plural"])
        if new is not None:
            for resource in resources_from_crd(new):
                store.registry.add(resource)
            name = new["metadata"]["name"]
            store.schedule(lambda: _establish(store, name))

    store.admit = admit
    store.after_write.append(after_write)


def admit_custom(res: ResourceDef, obj: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    assert res.schema is not None
    metadata = obj.get("metadata") or {}
    pruned = openapi_schema.prune(res.schema, obj)
    pruned["metadata"] = metadata
    defaulted = openapi_schema.apply_defaults(res.schema, pruned)
    defaulted["metadata"] = metadata
    problems = openapi_schema.validate(res.schema, defaulted, old)
    if problems:
        causes = [{"reason": p.reason, "message": p.message, "field": p.path} for p in problems]
        raise errors.invalid(res.kind, res.group, metadata.get("name", ""), causes)
    return defaulted


def check_crd(crd: dict[str, Any]) -> None:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    name = (crd.get("metadata") or {}).get("name", "")
    causes: list[dict[str, str]] = []
    for field, value in (
        ("spec.group", spec.get("group")),
        ("spec.names.plural", names.get("plural")),
        ("spec.names.kind", names.get("kind")),
    ):
        if not value:
            causes.append({"reason": "FieldValueRequired", "field": field, "message": "Required value"})
    if not spec.get("versions"):
        causes.append({"reason": "FieldValueRequired", "field": "spec.versions", "message": "Required value"})
    elif sum(1 for v in spec["versions"] if v.get("storage")) != 1:
        causes.append(
            {
                "reason": "FieldValueInvalid",
                "field": "spec.versions",
                "message": "Invalid value: []apiextensions.CustomResourceDefinitionVersion{...}: "
                "must have exactly one version marked as storage version",
            }
        )
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append(
            {
                "reason": "FieldValueNotSupported",
                "field": "spec.scope",
                "message": f'Unsupported value: "{spec.get("scope", "")}": supported values: '
                '"Cluster", "Namespaced"',
            }
        )
    if not causes and name != f"{names['plural']}.{spec['group']}":
        causes.append(
            {
                "reason": "FieldValueInvalid",
                "field": "metadata.name",
                "message": f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group',
            }
        )
    if causes:
        raise errors.invalid("CustomResourceDefinition", "apiextensions.k8s.io", name, causes)


def _establish(store: Store, name: str) -> None:
    res = store.resource("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    crd = store.find(res, None, name)
    if crd is None:
        return
    now = now_rfc3339()
    names = dict(crd["spec"]["names"])
    names.setdefault("singular", names["kind"].lower())
    names.setdefault("listKind", names["kind"] + "List")
    status = {
        "acceptedNames": names,
        "conditions": [
            {
                "type": "NamesAccepted",
                "status": "True",
                "reason": "NoConflicts",
                "message": "no conflicts found",
                "lastTransitionTime": now,
            },
            {
                "type": "Established",
                "status": "True",
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
                "lastTransitionTime": now,
            },
        ],
        "storedVersions": [v["name"] for v in crd["spec"]["versions"] if v.get("storage")],
    }
    old_status = crd.get("status") or {}
    if (
        old_status.get("acceptedNames") == names
        and old_status.get("storedVersions") == status["storedVersions"]
    ):
        return
    store.update(res, None, name, {**crd, "status": status}, subresource="status")
