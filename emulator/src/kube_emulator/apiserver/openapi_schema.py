"""Structural-schema handling of a CRD's `openAPIV3Schema`, as the apiextensions server does it.

Pure functions, reusable outside the embedded API (CI validates example manifests with them):

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

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_ROOT_META = ("apiVersion", "kind", "metadata")


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


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# ---- pruning ----------------------------------------------------------------------------------------
def prune(schema: Mapping[str, Any], obj: Any) -> Any:
    return _prune(schema, obj, root=True)


def _prune(schema: Mapping[str, Any], value: Any, root: bool = False) -> Any:
    if isinstance(value, dict):
        props = schema.get("properties")
        additional = schema.get("additionalProperties")
        keep_unknown = schema.get("x-kubernetes-preserve-unknown-fields") or additional is True
        embedded = root or schema.get("x-kubernetes-embedded-resource")
        result = {}
        for key, item in value.items():
            if root and key in _ROOT_META:
                result[key] = copy.deepcopy(item)  # metadata is the server's, whatever the schema says
            elif props is not None and key in props:
                result[key] = _prune(props[key], item)
            elif isinstance(additional, Mapping):
                result[key] = _prune(additional, item)
            elif keep_unknown or (embedded and key in _ROOT_META):
                result[key] = copy.deepcopy(item)
        return result
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [_prune(schema["items"], item) for item in value]
    return copy.deepcopy(value)


def unknown_fields(schema: Mapping[str, Any], obj: Any) -> list[str]:
    return _unknown(obj, prune(schema, obj), "")


def _unknown(original: Any, pruned: Any, path: str) -> list[str]:
    if isinstance(original, Mapping) and isinstance(pruned, Mapping):
        found: list[str] = []
        for key, value in original.items():
            child = _join(path, key)
            found += [child] if key not in pruned else _unknown(value, pruned[key], child)
        return found
    if isinstance(original, list) and isinstance(pruned, list):
        return [
            f
            for i, (a, b) in enumerate(zip(original, pruned, strict=True))
            for f in _unknown(a, b, f"{path}[{i}]")
        ]
    return []


# ---- defaulting -------------------------------------------------------------------------------------
def apply_defaults(schema: Mapping[str, Any], obj: Any) -> Any:
    return _default(schema, copy.deepcopy(obj))


def _default(schema: Mapping[str, Any], value: Any) -> Any:
    if isinstance(value, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if "default" in sub and (key not in value or (value[key] is None and not sub.get("nullable"))):
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                value[key] = _default(sub, value[key])
        additional = schema.get("additionalProperties")
        if isinstance(additional, Mapping):
            for key in value:
                value[key] = _default(additional, value[key])
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [_default(schema["items"], item) for item in value]
    return value


# ---- validation -------------------------------------------------------------------------------------
_MISSING = object()


def _cel_visible_metadata(obj: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in obj.items() if k != "metadata"}
    metadata = obj.get("metadata")
    if isinstance(metadata, Mapping):
        out["metadata"] = {k: metadata[k] for k in ("name", "generateName") if k in metadata}
    return out


def validate(schema: Mapping[str, Any], obj: Any, old: Any = None) -> list[FieldError]:
    errors: list[FieldError] = []
    context: dict[str, Any] = {}
    if isinstance(obj, Mapping):
        # metadata is validated by the server's own rules, not by the CRD schema; root CEL rules still
        # see metadata.name and metadata.generateName, as on a real server
        context["self"] = _cel_metadata(obj)
        obj = {k: v for k, v in obj.items() if k != "metadata"}
        if isinstance(old, Mapping):
            context["oldSelf"] = _cel_metadata(old)
            old = {k: v for k, v in old.items() if k != "metadata"}
    _validate(schema, obj, _MISSING if old is None else old, "", errors, context)
    return errors


def _cel_metadata(obj: Mapping[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    return {k: meta[k] for k in ("name", "generateName") if k in meta}


def _type_ok(expected: str, value: Any, schema: Mapping[str, Any]) -> bool:
    if schema.get("x-kubernetes-int-or-string"):
        return (isinstance(value, int) and not isinstance(value, bool)) or isinstance(value, str)
    actual = json_type(value)
    if expected == "number":
        return actual in ("integer", "number")
    if expected == "integer" and actual == "number":
        return float(value).is_integer()
    return actual == expected


def _validate(
    schema: Mapping[str, Any],
    value: Any,
    old: Any,
    path: str,
    errors: list[FieldError],
    root_meta: Mapping[str, Any] | None = None,
) -> None:
    shown = path or "<root>"
    if value is None and schema.get("nullable"):
        return
    expected = schema.get("type")
    if (expected or schema.get("x-kubernetes-int-or-string")) and not _type_ok(expected or "", value, schema):
        want = expected or "integer,string"
        errors.append(
            FieldError(
                shown,
                f'Invalid value: "{json_type(value)}": {shown} in body must be of type '
                f'{want}: "{json_type(value)}"',
                "FieldValueTypeInvalid",
            )
        )
        return
    before = len(errors)
    if "enum" in schema and value not in schema["enum"]:
        supported = ", ".join(go_value(v) for v in schema["enum"])
        errors.append(
            FieldError(
                shown,
                f"Unsupported value: {go_value(value)}: supported values: {supported}",
                "FieldValueNotSupported",
            )
        )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        _check_number(schema, value, shown, errors)
    if isinstance(value, str):
        _check_string(schema, value, shown, errors)
    if isinstance(value, list):
        _check_array(schema, value, shown, errors)
        items = schema.get("items")
        if isinstance(items, Mapping):
            for index, item in enumerate(value):
                _validate(items, item, _MISSING, f"{path}[{index}]", errors)
    if isinstance(value, Mapping):
        _check_object(schema, value, old, path, errors)
    if len(errors) == before and schema.get("x-kubernetes-validations"):
        _check_cel(schema, value, old, path, errors, root_meta or {})


def _check_number(schema: Mapping[str, Any], value: float, shown: str, errors: list[FieldError]) -> None:
    def bad(text: str) -> None:
        errors.append(FieldError(shown, f"Invalid value: {go_value(value)}: {shown} in body {text}"))

    if "minimum" in schema:
        if schema.get("exclusiveMinimum") is True and value <= schema["minimum"]:
            bad(f"should be greater than {go_value(schema['minimum'])}")
        elif value < schema["minimum"]:
            bad(f"should be greater than or equal to {go_value(schema['minimum'])}")
    if "maximum" in schema:
        if schema.get("exclusiveMaximum") is True and value >= schema["maximum"]:
            bad(f"should be less than {go_value(schema['maximum'])}")
        elif value > schema["maximum"]:
            bad(f"should be less than or equal to {go_value(schema['maximum'])}")
    if schema.get("multipleOf") and value % schema["multipleOf"] != 0:
        bad(f"should be a multiple of {go_value(schema['multipleOf'])}")


def _check_string(schema: Mapping[str, Any], value: str, shown: str, errors: list[FieldError]) -> None:
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        errors.append(
            FieldError(
                shown, f"Too long: may not be more than {schema['maxLength']} bytes", "FieldValueTooLong"
            )
        )
    if "minLength" in schema and len(value) < schema["minLength"]:
        errors.append(
            FieldError(
                shown,
                f"Invalid value: {go_value(value)}: {shown} in body should be at least "
                f"{schema['minLength']} chars long",
            )
        )
    if "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(
            FieldError(
                shown, f"Invalid value: {go_value(value)}: {shown} in body should match '{schema['pattern']}'"
            )
        )


def _check_array(schema: Mapping[str, Any], value: list[Any], shown: str, errors: list[FieldError]) -> None:
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(
            FieldError(
                shown,
                f"Too many: {len(value)}: must have at most {schema['maxItems']} items",
                "FieldValueTooMany",
            )
        )
    if "minItems" in schema and len(value) < schema["minItems"]:
        errors.append(
            FieldError(
                shown,
                f"Invalid value: {len(value)}: {shown} in body should have at least "
                f"{schema['minItems']} items",
            )
        )
    if schema.get("uniqueItems") or schema.get("x-kubernetes-list-type") == "set":
        seen: list[Any] = []
        for item in value:
            if item in seen:
                errors.append(FieldError(shown, f"Duplicate value: {go_value(item)}", "FieldValueDuplicate"))
            seen.append(item)


def _check_object(
    schema: Mapping[str, Any], value: Mapping[str, Any], old: Any, path: str, errors: list[FieldError]
) -> None:
    for key in schema.get("required") or ():
        if key not in value:
            errors.append(FieldError(_join(path, key), "Required value", "FieldValueRequired"))
    props = schema.get("properties") or {}
    old_map = old if isinstance(old, Mapping) else {}
    for key, sub in props.items():
        if key in value:
            _validate(sub, value[key], old_map.get(key, _MISSING), _join(path, key), errors)
    additional = schema.get("additionalProperties")
    if isinstance(additional, Mapping):
        for key, item in value.items():
            if key not in props:
                _validate(additional, item, old_map.get(key, _MISSING), _join(path, key), errors)
    for bound, word in (("maxProperties", "at most"), ("minProperties", "at least")):
        if bound in schema:
            count = len(value)
            if (count > schema[bound]) if word == "at most" else (count < schema[bound]):
                errors.append(
                    FieldError(
                        path or "<root>",
                        f"Invalid value: {count}: {path or '<root>'} in body "
                        f"should have {word} {schema[bound]} properties",
                    )
                )


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
    schema: Mapping[str, Any],
    value: Any,
    old: Any,
    path: str,
    errors: list[FieldError],
    root_meta: Mapping[str, Any],
) -> None:
    import celpy

    if not path and isinstance(value, Mapping):
        value = {**value, "metadata": root_meta.get("self", {})}
        if isinstance(old, Mapping):
            old = {**old, "metadata": root_meta.get("oldSelf", {})}
    for rule in schema["x-kubernetes-validations"]:
        text = rule["rule"]
        transition = re.search(r"\boldSelf\b", text) is not None
        if transition and old is _MISSING:
            continue
        activation = {"self": celpy.json_to_cel(value)}
        if transition:
            activation["oldSelf"] = celpy.json_to_cel(old)
        field_path = (
            _join(path, rule["fieldPath"].lstrip(".")) if rule.get("fieldPath") else (path or "<nil>")
        )
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
