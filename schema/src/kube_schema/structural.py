"""One walker of an OpenAPI v3 structural schema, the way the apiextensions server applies a CRD's schema.

- `prune(schema, obj)`: drop fields the schema does not declare (unless
  `x-kubernetes-preserve-unknown-fields` or `additionalProperties: true`); `apiVersion`, `kind`,
  `metadata` are kept at the root and in embedded resources.
- `unknown_fields(schema, obj)`: the paths `prune` would drop (`spec.junk`, `spec.env[0].x`).
- `apply_defaults(schema, obj)`: fill the `default` of a missing field (or of a null one that is not
  `nullable`), parents first, only where the parent exists.
- `violations(schema, obj, ...)`: every place `obj` breaks the schema as a `Violation` (the rule broken,
  the value, the schema node), in the order of the object's keys. Types, enum, minimum/maximum (exclusive
  too), multipleOf, min/maxLength, pattern, min/maxItems, set-list duplicates, min/maxProperties,
  required, and optionally unknown fields; `x-kubernetes-validations` are handed to a caller's `rules`
  hook (CEL needs a dependency this package does not take).

The words are the caller's: the emulator prints the API server's, the operator its own hints. Inputs are
never mutated; `prune` and `apply_defaults` return new objects.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Schema = Mapping[str, Any]
ROOT_META = ("apiVersion", "kind", "metadata")
MISSING: Any = object()  # `old` of a field the old object lacks (transition rules skip it)


@dataclass(frozen=True)
class Violation:
    """One broken rule. `path` is the field (`spec.workers`, `spec.env[0]`; "" is the root); `rule` the
    schema keyword broken: `type`, `enum`, `minimum`, `exclusiveMinimum`, `maximum`, `exclusiveMaximum`,
    `multipleOf`, `minLength`, `maxLength`, `pattern`, `minItems`, `maxItems`, `duplicate`,
    `minProperties`, `maxProperties`, `required`, `unknown`, or what a `rules` hook reports; `value` the
    value at `path` (for `required`/`unknown`: the key); `schema` the node holding the rule; `detail` what
    a `rules` hook attaches (the walker never reads it)."""

    path: str
    rule: str
    value: Any
    schema: Schema
    detail: Any = None


@dataclass(frozen=True)
class Options:
    """What differs between callers.

    `integral_floats`: `1.0` is an integer (the API server's JSON decoding turns it into 1); the operator,
    reading YAML, refuses it. `unknown_fields`: report undeclared fields as `unknown` (strict field
    validation) instead of leaving them to `prune`. `stop_at_size_bounds`: a list over maxItems or an object
    over maxProperties is not looked into (one error, not one per entry).
    """

    integral_floats: bool = True
    unknown_fields: bool = False
    stop_at_size_bounds: bool = False


# (schema node, value, old value or MISSING, path) -> the violations of the node's x-kubernetes-validations
RulesHook = Callable[[Schema, Any, Any, str], list[Violation]]


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


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


def _keeps_unknown(schema: Schema) -> bool:
    return (
        bool(schema.get("x-kubernetes-preserve-unknown-fields")) or schema.get("additionalProperties") is True
    )


def _kept_meta(schema: Schema, key: str, root: bool) -> bool:
    return key in ROOT_META and bool(root or schema.get("x-kubernetes-embedded-resource"))


# ---- pruning ----------------------------------------------------------------------------------------
def prune(schema: Schema, obj: Any) -> Any:
    return _prune(schema, obj, root=True)


def _prune(schema: Schema, value: Any, root: bool = False) -> Any:
    if isinstance(value, dict):
        props = schema.get("properties")
        additional = schema.get("additionalProperties")
        result = {}
        for key, item in value.items():
            if root and key in ROOT_META:
                result[key] = copy.deepcopy(item)  # metadata is the server's, whatever the schema says
            elif props is not None and key in props:
                result[key] = _prune(props[key], item)
            elif isinstance(additional, Mapping):
                result[key] = _prune(additional, item)
            elif _keeps_unknown(schema) or _kept_meta(schema, key, root):
                result[key] = copy.deepcopy(item)
        return result
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [_prune(schema["items"], item) for item in value]
    return copy.deepcopy(value)


def unknown_fields(schema: Schema, obj: Any) -> list[str]:
    return _unknown(obj, prune(schema, obj), "")


def _unknown(original: Any, pruned: Any, path: str) -> list[str]:
    if isinstance(original, Mapping) and isinstance(pruned, Mapping):
        found: list[str] = []
        for key, value in original.items():
            child = join(path, key)
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
def apply_defaults(schema: Schema, obj: Any) -> Any:
    return _default(schema, copy.deepcopy(obj))


def _default(schema: Schema, value: Any) -> Any:
    if isinstance(value, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if "default" in sub and (key not in value or (value[key] is None and not sub.get("nullable"))):
                value[key] = copy.deepcopy(sub["default"])
            if key in value:
                value[key] = _default(sub, value[key])
        additional = schema.get("additionalProperties")
        if isinstance(additional, Mapping):
            props = schema.get("properties") or {}
            for key in value:
                if key not in props:
                    value[key] = _default(additional, value[key])
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [_default(schema["items"], item) for item in value]
    return value


# ---- validation -------------------------------------------------------------------------------------
def violations(
    schema: Schema,
    obj: Any,
    old: Any = MISSING,
    path: str = "",
    options: Options = Options(),
    rules: RulesHook | None = None,
) -> list[Violation]:
    """Every violation of `schema` by `obj` (`old`: the stored object, for the rules hook's transition
    rules). `path` names `obj` ("" for a whole object, "spec" for a spec checked alone)."""
    found: list[Violation] = []
    _Walk(options, rules, found).node(schema, obj, old, path)
    return found


def type_ok(schema: Schema, value: Any, integral_floats: bool = True) -> bool:
    if schema.get("x-kubernetes-int-or-string"):
        return (isinstance(value, int) and not isinstance(value, bool)) or isinstance(value, str)
    expected = schema.get("type")
    if not expected:
        return True
    actual = json_type(value)
    if expected == "number":
        return actual in ("integer", "number")
    if expected == "integer" and actual == "number":
        return integral_floats and float(value).is_integer()
    return actual == expected


class _Walk:
    def __init__(self, options: Options, rules: RulesHook | None, found: list[Violation]) -> None:
        self.options = options
        self.rules = rules
        self.found = found

    def add(self, path: str, rule: str, value: Any, schema: Schema) -> None:
        self.found.append(Violation(path, rule, value, schema))

    def node(self, schema: Schema, value: Any, old: Any, path: str) -> None:
        if value is None and schema.get("nullable"):
            return
        if not type_ok(schema, value, self.options.integral_floats):
            self.add(path, "type", value, schema)
            return
        before = len(self.found)
        if "enum" in schema and value not in schema["enum"]:
            self.add(path, "enum", value, schema)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.number(schema, value, path)
        if isinstance(value, str):
            self.string(schema, value, path)
        if isinstance(value, list):
            self.array(schema, value, path)
        if isinstance(value, Mapping):
            self.object(schema, value, old, path)
        if len(self.found) == before and self.rules is not None and schema.get("x-kubernetes-validations"):
            self.found.extend(self.rules(schema, value, old, path))

    def number(self, schema: Schema, value: float, path: str) -> None:
        if "minimum" in schema:
            if schema.get("exclusiveMinimum") is True and value <= schema["minimum"]:
                self.add(path, "exclusiveMinimum", value, schema)
            elif value < schema["minimum"]:
                self.add(path, "minimum", value, schema)
        if "maximum" in schema:
            if schema.get("exclusiveMaximum") is True and value >= schema["maximum"]:
                self.add(path, "exclusiveMaximum", value, schema)
            elif value > schema["maximum"]:
                self.add(path, "maximum", value, schema)
        if schema.get("multipleOf") and value % schema["multipleOf"] != 0:
            self.add(path, "multipleOf", value, schema)

    def string(self, schema: Schema, value: str, path: str) -> None:
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            self.add(path, "maxLength", value, schema)
        if "minLength" in schema and len(value) < schema["minLength"]:
            self.add(path, "minLength", value, schema)
        if "pattern" in schema and not re.search(schema["pattern"], value):
            self.add(path, "pattern", value, schema)

    def array(self, schema: Schema, value: list[Any], path: str) -> None:
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            self.add(path, "maxItems", value, schema)
            if self.options.stop_at_size_bounds:
                return
        if "minItems" in schema and len(value) < schema["minItems"]:
            self.add(path, "minItems", value, schema)
        if schema.get("uniqueItems") or schema.get("x-kubernetes-list-type") == "set":
            seen: list[Any] = []
            for item in value:
                if item in seen:
                    self.found.append(Violation(path, "duplicate", item, schema))
                seen.append(item)
        items = schema.get("items")
        if isinstance(items, Mapping):
            for index, item in enumerate(value):
                self.node(items, item, MISSING, f"{path}[{index}]")

    def object(self, schema: Schema, value: Mapping[str, Any], old: Any, path: str) -> None:
        if self.options.stop_at_size_bounds and len(value) > schema.get("maxProperties", len(value)):
            self.add(path, "maxProperties", value, schema)
            return
        for key in schema.get("required") or ():
            if key not in value:
                self.add(join(path, key), "required", key, schema)
        props: Mapping[str, Schema] = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        old_map = old if isinstance(old, Mapping) else {}
        for key, item in value.items():
            child = join(path, key)
            if key in props:
                self.node(props[key], item, old_map.get(key, MISSING), child)
            elif isinstance(additional, Mapping):
                self.node(additional, item, old_map.get(key, MISSING), child)
            elif self.options.unknown_fields and not (
                _keeps_unknown(schema) or _kept_meta(schema, key, False)
            ):
                self.add(child, "unknown", key, schema)
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            self.add(path, "maxProperties", value, schema)
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            self.add(path, "minProperties", value, schema)
