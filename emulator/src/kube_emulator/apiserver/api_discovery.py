"""Discovery documents of the embedded API: /version, /api, /apis, their group versions, the root path
list and /openapi/v3, as the kube-apiserver serves them to kubectl and the kubernetes clients."""

from __future__ import annotations

from typing import Any

from kube_emulator.apiserver import api_openapi
from kube_emulator.apiserver.api_resources import Registry

VERSION_INFO = {
    "major": "1",
    "minor": "35",
    "gitVersion": "v1.35.0+mnft-embedded",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.25.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def document(registry: Registry, parts: list[str]) -> Any | None:
    """The discovery document at the URL path `parts`; None when there is none."""
    if parts == ["version"]:
        return VERSION_INFO
    if parts == ["api"]:
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
        }
    if parts == ["apis"]:
        return registry.api_group_list()
    if parts == ["api", "v1"]:
        return registry.api_resource_list("", "v1")
    if len(parts) == 2 and parts[0] == "apis":
        versions = registry.group_versions().get(parts[1])
        if versions:
            return registry.api_group(parts[1], versions)
    if len(parts) == 3 and parts[0] == "apis":
        return registry.api_resource_list(parts[1], parts[2])
    if not parts:
        paths = ["/api", "/api/v1", "/apis", "/version", "/healthz", "/readyz", "/livez"]
        for group, versions in registry.group_versions().items():
            paths += [f"/apis/{group}"] + [f"/apis/{group}/{v}" for v in versions]
        return {"paths": sorted(paths)}
    if parts[:2] == ["openapi", "v3"]:
        if len(parts) == 2:
            return api_openapi.root(registry)
        gv = parts[2:]
        if gv[:1] == ["api"] and len(gv) == 2:
            return api_openapi.group_version(registry, "", gv[1])
        if gv[:1] == ["apis"] and len(gv) == 3:
            return api_openapi.group_version(registry, gv[1], gv[2])
    return None
