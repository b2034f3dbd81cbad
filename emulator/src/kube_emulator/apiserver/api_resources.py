"""The resource registry: which resources the embedded API serves and how (kind, scope, subresources).

Built-in resources come from kmock's bundled discovery data (`KubernetesEmulator.resources`, the
registry we keep from kmock); custom resources are added and removed as CRDs come and go
(`resources_from_crd`). Discovery documents (`/api/v1`, `/apis`, ...) are rendered from here.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import kmock

# Aggregated APIs a bare apiserver does not serve itself.
_SKIPPED_GROUPS = {"metrics.k8s.io"}
# Built-in kinds whose create resets .status (their registry strategy does); pods start Pending.
STATUS_RESET_ON_CREATE = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "Service"}
# Kinds PUT may create (AllowCreateOnUpdate in their strategy).
CREATE_ON_UPDATE = {"Lease", "Event", "Endpoints"}


@dataclass
class ResourceDef:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = (
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    )
    subresources: frozenset[str] = frozenset()
    schema: Mapping[str, Any] | None = None  # a CRD version's openAPIV3Schema
    printer_columns: tuple[Mapping[str, Any], ...] = ()
    selectable_fields: tuple[str, ...] = ()
    custom: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def store_key(self) -> tuple[str, str]:
        return (self.group, self.plural)

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources


def builtin_resources() -> list[ResourceDef]:
    emulator = kmock.KubernetesEmulator()
    with warnings.catch_warnings():  # kmock 0.8 uses the deprecated importlib.resources.read_binary
        warnings.simplefilter("ignore", DeprecationWarning)
        emulator.resources.load_bundled()
    result = []
    for ref in emulator.resources:
        info = emulator.resources[ref]
        if ref.group in _SKIPPED_GROUPS or not ref.plural or ref.version is None or ref.group is None:
            continue
        result.append(
            ResourceDef(
                group=ref.group,
                version=ref.version,
                plural=ref.plural,
                kind=info.kind or ref.plural.capitalize(),
                namespaced=bool(info.namespaced),
                singular=info.singular or (info.kind or "").lower(),
                short_names=tuple(sorted(info.shortnames)),
                categories=tuple(sorted(info.categories)),
                verbs=tuple(sorted(info.verbs)),
                subresources=frozenset(info.subresources),
            )
        )
    return result


def resources_from_crd(crd: Mapping[str, Any]) -> list[ResourceDef]:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    result = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        subresources = frozenset((version.get("subresources") or {}).keys())
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        result.append(
            ResourceDef(
                group=spec["group"],
                version=version["name"],
                plural=names["plural"],
                kind=names["kind"],
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                singular=names.get("singular") or names["kind"].lower(),
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                subresources=subresources,
                schema=schema,
                printer_columns=tuple(version.get("additionalPrinterColumns") or ()),
                selectable_fields=tuple(
                    f["jsonPath"].lstrip(".") for f in version.get("selectableFields") or ()
                ),
                custom=True,
                extra={"scale": (version.get("subresources") or {}).get("scale") or {}},
            )
        )
    return result


class Registry:
    def __init__(self, resources: Iterable[ResourceDef]) -> None:
        self._by_gvr: dict[tuple[str, str, str], ResourceDef] = {}
        for resource in resources:
            self.add(resource)

    def add(self, resource: ResourceDef) -> None:
        self._by_gvr[(resource.group, resource.version, resource.plural)] = resource

    def remove_group_plural(self, group: str, plural: str) -> None:
        for key in [k for k in self._by_gvr if k[0] == group and k[2] == plural]:
            del self._by_gvr[key]

    def get(self, group: str, version: str, plural: str) -> ResourceDef | None:
        return self._by_gvr.get((group, version, plural))

    def versions_of(self, group: str, plural: str) -> list[ResourceDef]:
        return [r for (g, _, p), r in self._by_gvr.items() if g == group and p == plural]

    def for_api_version(self, api_version: str, kind: str) -> ResourceDef | None:
        group, _, version = api_version.rpartition("/")
        for (g, v, _), resource in self._by_gvr.items():
            if g == group and v == version and resource.kind == kind:
                return resource
        return None

    def all(self) -> list[ResourceDef]:
        return list(self._by_gvr.values())

    def group_versions(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for group, version, _ in self._by_gvr:
            if group and version not in groups.setdefault(group, []):
                groups[group].append(version)
        for versions in groups.values():
            versions.sort(key=_version_priority)
        return groups

    # discovery documents
    def api_group_list(self) -> dict[str, Any]:
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [
                self.api_group(group, versions) for group, versions in sorted(self.group_versions().items())
            ],
        }

    def api_group(self, group: str, versions: list[str]) -> dict[str, Any]:
        return {
            "kind": "APIGroup",
            "apiVersion": "v1",
            "name": group,
            "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
            "preferredVersion": {"groupVersion": f"{group}/{versions[0]}", "version": versions[0]},
        }

    def api_resource_list(self, group: str, version: str) -> dict[str, Any] | None:
        resources = sorted(
            (r for (g, v, _), r in self._by_gvr.items() if g == group and v == version),
            key=lambda r: r.plural,
        )
        if not resources:
            return None
        entries: list[dict[str, Any]] = []
        for resource in resources:
            entry: dict[str, Any] = {
                "name": resource.plural,
                "singularName": resource.singular,
                "namespaced": resource.namespaced,
                "kind": resource.kind,
                "verbs": list(resource.verbs),
            }
            if resource.short_names:
                entry["shortNames"] = list(resource.short_names)
            if resource.categories:
                entry["categories"] = list(resource.categories)
            entries.append(entry)
            for sub in sorted(resource.subresources):
                sub_kind, verbs = _SUBRESOURCE_KINDS.get(sub, (resource.kind, ["get", "patch", "update"]))
                entries.append(
                    {
                        "name": f"{resource.plural}/{sub}",
                        "singularName": "",
                        "namespaced": resource.namespaced,
                        "kind": sub_kind,
                        "verbs": verbs,
                    }
                )
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": entries,
        }


_SUBRESOURCE_KINDS: dict[str, tuple[str, list[str]]] = {
    "log": ("Pod", ["get"]),
    "binding": ("Binding", ["create"]),
    "exec": ("PodExecOptions", ["create", "get"]),
    "attach": ("PodAttachOptions", ["create", "get"]),
    "portforward": ("PodPortForwardOptions", ["create", "get"]),
    "proxy": ("PodProxyOptions", ["create", "delete", "get", "patch", "update"]),
    "eviction": ("Eviction", ["create"]),
    "scale": ("Scale", ["get", "patch", "update"]),
    "finalize": ("Namespace", ["update"]),
}


def _version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes version order: GA before beta before alpha, higher numbers first."""
    import re

    match = re.match(r"^v(\d+)(?:(alpha|beta)(\d+))?$", version)
    if not match:
        return (3, 0, 0)
    major, stage, minor = int(match[1]), match[2], int(match[3] or 0)
    return ({None: 0, "beta": 1, "alpha": 2}[stage], -major, -minor)
