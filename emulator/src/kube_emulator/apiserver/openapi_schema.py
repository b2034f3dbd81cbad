"""Structural-schema handling of a CRD's `openAPIV3Schema`, as the apiextensions server does it.

Pure functions, reusable outside the embedded API (CI validates example manifests with them). The walk is
`kube_schema.structural` (shared with the operator); this module adds the API server's words and CEL:

- `prune(schema, obj)`: drop fields the schema does not declare (unless
  `x-kubernetes-preserve-unknown-fields`); `apiVersion`, `kind`, `metadata` are kept at the root.
- `unknown_fields(schema, obj)`: the paths `prune` would drop (`spec.junk`, `spec.env[0].x`), what
  `fieldValidation=Strict` rejects.
- `apply_defaults(schema, obj)`: fill `default`s of missing fields (nested, only where the parent exists).
- `validate(schema, obj, old=None) -> list[FieldError]`: types, enum, minimum/maximum (exclusive too),
  min/maxLength, pattern, min/maxItems, min/maxProperties, required, and `x-kubernetes-validations`
  CEL rules (`self`; transition rules with `oldSelf` only when `old` has the field), evaluated with
  cel-python. Each error carries the field path (`spec.workers`) and the message the real server
  prints after the path, e.g. `Invalid value: 0: spec.workers in body should be greater than or equal to 1`.

Inputs are never mutated; `prune` and `apply_defaults` return new objects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kube_schema.structural import (
    MISSING,
    Violation,
    apply_defaults,
    join,
    json_type,
    prune,
    unknown_fields,
    violations,
)

__all__ = ["FieldError", "apply_defaults", "go_value", "json_type", "prune", "unknown_fields", "validate"]


@dataclass(frozen=True)
class FieldError:
    path: str
    message: str
    reason: str = "FieldValueInvalid"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def go_value(value: Any) -> str:
    """A value as the API server prints it in `Invalid value: ...`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def validate(schema: Mapping[str, Any], obj: Any, old: Any = None) -> list[FieldError]:
    root_meta: dict[str, Any] = {}
    if isinstance(obj, Mapping):
        # metadata is validated by the server's own rules, not by the CRD schema; root CEL rules still
        # see metadata.name and metadata.generateName, as on a real server
        root_meta["self"] = _cel_metadata(obj)
        obj = {k: v for k, v in obj.items() if k != "metadata"}
        if isinstance(old, Mapping):
            root_meta["oldSelf"] = _cel_metadata(old)
            old = {k: v for k, v in old.items() if k != "metadata"}

    def rules(node: Mapping[str, Any], value: Any, old_value: Any, path: str) -> list[Violation]:
        return [
            Violation(error.path, "x-kubernetes-validations", value, node, error)
            for error in _check_cel(node, value, old_value, path, root_meta)
        ]

    found = violations(schema, obj, MISSING if old is None else old, "", rules=rules)
    return [_field_error(v) for v in found]


def _cel_metadata(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    return {k: meta[k] for k in ("name", "generateName") if k in meta}


def _field_error(v: Violation) -> FieldError:
    if isinstance(v.detail, FieldError):
        return v.detail
    shown = v.path or "<root>"
    schema, value = v.schema, v.value
    if v.rule == "type":
        want = schema.get("type") or "integer,string"
        actual = json_type(value)
        return FieldError(
            shown,
            f'Invalid value: "{actual}": {shown} in body must be of type {want}: "{actual}"',
            "FieldValueTypeInvalid",
        )
    if v.rule == "enum":
        supported = ", ".join(go_value(e) for e in schema["enum"])
        return FieldError(
            shown,
            f"Unsupported value: {go_value(value)}: supported values: {supported}",
            "FieldValueNotSupported",
        )
    if v.rule == "required":
        return FieldError(v.path, "Required value", "FieldValueRequired")
    if v.rule == "maxLength":
        return FieldError(
            shown, f"Too long: may not be more than {schema['maxLength']} bytes", "FieldValueTooLong"
        )
    if v.rule == "maxItems":
        return FieldError(
            shown,
            f"Too many: {len(value)}: must have at most {schema['maxItems']} items",
            "FieldValueTooMany",
        )
    if v.rule == "duplicate":
        return FieldError(shown, f"Duplicate value: {go_value(value)}", "FieldValueDuplicate")
    return FieldError(shown, f"Invalid value: {_invalid(v, shown)}")


def _invalid(v: Violation, shown: str) -> str:
    """The text after `Invalid value: ` for the bounds the server words as `<value>: <path> in body ...`."""
    schema, value = v.schema, v.value
    bound = {
        "minimum": f"should be greater than or equal to {go_value(schema.get('minimum'))}",
        "exclusiveMinimum": f"should be greater than {go_value(schema.get('minimum'))}",
        "maximum": f"should be less than or equal to {go_value(schema.get('maximum'))}",
        "exclusiveMaximum": f"should be less than {go_value(schema.get('maximum'))}",
        "multipleOf": f"should be a multiple of {go_value(schema.get('multipleOf'))}",
        "minLength": f"should be at least {schema.get('minLength')} chars long",
        "pattern": f"should match '{schema.get('pattern')}'",
        "minItems": f"should have at least {schema.get('minItems')} items",
        "maxProperties": f"should have at most {schema.get('maxProperties')} properties",
        "minProperties": f"should have at least {schema.get('minProperties')} properties",
    }[v.rule]
    shown_value = len(value) if v.rule in ("minItems", "maxProperties", "minProperties") else go_value(value)
    return f"{shown_value}: {shown} in body {bound}"


# ---- CEL --------------------------------------------------------------------------------------------
@lru_cache(maxsize=512)
def _program(rule: str) -> Any:
    import celpy  # imported lazily: only CRDs with rules need it

    env = celpy.Environment()
    return env.program(env.compile(rule))


def _message(rule: Mapping[str, Any], activation: Mapping[str, Any]) -> str:
    """A rule's messageExpression (when it evaluates to a string), else its message."""
    if rule.get("messageExpression"):
        try:
            value = _program(rule["messageExpression"]).evaluate(dict(activation))
        except Exception:  # a failing messageExpression falls back to the message, as on a real server
            value = None
        if isinstance(value, str) and value:
            return str(value)
    return str(rule.get("message") or "")


def _check_cel(
    schema: Mapping[str, Any], value: Any, old: Any, path: str, root_meta: Mapping[str, Any]
) -> list[FieldError]:
    import celpy

    errors: list[FieldError] = []
    if not path and isinstance(value, Mapping):
        value = {**value, "metadata": root_meta.get("self", {})}
        if isinstance(old, Mapping):
            old = {**old, "metadata": root_meta.get("oldSelf", {})}
    for rule in schema["x-kubernetes-validations"]:
        text = rule["rule"]
        transition = re.search(r"\boldSelf\b", text) is not None
        if transition and old is MISSING:
            continue
        activation = {"self": celpy.json_to_cel(value)}
        if transition:
            activation["oldSelf"] = celpy.json_to_cel(old)
        field_path = join(path, rule["fieldPath"].lstrip(".")) if rule.get("fieldPath") else (path or "<nil>")
        try:
            result = _program(text).evaluate(activation)
        except Exception as error:  # cel-python raises several kinds on a bad expression or a missing key
            result = error
        if isinstance(result, Exception):
            detail = result.args[0] if result.args else repr(result)
            errors.append(
                FieldError(
                    field_path,
                    f'Invalid value: "{schema.get("type", "object")}": {detail} evaluating rule: {text}',
                )
            )
            continue
        if not bool(result):
            message = _message(rule, activation) or f"failed rule: {text}"
            reason = rule.get("reason") or "FieldValueInvalid"
            if reason == "FieldValueInvalid":
                message = f'Invalid value: "{schema.get("type", "object")}": {message}'
            elif reason == "FieldValueForbidden":
                message = f"Forbidden: {message}"
            elif reason == "FieldValueRequired":
                message = f"Required value: {message}"
            elif reason == "FieldValueDuplicate":
                message = f'Duplicate value: "{schema.get("type", "object")}": {message}'
            errors.append(FieldError(field_path, message, reason))
    return errors
