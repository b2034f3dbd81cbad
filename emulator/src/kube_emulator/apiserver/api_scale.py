"""The scale subresource (`autoscaling/v1` Scale), pure: what `kubectl scale` and autoscalers read and write.

Deployments, ReplicaSets and StatefulSets (apps/v1) and ReplicationControllers scale `.spec.replicas`
and report `.status.replicas` and their selector; a custom resource names the paths in its CRD version's
`subresources.scale` (`specReplicasPath`, `statusReplicasPath`, optional `labelSelectorPath`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kube_emulator.apiserver import api_errors as errors
from kube_emulator.apiserver.api_resources import ResourceDef

_BUILTIN = {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}


def paths(res: ResourceDef) -> Mapping[str, str]:
    if res.custom:
        return res.extra.get("scale") or {}
    return _BUILTIN


def _get(obj: Mapping[str, Any], path: str) -> Any:
    value: Any = obj
    for key in path.lstrip(".").split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    return value


def _set(obj: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    keys = path.lstrip(".").split(".")
    head = dict(obj)
    if len(keys) == 1:
        head[keys[0]] = value
        return head
    child = head.get(keys[0])
    head[keys[0]] = _set(child if isinstance(child, Mapping) else {}, "." + ".".join(keys[1:]), value)
    return head


def selector_string(selector: Any) -> str:
    """A LabelSelector (or a ReplicationController's plain map) as `a=b,c in (d,e)`."""
    if not isinstance(selector, Mapping):
        return ""
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or ():
        key, operator, values = (
            expression.get("key"),
            expression.get("operator"),
            expression.get("values") or [],
        )
        if operator == "Exists":
            parts.append(str(key))
        elif operator == "DoesNotExist":
            parts.append(f"!{key}")
        else:
            parts.append(f"{key} {operator.lower()} ({','.join(sorted(values))})")
    return ",".join(parts)


def scale_of(res: ResourceDef, obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    where = paths(res)
    status: dict[str, Any] = {"replicas": _get(obj, where.get("statusReplicasPath", "")) or 0}
    if res.custom:
        if where.get("labelSelectorPath"):
            selector = _get(obj, where["labelSelectorPath"])
            if selector:
                status["selector"] = selector
    else:
        selector = selector_string((obj.get("spec") or {}).get("selector"))
        if selector:
            status["selector"] = selector
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": _get(obj, where.get("specReplicasPath", "")) or 0},
        "status": status,
    }


def scaled(res: ResourceDef, obj: Mapping[str, Any], scale: Any) -> dict[str, Any]:
    """`obj` with the replicas of the Scale `scale` (a 422 when they are missing or not a whole number)."""
    replicas = ((scale or {}).get("spec") or {}).get("replicas") if isinstance(scale, Mapping) else None
    name = obj["metadata"]["name"]
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        cause = {
            "reason": "FieldValueInvalid",
            "field": "spec.replicas",
            "message": f"Invalid value: {replicas!r}: must be greater than or equal to 0",
        }
        raise errors.invalid("Scale", "autoscaling", name, [cause])
    given_rv = ((scale or {}).get("metadata") or {}).get("resourceVersion")
    if given_rv and given_rv != obj["metadata"].get("resourceVersion"):
        raise errors.conflict(res.plural, res.group, name)
    return _set(obj, paths(res).get("specReplicasPath", ".spec.replicas"), replicas)
