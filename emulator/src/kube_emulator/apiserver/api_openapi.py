"""A minimal OpenAPI v3 discovery (`/openapi/v3`), enough for kubectl to validate without `--validate=false`.

kubectl (`--validate=strict`, its default) downloads `/openapi/v3`, looks up the PATCH operation of the
object's group-version-kind and, when it lists the `fieldValidation` parameter, leaves validation to the
server (`?fieldValidation=Strict`). So each group-version document lists, per resource, PUT and PATCH
operations tagged with `x-kubernetes-group-version-kind`, and one schema per kind: a CRD version's
`openAPIV3Schema`, or an open object for built-in kinds (their fields are not modelled here).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from kube_emulator.apiserver.api_resources import Registry, ResourceDef

_PARAMS = ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def root(registry: Registry) -> dict[str, Any]:
    paths = {}
    for res in sorted(registry.all(), key=lambda r: (r.group, r.version)):
        gv = _gv_path(res.group, res.version)
        if gv not in paths:
            doc = group_version(registry, res.group, res.version)
            digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16].upper()
            paths[gv] = {"serverRelativeURL": f"/openapi/v3/{gv}?hash={digest}"}
    return {"paths": paths}


def _schema_name(res: ResourceDef) -> str:
    group = ".".join(reversed(res.group.split("."))) if res.group else "io.k8s.api.core"
    return f"{group}.{res.version}.{res.kind}"


def group_version(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    resources = [r for r in registry.all() if r.group == group and r.version == version]
    if not resources:
        return None
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    base = f"/{_gv_path(group, version)}"
    for res in sorted(resources, key=lambda r: r.plural):
        gvk = {"group": group, "version": version, "kind": res.kind}
        name = _schema_name(res)
        schema = (
            res.schema
            if res.schema is not None
            else {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        )
        schemas[name] = {**schema, "x-kubernetes-group-version-kind": [gvk]}
        scope = "/namespaces/{namespace}" if res.namespaced else ""
        params = [{"name": p, "in": "query", "schema": {"type": "string"}} for p in _PARAMS]
        ref = {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}
        paths[f"{base}{scope}/{res.plural}/{{name}}"] = {
            verb: {
                "operationId": f"{verb}{res.kind}",
                "x-kubernetes-action": verb,
                "x-kubernetes-group-version-kind": gvk,
                "parameters": params,
                "responses": {"200": {"description": "OK", **ref}},
            }
            for verb in ("put", "patch")
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes (mnft embedded API)", "version": "v1.35.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }
