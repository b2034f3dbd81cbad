"""A container's environment as the kubelet builds it: envFrom, env values, the downward API
(fieldRef, resourceFieldRef), ConfigMap and Secret key references, and `$(VAR)` expansion. Pure."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

Objects = Mapping[str, Mapping[str, Any] | None]  # name -> ConfigMap/Secret as read (None: not found)


class EnvError(ValueError):
    """The env cannot be built (a missing ConfigMap, key or field); the kubelet reports
    CreateContainerConfigError with this message, as a real kubelet does."""


def referenced_objects(pod: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """Names of the ConfigMaps and Secrets the pod's env, envFrom and volumes refer to."""
    configmaps: set[str] = set()
    secrets: set[str] = set()
    spec = pod.get("spec") or {}
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        for source in container.get("envFrom") or []:
            if "configMapRef" in source:
                configmaps.add(source["configMapRef"].get("name", ""))
            if "secretRef" in source:
                secrets.add(source["secretRef"].get("name", ""))
        for var in container.get("env") or []:
            value_from = var.get("valueFrom") or {}
            if "configMapKeyRef" in value_from:
                configmaps.add(value_from["configMapKeyRef"].get("name", ""))
            if "secretKeyRef" in value_from:
                secrets.add(value_from["secretKeyRef"].get("name", ""))
    for volume in spec.get("volumes") or []:
        if "configMap" in volume:
            configmaps.add(volume["configMap"].get("name", ""))
        if "secret" in volume:
            secrets.add(volume["secret"].get("secretName", ""))
    return configmaps, secrets


_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['([^']*)'\]$")


def field_ref_value(pod: Mapping[str, Any], field_path: str, pod_ip: str, host_ip: str) -> str:
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", "default"),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", "default"),
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
    }
    if field_path in simple:
        return str(simple[field_path])
    match = _SUBSCRIPT.match(field_path)
    if match:
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    raise EnvError(f"unsupported fieldRef.fieldPath {field_path!r}")


def _resource_value(container: Mapping[str, Any], resource: str) -> str:
    kind, _, name = resource.partition(".")
    resources = container.get("resources") or {}
    value = (resources.get(kind) or {}).get(name)
    if value is None and kind == "requests":
        value = (resources.get("limits") or {}).get(name)
    return "" if value is None else str(value)


def _object_values(kind: str, obj: Mapping[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    if kind == "secret":
        for key, value in (obj.get("data") or {}).items():
            values[key] = base64.b64decode(value).decode("utf-8", "replace")
        values.update({k: str(v) for k, v in (obj.get("stringData") or {}).items()})
    else:
        values.update({k: str(v) for k, v in (obj.get("data") or {}).items()})
    return values


def _key_ref(kind: str, ref: Mapping[str, Any], objects: Objects, var: str) -> str | None:
    name, key = ref.get("name", ""), ref.get("key", "")
    obj = objects.get(name)
    if obj is None:
        if ref.get("optional"):
            return None
        raise EnvError(f"env {var}: {kind} {name!r} not found")
    values = _object_values(kind, obj)
    if key not in values:
        if ref.get("optional"):
            return None
        raise EnvError(f"env {var}: key {key!r} not found in {kind} {name!r}")
    return values[key]


_VAR_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes `$(VAR)` expansion: defined vars are replaced, `$$` is a literal `$`, unknown stay."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env[name] if name in env else match.group(0)

    return _VAR_REF.sub(replace, text)


_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


def resolve_env(
    container: Mapping[str, Any],
    pod: Mapping[str, Any],
    configmaps: Objects,
    secrets: Objects,
    pod_ip: str,
    host_ip: str,
) -> dict[str, str]:
    """The container's env in Kubernetes order: envFrom sources, then env entries (which win)."""
    env: dict[str, str] = {}
    for i, source in enumerate(container.get("envFrom") or []):
        prefix = source.get("prefix", "")
        for kind, field in (("configMap", "configMapRef"), ("secret", "secretRef")):
            if field not in source:
                continue
            ref = source[field]
            obj = (configmaps if kind == "configMap" else secrets).get(ref.get("name", ""))
            if obj is None:
                if ref.get("optional"):
                    continue
                raise EnvError(f"envFrom[{i}]: {kind} {ref.get('name', '')!r} not found")
            for key, text in _object_values(kind, obj).items():
                if _ENV_NAME.match(prefix + key):
                    env[prefix + key] = text
    for var in container.get("env") or []:
        name = var.get("name", "")
        if "value" in var or "valueFrom" not in var:
            env[name] = expand(str(var.get("value", "")), env)
            continue
        value_from = var["valueFrom"]
        value: str | None
        if "fieldRef" in value_from:
            value = field_ref_value(pod, value_from["fieldRef"].get("fieldPath", ""), pod_ip, host_ip)
        elif "resourceFieldRef" in value_from:
            value = _resource_value(container, value_from["resourceFieldRef"].get("resource", ""))
        elif "configMapKeyRef" in value_from:
            value = _key_ref("configMap", value_from["configMapKeyRef"], configmaps, name)
        elif "secretKeyRef" in value_from:
            value = _key_ref("secret", value_from["secretKeyRef"], secrets, name)
        else:
            raise EnvError(f"env {name}: unsupported valueFrom {sorted(value_from)}")
        if value is not None:
            env[name] = value
    return env
