"""Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), what `kubectl get` asks for.

Columns: NAME, the kind's usual columns for pods, a CRD version's `additionalPrinterColumns` (simple
`.a.b` / `.a[0].b` JSONPaths and `[?(@.type=="X")]` filters), and AGE.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from mnft_operator.local.api_resources import ResourceDef


def age(timestamp: str | None, now: datetime | None = None) -> str:
    if not timestamp:
        return "<unknown>"
    then = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
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


def table(res: ResourceDef, items: Sequence[Mapping[str, Any]], resource_version: str) -> dict[str, Any]:
    columns: list[dict[str, Any]] = [
        {"name": "Name", "type": "string", "format": "name", "description": "Name", "priority": 0}
    ]
    if res.kind == "Pod":
        columns += [
            {"name": n, "type": t, "format": "", "description": n, "priority": 0}
            for n, t in (("Ready", "string"), ("Status", "string"), ("Restarts", "integer"))
        ]
    printer = [c for c in res.printer_columns if c.get("jsonPath") != ".metadata.creationTimestamp"]
    columns += [
        {
            "name": c["name"],
            "type": c.get("type", "string"),
            "format": c.get("format", ""),
            "description": c.get("description", ""),
            "priority": c.get("priority", 0),
        }
        for c in printer
    ]
    columns.append({"name": "Age", "type": "string", "format": "", "description": "Age", "priority": 0})
    if res.kind == "Pod":  # shown by `-o wide`
        columns += [
            {"name": n, "type": "string", "format": "", "description": n, "priority": 1}
            for n in ("IP", "Node")
        ]
    rows = []
    for obj in items:
        meta = obj["metadata"]
        cells: list[Any] = [meta["name"]]
        if res.kind == "Pod":
            cells += _pod_cells(obj)
        for column in printer:
            value = json_path(obj, column["jsonPath"])
            cells.append(age(value) if column.get("type") == "date" and value else value)
        cells.append(age(meta.get("creationTimestamp")))
        if res.kind == "Pod":
            cells += [
                (obj.get("status") or {}).get("podIP") or "<none>",
                (obj.get("spec") or {}).get("nodeName") or "<none>",
            ]
        partial = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
        rows.append({"cells": cells, "object": partial})
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": columns,
        "rows": rows,
    }
