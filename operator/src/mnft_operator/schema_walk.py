"""Apply an OpenAPI v3 structural schema the way the API server does: defaults, types, enums, bounds.

Used with `crd.spec_schema()` so the operator (and `mnft render`) default and check a resource exactly as a
cluster would, without a cluster. Unknown fields are reported (kubectl's strict validation rejects them too)
unless the schema preserves them. CEL rules are not evaluated here; see `spec.cross_field_errors`.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from mnft_operator.core_v1 import PATTERN_HINTS

Schema = Mapping[str, Any]

_TYPE_NAMES = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
}


def with_defaults(value: Any, schema: Schema) -> Any:
    """A deep copy of `value` with the schema's defaults filled in (parents first, like the API server)."""
    value = copy.deepcopy(value)
    _default(value, schema)
    return value


def _default(value: Any, schema: Schema) -> None:
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key, sub in props.items():
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                _default(value[key], sub)
    elif isinstance(value, list) and "items" in schema:
        for item in value:
            _default(item, schema["items"])


def _type_ok(value: Any, type_: str) -> bool:
    if type_ == "object":
        return isinstance(value, dict)
    if type_ == "array":
        return isinstance(value, list)
    if type_ == "string":
        return isinstance(value, str)
    if type_ == "boolean":
        return isinstance(value, bool)
    if type_ == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_ == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return True


def check(value: Any, schema: Schema, path: str) -> list[tuple[str, str]]:
    """(field, message) pairs for every place `value` breaks `schema`; empty when it conforms."""
    errors: list[tuple[str, str]] = []
    _check(value, schema, path, errors)
    return errors


def _check(value: Any, schema: Schema, path: str, errors: list[tuple[str, str]]) -> None:
    if schema.get("x-kubernetes-int-or-string"):
        if not (isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))):
            errors.append((path, "must be an integer or a string such as 500m or 4Gi"))
        elif isinstance(value, str):
            _check_string(value, schema, path, errors)
        return
    type_ = schema.get("type")
    if type_ and not _type_ok(value, type_):
        errors.append((path, f"must be {_TYPE_NAMES.get(type_, type_)}, not {_describe(value)}"))
        return
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(v if isinstance(v, str) and v else json.dumps(v) for v in schema["enum"])
        shown = repr(value) if isinstance(value, str) else json.dumps(value)
        errors.append((path, f"must be one of {choices}, not {shown}"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        _check_bounds(value, schema, path, errors)
    if isinstance(value, str):
        _check_string(value, schema, path, errors)
    if isinstance(value, dict):
        _check_object(value, schema, path, errors)
    if isinstance(value, list) and len(value) > schema.get("maxItems", len(value)):
        errors.append((path, f"must have at most {schema['maxItems']} items, not {len(value)}"))
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _check(item, schema["items"], f"{path}[{i}]", errors)


def _check_bounds(value: float, schema: Schema, path: str, errors: list[tuple[str, str]]) -> None:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None:
        if schema.get("exclusiveMinimum") and value <= low:
            errors.append((path, f"must be greater than {low}, not {value}"))
        elif value < low:
            errors.append((path, f"must be at least {low}, not {value}"))
    if high is not None:
        if schema.get("exclusiveMaximum") and value >= high:
            errors.append((path, f"must be less than {high}, not {value}"))
        elif value > high:
            errors.append((path, f"must be at most {high}, not {value}"))


def _check_string(value: str, schema: Schema, path: str, errors: list[tuple[str, str]]) -> None:
    if "minLength" in schema and len(value) < schema["minLength"]:
        errors.append((path, "must not be empty" if schema["minLength"] == 1 else "is too short"))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        limit = schema["maxLength"]
        errors.append((path, "must be empty" if limit == 0 else f"must be at most {limit} characters"))
    if "pattern" in schema and not re.search(schema["pattern"], value):
        hint = PATTERN_HINTS.get(schema["pattern"], f"must match {schema['pattern']}")
        errors.append((path, f"{hint}, not {value!r}"))


def _check_object(value: dict[str, Any], schema: Schema, path: str, errors: list[tuple[str, str]]) -> None:
    props: Mapping[str, Schema] = schema.get("properties", {})
    if len(value) > schema.get("maxProperties", len(value)):
        errors.append((path, f"must have at most {schema['maxProperties']} entries, not {len(value)}"))
        return
    for key in schema.get("required", []):
        if key not in value:
            errors.append((f"{path}.{key}", "is required"))
    extra = schema.get("additionalProperties")
    for key, sub_value in value.items():
        sub_path = f"{path}.{key}"
        if key in props:
            _check(sub_value, props[key], sub_path, errors)
        elif isinstance(extra, Mapping):
            _check(sub_value, extra, sub_path, errors)
        elif not schema.get("x-kubernetes-preserve-unknown-fields"):
            hint = difflib.get_close_matches(key, list(props), n=1)
            fix = f"did you mean {hint[0]}?" if hint else f"known fields: {', '.join(props)}"
            errors.append((sub_path, f"unknown field; {fix}"))


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} (only finite numbers are allowed)"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    return "an object"
