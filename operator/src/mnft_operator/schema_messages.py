"""The operator's words for a structural-schema violation: what is wrong and how to fix it.

The walk is `kube_schema.structural` (the one the emulator's API server uses too); `spec.validate` checks
a defaulted spec with `OPTIONS` and prints each violation with `message`. Unknown fields are reported
(kubectl's strict validation rejects them too) unless the schema preserves them. CEL rules are not
evaluated here; see `spec.cross_field_errors`.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from kube_schema.structural import Options, Violation
from mnft_operator.core_v1 import PATTERN_HINTS

# YAML's 1.0 is a float: refused for an integer field, as a typo is more likely than intent. A list or map
# over its size bound is one error, not one per entry.
OPTIONS = Options(integral_floats=False, unknown_fields=True, stop_at_size_bounds=True)

_TYPE_NAMES = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
}


def message(v: Violation) -> str:
    """The text after `<field>: ` for one violation."""
    schema, value = v.schema, v.value
    rule = v.rule
    if rule == "type":
        if schema.get("x-kubernetes-int-or-string"):
            return "must be an integer or a string such as 500m or 4Gi"
        type_ = str(schema.get("type"))
        return f"must be {_TYPE_NAMES.get(type_, type_)}, not {_describe(value)}"
    if rule == "enum":
        choices = ", ".join(c if isinstance(c, str) and c else json.dumps(c) for c in schema["enum"])
        shown = repr(value) if isinstance(value, str) else json.dumps(value)
        return f"must be one of {choices}, not {shown}"
    if rule == "exclusiveMinimum":
        return f"must be greater than {schema['minimum']}, not {value}"
    if rule == "minimum":
        return f"must be at least {schema['minimum']}, not {value}"
    if rule == "exclusiveMaximum":
        return f"must be less than {schema['maximum']}, not {value}"
    if rule == "maximum":
        return f"must be at most {schema['maximum']}, not {value}"
    if rule == "multipleOf":
        return f"must be a multiple of {schema['multipleOf']}, not {value}"
    if rule == "minLength":
        return "must not be empty" if schema["minLength"] == 1 else "is too short"
    if rule == "maxLength":
        limit = schema["maxLength"]
        return "must be empty" if limit == 0 else f"must be at most {limit} characters"
    if rule == "pattern":
        hint = PATTERN_HINTS.get(schema["pattern"], f"must match {schema['pattern']}")
        return f"{hint}, not {value!r}"
    if rule == "maxItems":
        return f"must have at most {schema['maxItems']} items, not {len(value)}"
    if rule == "minItems":
        return f"must have at least {schema['minItems']} items, not {len(value)}"
    if rule == "duplicate":
        return f"lists {json.dumps(value)} twice; each entry at most once"
    if rule == "maxProperties":
        return f"must have at most {schema['maxProperties']} entries, not {len(value)}"
    if rule == "minProperties":
        return f"must have at least {schema['minProperties']} entries, not {len(value)}"
    if rule == "required":
        return "is required"
    if rule == "unknown":
        known = list(schema.get("properties") or {})
        close = difflib.get_close_matches(value, known, n=1)
        return "unknown field; " + (
            f"did you mean {close[0]}?" if close else f"known fields: {', '.join(known)}"
        )
    return f"breaks the schema's {rule}"


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    return "an object"
