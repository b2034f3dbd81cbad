"""Label and field selectors as the API server parses and applies them on list and watch."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from kube_emulator.apiserver.api_errors import ApiError, bad_request

Selector = Callable[[Mapping[str, Any]], bool]

# Field selectors each kind supports besides metadata.name and metadata.namespace (the real server
# answers 400 for any other field).
EXTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "Pod": (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    "Event": (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
        "regarding.kind",
        "regarding.name",
        "regarding.namespace",
        "regarding.uid",
    ),
    "Secret": ("type",),
    "Namespace": ("status.phase",),
    "Node": ("spec.unschedulable",),
}

_REQ = re.compile(
    r"^\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9_./-]+)\s*"
    r"(?:(?P<op>==|=|!=|\s+in\s+|\s+notin\s+)\s*(?P<val>\([^)]*\)|[A-Za-z0-9_.-]*))?\s*$"
)


def _split_top(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


def _requirement(key: str, op: str, val: str | None) -> Callable[[Mapping[str, str]], bool]:
    values = {v.strip() for v in (val or "").strip("()").split(",") if v.strip()}
    if op == "!":
        return lambda labels: key not in labels
    if not op:
        return lambda labels: key in labels
    if op in ("=", "=="):
        return lambda labels: labels.get(key) == val
    if op == "!=":
        return lambda labels: labels.get(key) != val
    if op == "in":
        return lambda labels: labels.get(key) in values
    return lambda labels: labels.get(key) not in values


def parse_label_selector(text: str | None) -> Selector:
    if not text:
        return lambda _obj: True
    checks: list[Callable[[Mapping[str, str]], bool]] = []
    for part in _split_top(text):
        match = _REQ.match(part)
        if not match:
            raise bad_request(f"unable to parse requirement: found '{part.strip()}', expected: identifier")
        key, op, val, neg = match["key"], (match["op"] or "").strip(), match["val"], match["neg"]
        if neg and op:
            raise bad_request(f"unable to parse requirement: found '{part.strip()}', expected: identifier")
        checks.append(_requirement(key, "!" if neg else op, val))

    def selector(obj: Mapping[str, Any]) -> bool:
        labels = obj.get("metadata", {}).get("labels") or {}
        return all(check(labels) for check in checks)

    return selector


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """The string a field selector compares: missing fields are ''; booleans are 'true'/'false'."""
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping) and path == "source":
        return str(value.get("component", ""))
    return str(value)


def parse_field_selector(text: str | None, kind: str, selectable: tuple[str, ...] = ()) -> Selector:
    if not text:
        return lambda _obj: True
    allowed = {"metadata.name", "metadata.namespace", *EXTRA_FIELDS.get(kind, ()), *selectable}
    checks: list[tuple[str, str, bool]] = []
    for part in _split_top(text):
        match = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not match:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        field, op, value = match.groups()
        if field not in allowed:
            raise ApiError(400, "BadRequest", f"field label not supported: {field}")
        checks.append((field, value, op == "!="))

    def selector(obj: Mapping[str, Any]) -> bool:
        return all((field_value(obj, f) != v) if neg else (field_value(obj, f) == v) for f, v, neg in checks)

    return selector
