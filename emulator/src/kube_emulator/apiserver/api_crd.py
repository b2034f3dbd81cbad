"""CustomResourceDefinitions in the embedded API: serving, status, and admission of every write.

`install(store)` hooks the store so that a created/updated CRD serves its resource at once (discovery
and endpoints, marked Established), and every write of a custom object is pruned, defaulted and
validated against its version's `openAPIV3Schema` (after the built-in admission of `api_validation`,
which every kind goes through).

Deleting a CRD works as the apiextensions-apiserver does it (its `customresourcedefinition` REST
storage and `pkg/controller/finalizer/crd_finalizer.go`; docs: "Delete a CustomResourceDefinition" in
https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/):
the delete adds the `customresourcecleanup.apiextensions.k8s.io` finalizer and sets the
deletionTimestamp; the CRD gets `Terminating=True InstanceDeletionInProgress`, creating its objects
answers 405 "create not allowed while custom resource definition is terminating", and all its objects
are deleted. Objects with finalizers keep the CRD (and its endpoints) until their finalizers are
removed; then `Terminating=False InstanceDeletionCompleted`, the cleanup finalizer is dropped and the
CRD goes (unless a finalizer of someone else's remains).
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
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


def install(store: Store) -> None:
    def admit(res: ResourceDef, obj: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        obj = admit_builtin(res.kind, res.group, obj, old)
        if res.kind == "Pod" and res.group == "" and old is None:
            namespace = store.objects[("", "namespaces")].get(("", obj["metadata"].get("namespace", "")))
            admit_pod(namespace, obj)
        if res.store_key == CRD_KEY:
            check_crd(obj)
        if res.custom and old is None and _terminating(store, _crd_name(res)):
            raise errors.ApiError(
                405,
                "MethodNotAllowed",
                "create not allowed while custom resource definition is terminating",
                {},
            )
        if res.custom and res.schema is not None:
            obj = admit_custom(res, obj, old)
        return obj

    def after_write(res: ResourceDef, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        if res.store_key == CRD_KEY:
            _crd_written(store, old, new)
        elif res.custom and new is None:  # an object went: its terminating CRD may be able to finish
            name = _crd_name(res)
            store.schedule(lambda: _finalize(store, name))

    store.admit = admit
    store.after_write.append(after_write)
    store.delete_finalizers[CRD_KEY] = CLEANUP_FINALIZER


def _crd_name(res: ResourceDef) -> str:
    return f"{res.plural}.{res.group}"


def _crd_resource(store: Store) -> ResourceDef:
    return store.resource("apiextensions.k8s.io", "v1", "customresourcedefinitions")


def _terminating(store: Store, name: str) -> bool:
    crd = store.find(_crd_resource(store), None, name)
    return crd is not None and bool(crd["metadata"].get("deletionTimestamp"))


def _crd_written(store: Store, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
    if old is not None:
        key = (old["spec"]["group"], old["spec"]["names"]["plural"])
        if new is None:  # normally empty by now; not when someone stripped the cleanup finalizer by hand
            for obj_key in list(store.objects.get(key, {})):
                store.remove(key, obj_key)
        store.registry.remove_group_plural(*key)
    if new is not None:
        for resource in resources_from_crd(new):
            store.registry.add(resource)
        name = new["metadata"]["name"]
        if new["metadata"].get("deletionTimestamp"):
            store.schedule(lambda: _finalize(store, name))
        else:
            store.schedule(lambda: _establish(store, name))


def _finalize(store: Store, name: str) -> None:
    """The CRD finalizer's pass: delete every object of a terminating CRD; once none is left, let it go."""
    res = _crd_resource(store)
    crd = store.find(res, None, name)
    if crd is None or CLEANUP_FINALIZER not in (crd["metadata"].get("finalizers") or ()):
        return
    _set_terminating(
        store, name, "True", "InstanceDeletionInProgress", "CustomResource deletion is in progress"
    )
    key = (crd["spec"]["group"], crd["spec"]["names"]["plural"])
    versions = store.registry.versions_of(*key)
    for (ns, obj_name), obj in list(store.objects.get(key, {}).items()):
        if versions and not obj["metadata"].get("deletionTimestamp"):
            store.delete(versions[0], ns or None, obj_name, {"propagationPolicy": "Background"})
    if store.objects.get(key):
        return  # objects with finalizers: run again when one of them goes
    _set_terminating(store, name, "False", "InstanceDeletionCompleted", "removed all instances")
    crd = store.get(res, None, name)
    finalizers = [f for f in crd["metadata"].get("finalizers") or () if f != CLEANUP_FINALIZER]
    store.update(res, None, name, {**crd, "metadata": {**crd["metadata"], "finalizers": finalizers}})


def _set_terminating(store: Store, name: str, status: str, reason: str, message: str) -> None:
    res = _crd_resource(store)
    crd = store.get(res, None, name)
    conditions = list((crd.get("status") or {}).get("conditions") or ())
    old = next((c for c in conditions if c.get("type") == "Terminating"), None)
    if old is not None and (old["status"], old.get("reason"), old.get("message")) == (
        status,
        reason,
        message,
    ):
        return
    changed = old is None or old["status"] != status
    condition = {
        "type": "Terminating",
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": now_rfc3339() if changed or old is None else old["lastTransitionTime"],
    }
    conditions = [c for c in conditions if c.get("type") != "Terminating"] + [condition]
    new_status = {**(crd.get("status") or {}), "conditions": conditions}
    store.update(res, None, name, {**crd, "status": new_status}, subresource="status")


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
    res = _crd_resource(store)
    crd = store.find(res, None, name)
    if crd is None or crd["metadata"].get("deletionTimestamp"):
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
