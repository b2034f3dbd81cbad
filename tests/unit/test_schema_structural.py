"""kube_schema: the one structural-schema walker (operator and emulator) and the bounded YAML loader."""

from __future__ import annotations

from typing import Any

import pytest

from kube_schema import bounded_yaml
from kube_schema.structural import MISSING, Options, Violation, apply_defaults, violations

ITEM = {"type": "integer", "minimum": 1}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["n"],
    "properties": {
        "n": {"type": "integer", "default": 1},
        "opt": {"type": "string", "nullable": True, "default": "x"},
        "list": {"type": "array", "maxItems": 2, "items": ITEM},
        "map": {"type": "object", "maxProperties": 1, "additionalProperties": ITEM},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "pod": {"type": "object", "x-kubernetes-embedded-resource": True, "properties": {}},
        "ruled": {"type": "object", "x-kubernetes-validations": [{"rule": "r"}], "properties": {"a": ITEM}},
    },
}
STRICT = Options(integral_floats=False, unknown_fields=True, stop_at_size_bounds=True)


def found(value: Any, options: Options = Options(), **kwargs: Any) -> list[tuple[str, str, Any]]:  # noqa: B008
    return [(v.path, v.rule, v.value) for v in violations(SCHEMA, value, options=options, **kwargs)]


def test_an_integral_float_is_an_integer_unless_the_caller_refuses_it() -> None:
    assert found({"n": 2.0}) == []
    assert found({"n": 2.0}, STRICT) == [("n", "type", 2.0)]
    assert found({"n": 2.5}) == [("n", "type", 2.5)]


def test_unknown_fields_are_reported_only_when_asked_and_never_under_preserved_or_embedded_metadata() -> None:
    value = {"n": 1, "junk": 1, "free": {"any": 1}, "pod": {"metadata": {"name": "p"}, "x": 1}}
    assert found(value) == []
    assert found(value, STRICT) == [("junk", "unknown", "junk"), ("pod.x", "unknown", "x")]


def test_size_bounds_stop_the_walk_only_when_asked() -> None:
    value = {"n": 1, "list": [0, 0, 0], "map": {"a": 0, "b": 0}}
    assert found(value) == [
        ("list", "maxItems", [0, 0, 0]),
        ("list[0]", "minimum", 0),
        ("list[1]", "minimum", 0),
        ("list[2]", "minimum", 0),
        ("map.a", "minimum", 0),
        ("map.b", "minimum", 0),
        ("map", "maxProperties", {"a": 0, "b": 0}),
    ]
    assert found(value, STRICT) == [
        ("list", "maxItems", [0, 0, 0]),
        ("map", "maxProperties", {"a": 0, "b": 0}),
    ]


def test_the_rules_hook_runs_where_the_node_is_otherwise_valid_and_sees_the_old_value() -> None:
    calls: list[tuple[Any, Any, str]] = []

    def rules(schema: Any, value: Any, old: Any, path: str) -> list[Violation]:
        calls.append((value, old, path))
        return [Violation(path, "rule", value, schema, "detail")]

    assert found({"n": 1, "ruled": {"a": 0}}, rules=rules) == [("ruled.a", "minimum", 0)]
    assert calls == []
    result = violations(SCHEMA, {"n": 1, "ruled": {"a": 2}}, {"ruled": {"a": 1}}, rules=rules)
    assert [(v.path, v.rule, v.detail) for v in result] == [("ruled", "rule", "detail")]
    assert calls == [({"a": 2}, {"a": 1}, "ruled")]
    violations(SCHEMA, {"n": 1, "ruled": {"a": 2}}, rules=rules)
    assert calls[-1] == ({"a": 2}, MISSING, "ruled")


def test_a_path_prefix_names_the_fields() -> None:
    assert found({}, path="spec") == [("spec.n", "required", "n")]


def test_defaults_replace_a_null_unless_the_field_is_nullable() -> None:
    assert apply_defaults(SCHEMA, {"n": None, "opt": None}) == {"n": 1, "opt": None}
    assert apply_defaults(SCHEMA, {}) == {"n": 1, "opt": "x"}


def test_yaml_refusals_say_which_bound_where() -> None:
    with pytest.raises(bounded_yaml.Refused) as recursive:
        bounded_yaml.load_one("a: &x\n  b: *x\n")
    assert (recursive.value.what, recursive.value.anchor, recursive.value.line) == ("recursive alias", "x", 2)
    with pytest.raises(bounded_yaml.Refused) as deep:
        bounded_yaml.load_one("[" * 101 + "]" * 101)
    assert (deep.value.what, deep.value.line) == ("depth", 1)
    bomb = "a: &a [1,1,1,1,1,1,1,1,1,1]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcd", "bcde", strict=True)
    )
    with pytest.raises(bounded_yaml.Refused) as aliases:
        bounded_yaml.load_one(bomb)
    assert aliases.value.what == "alias nodes"


def test_an_alias_of_a_scalar_adds_no_level_of_nesting() -> None:
    inner = "[" * 99 + "*x" + "]" * 99
    assert bounded_yaml.load_all(f"a: &x 1\nb: {inner}\n")[0]["a"] == 1
