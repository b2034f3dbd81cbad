"""Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), what `kubectl get` asks for.

Columns: NAME, then the usual columns of pods, events, namespaces, services and configmaps, or a CRD
version's `additionalPrinterColumns` (simple `.a.b` / `.a[0].b` JSONPaths and `[?(@.type=="X")]`
filters; without any, AGE).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from kube_emulator.apiserver.api_events import parse_time
from kube_emulator.apiserver.api_resources import ResourceDef


def age(timestamp: str | None, now: datetime | None = None) -> str:
    if not timestamp:
        return "<unknown>"
    then = parse_time(timestamp)
    seconds = int(((now or datetime.now(timezone.utc)) - then).total_seconds())
    if seconds < 120:
        return f"{max(seconds, 0)}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


_STEP = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_]+)==[\"']([^\"']*)[\"']\)\]")


def json_path(obj: Any, path: str) -> Any:
    value = obj
    for match in _STEP.finditer(path.strip().strip("{}")):
        key, index, filter_key, filter_value = match.groups()
        if key is not None:
            value = value.get(key) if isinstance(value, Mapping) else None
        elif index is not None:
            value = value[int(index)] if isinstance(value, list) and int(index) < len(value) else None
        else:
            items = value if isinstance(value, list) else []
            value = next(
                (i for i in items if isinstance(i, Mapping) and i.get(filter_key) == filter_value), None
            )
        if value is None:
            return None
    return value


def _pod_cells(pod: Mapping[str, Any]) -> list[Any]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for s in statuses if s.get("ready"))
    phase = status.get("phase", "")
    for state in statuses:
        for key in ("waiting", "terminated"):
            reason = ((state.get("state") or {}).get(key) or {}).get("reason")
            if reason:
                phase = reason
    if pod["metadata"].get("deletionTimestamp"):
        phase = "Terminating"
    restarts = sum(int(s.get("restartCount", 0)) for s in statuses)
    return [
        f"{ready}/{len(spec.get('containers') or [])}",
        phase,
        restarts,
    ]


Getter = Callable[[Mapping[str, Any]], Any]


def _status(obj: Mapping[str, Any], *path: str) -> Any:
    return json_path(obj, "".join(f".{p}" for p in path))


def _age_of(obj: Mapping[str, Any]) -> str:
    return age(obj["metadata"].get("creationTimestamp"))


def _event_object(obj: Mapping[str, Any]) -> str:
    involved = obj.get("involvedObject") or obj.get("regarding") or {}
    return f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}"


def _event_seen(obj: Mapping[str, Any]) -> str:
    return age(obj.get("lastTimestamp") or obj.get("eventTime") or obj["metadata"].get("creationTimestamp"))


def _service_ports(obj: Mapping[str, Any]) -> str:
    ports = (obj.get("spec") or {}).get("ports") or []
    return ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in ports) or "<none>"


# Built-in kinds' columns after NAME: (name, type, priority (1 = only with -o wide), getter).
_BUILTIN: dict[str, list[tuple[str, str, int, Getter]]] = {
    "Pod": [
        ("Ready", "string", 0, lambda o: _pod_cells(o)[0]),
        ("Status", "string", 0, lambda o: _pod_cells(o)[1]),
        ("Restarts", "integer", 0, lambda o: _pod_cells(o)[2]),
        ("Age", "string", 0, _age_of),
        ("IP", "string", 1, lambda o: _status(o, "status", "podIP") or "<none>"),
        ("Node", "string", 1, lambda o: _status(o, "spec", "nodeName") or "<none>"),
    ],
    "Event": [
        ("Last Seen", "string", 0, _event_seen),
        ("Type", "string", 0, lambda o: o.get("type", "")),
        ("Reason", "string", 0, lambda o: o.get("reason", "")),
        ("Object", "string", 0, _event_object),
        ("Message", "string", 0, lambda o: o.get("message") or o.get("note", "")),
    ],
    "Namespace": [
        ("Status", "string", 0, lambda o: _status(o, "status", "phase")),
        ("Age", "string", 0, _age_of),
    ],
    "Service": [
        ("Type", "string", 0, lambda o: _status(o, "spec", "type")),
        ("Cluster-IP", "string", 0, lambda o: _status(o, "spec", "clusterIP")),
        ("Ports", "string", 0, _service_ports),
        ("Age", "string", 0, _age_of),
    ],
    "ConfigMap": [
        ("Data", "integer", 0, lambda o: len(o.get("data") or {}) + len(o.get("binaryData") or {})),
        ("Age", "string", 0, _age_of),
    ],
}


def _columns(res: ResourceDef) -> list[tuple[str, str, int, Getter]]:
    if res.kind in _BUILTIN and not res.custom:
        return _BUILTIN[res.kind]
    if not res.printer_columns:
        return [("Age", "string", 0, _age_of)]
    result: list[tuple[str, str, int, Getter]] = []
    for column in res.printer_columns:
        path, kind = column["jsonPath"], column.get("type", "string")

        def get(obj: Mapping[str, Any], path: str = path, kind: str = kind) -> Any:
            value = json_path(obj, path)
            return age(value) if kind == "date" and value else value

        result.append((column["name"], kind, int(column.get("priority", 0)), get))
    return result


def table(res: ResourceDef, items: Sequence[Mapping[str, Any]], resource_version: str) -> dict[str, Any]:
    """A meta.k8s.io/v1 Table: NAME, then the kind's columns (a CRD's additionalPrinterColumns)."""
    columns = _columns(res)
    name_column = {"name": "Name", "type": "string", "format": "name", "description": "Name", "priority": 0}
    name_last = res.kind == "Event" and not res.custom  # events show NAME only with -o wide, last
    definitions = [] if name_last else [name_column]
    definitions += [
        {"name": n, "type": "string" if t == "date" else t, "format": "", "description": n, "priority": p}
        for n, t, p, _ in columns
    ]
    if name_last:
        definitions.append({**name_column, "priority": 1})
    rows = []
    for obj in items:
        cells = [get(obj) for _, _, _, get in columns]
        cells.insert(len(cells) if name_last else 0, obj["metadata"]["name"])
        partial = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj["metadata"],
        }
        rows.append({"cells": cells, "object": partial})
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": definitions,
        "rows": rows,
    }
