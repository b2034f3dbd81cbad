"""Resource quantities stored as a real API server stores them: canonical strings (`8` -> "8", 0.5 ->
"500m", "1024Mi" -> "1Gi"), whatever number or spelling the client sent; clients' typed models (the
`kubernetes` package's V1ResourceRequirements) accept nothing else.

Covered: Pod containers/initContainers/ephemeralContainers resources (limits, requests) and spec.overhead;
Node status capacity/allocatable; ResourceQuota spec.hard and status hard/used; PersistentVolumeClaim
spec.resources and status.capacity.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from kube_schema.quantity import QuantityError, canonical

Cause = dict[str, str]


def _resource_lists(kind: str, obj: Mapping[str, Any]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(field path for messages, key path) of every ResourceList in an object of `kind`."""
    spec = obj.get("spec") or {}
    if kind == "Pod":
        for key in ("initContainers", "containers", "ephemeralContainers"):
            containers = spec.get(key)
            if isinstance(containers, list):
                for i in range(len(containers)):
                    for field in ("limits", "requests"):
                        yield f"spec.{key}[{i}].resources.{field}", ("spec", key, i, "resources", field)
        yield "spec.overhead", ("spec", "overhead")
    elif kind == "Node":
        for field in ("capacity", "allocatable"):
            yield f"status.{field}", ("status", field)
    elif kind == "ResourceQuota":
        yield "spec.hard", ("spec", "hard")
        for field in ("hard", "used"):
            yield f"status.{field}", ("status", field)
    elif kind == "PersistentVolumeClaim":
        for field in ("limits", "requests"):
            yield f"spec.resources.{field}", ("spec", "resources", field)
        yield "status.capacity", ("status", "capacity")


def canonicalize(kind: str, obj: dict[str, Any]) -> tuple[dict[str, Any], list[Cause]]:
    """A copy of `obj` with every quantity canonical, and a 422 cause for each value that is not one."""
    causes: list[Cause] = []
    result: dict[str, Any] | None = None
    for where, path in _resource_lists(kind, obj):
        values = _get(obj, path)
        if not isinstance(values, Mapping):
            continue
        fixed = {}
        for name, value in values.items():
            try:
                fixed[name] = canonical(value)
            except QuantityError as exc:
                shown = f'"{value}"' if isinstance(value, str) else str(value)
                causes.append(
                    {
                        "reason": "FieldValueInvalid",
                        "field": f"{where}[{name}]",
                        "message": f"Invalid value: {shown}: {exc}",
                    }
                )
                fixed[name] = value
        if fixed != values:
            result = copy.deepcopy(obj) if result is None else result
            _set(result, path, fixed)
    return (obj if result is None else result), causes


def _get(obj: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        if isinstance(key, int):
            if not isinstance(obj, list) or key >= len(obj):
                return None
            obj = obj[key]
        else:
            if not isinstance(obj, Mapping):
                return None
            obj = obj.get(key)
    return obj


def _set(obj: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value
