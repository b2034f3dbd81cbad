"""Small builders for OpenAPI v3 schema nodes and CEL rules, used by `crd` and `crd_status`."""

from __future__ import annotations

from typing import Any

IMMUTABLE_MESSAGE = "is immutable while the job exists; delete and recreate the job to change it"

Schema = dict[str, Any]


def _bounded(schema: Schema, minimum: float | None, maximum: float | None, extra: dict[str, Any]) -> Schema:
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    schema.update(extra)
    return schema


def int_(description: str, minimum: int | None = None, maximum: int | None = None, **extra: Any) -> Schema:
    return _bounded(
        {"type": "integer", "format": "int32", "description": description}, minimum, maximum, extra
    )


def num(description: str, minimum: float | None = None, maximum: float | None = None, **extra: Any) -> Schema:
    return _bounded({"type": "number", "description": description}, minimum, maximum, extra)


def str_(description: str, **extra: Any) -> Schema:
    return {"type": "string", "description": description, **extra}


def enum(description: str, values: list[str], **extra: Any) -> Schema:
    return {"type": "string", "description": description, "enum": values, **extra}


def free_object(description: str) -> Schema:
    """A core/v1 structure passed through verbatim (volume source, affinity, ...)."""
    return {"type": "object", "description": description, "x-kubernetes-preserve-unknown-fields": True}


def immutable(schema: Schema) -> Schema:
    rules = schema.setdefault("x-kubernetes-validations", [])
    rules.append({"rule": "self == oldSelf", "message": IMMUTABLE_MESSAGE})
    return schema


def rule(rule: str, message: str, field_path: str | None = None, reason: str | None = None) -> Schema:
    out: Schema = {"rule": rule, "message": message}
    if field_path is not None:
        out["fieldPath"] = field_path
    if reason is not None:
        out["reason"] = reason
    return out
