"""openapi_schema: structural-schema pruning, defaulting and validation (CEL included), as pure functions."""

from __future__ import annotations

from typing import Any

from kube_emulator.apiserver.openapi_schema import FieldError, apply_defaults, prune, unknown_fields, validate

SCHEMA: dict[str, Any] = {
    "type": "object",
    "x-kubernetes-validations": [
        {
            "rule": "self.metadata.name.startsWith('ok')",
            "message": "name must start with ok",
            "fieldPath": ".metadata.name",
        },
    ],
    "properties": {
        "spec": {
            "type": "object",
            "required": ["workers"],
            "x-kubernetes-validations": [
                {
                    "rule": "self.platform == oldSelf.platform",
                    "message": "platform is immutable",
                    "fieldPath": ".platform",
                },
                {
                    "rule": "!has(self.devices) || self.devices <= 8",
                    "reason": "FieldValueForbidden",
                    "message": "too many devices",
                },
            ],
            "properties": {
                "workers": {"type": "integer", "minimum": 1, "maximum": 64},
                "devices": {"type": "integer"},
                "platform": {"type": "string", "enum": ["CPU", "GPU", "Ascend"], "default": "CPU"},
                "lr": {"type": "number", "exclusiveMinimum": True, "minimum": 0},
                "name": {"type": "string", "pattern": "^[a-z]+$", "minLength": 2, "maxLength": 5},
                "port": {"x-kubernetes-int-or-string": True},
                "env": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {
                            "name": {"type": "string"},
                            "value": {"type": "string", "default": ""},
                        },
                    },
                },
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "opt": {
                    "type": "object",
                    "nullable": True,
                    "properties": {"a": {"type": "integer", "default": 1}},
                },
                "nested": {
                    "type": "object",
                    "default": {},
                    "properties": {"x": {"type": "integer", "default": 7}},
                },
            },
        },
    },
}


def obj(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "x.io/v1", "kind": "Job", "metadata": {"name": "ok-job"}, "spec": spec}


def errors(spec: dict[str, Any], old: dict[str, Any] | None = None, name: str = "ok-job") -> list[FieldError]:
    body = obj(**spec)
    body["metadata"]["name"] = name
    return validate(SCHEMA, body, None if old is None else obj(**old))


def test_prune_drops_unknown_fields_but_keeps_metadata_and_preserved_subtrees() -> None:
    body = {
        **obj(workers=1, junk=2, free={"any": {"deep": 1}}, labels={"a": "b"}, env=[{"name": "A", "x": 1}]),
        "extra": True,
        "metadata": {"name": "ok", "labels": {"k": "v"}},
    }
    assert prune(SCHEMA, body) == {
        "apiVersion": "x.io/v1",
        "kind": "Job",
        "metadata": {"name": "ok", "labels": {"k": "v"}},
        "spec": {"workers": 1, "free": {"any": {"deep": 1}}, "labels": {"a": "b"}, "env": [{"name": "A"}]},
    }


def test_defaults_fill_missing_fields_nested_and_in_list_items_without_mutating_input() -> None:
    body = obj(workers=1, env=[{"name": "A"}])
    assert apply_defaults(SCHEMA, body)["spec"] == {
        "workers": 1,
        "platform": "CPU",
        "env": [{"name": "A", "value": ""}],
        "nested": {"x": 7},
    }
    assert body == obj(workers=1, env=[{"name": "A"}])


def test_a_valid_object_has_no_errors() -> None:
    assert (
        errors({"workers": 2, "platform": "GPU", "lr": 0.1, "name": "abc", "port": "http", "opt": None}) == []
    )


def test_number_bounds_use_the_servers_words() -> None:
    assert errors({"workers": 0}) == [
        FieldError(
            "spec.workers", "Invalid value: 0: spec.workers in body should be greater than or equal to 1"
        )
    ]
    assert errors({"workers": 65}) == [
        FieldError(
            "spec.workers", "Invalid value: 65: spec.workers in body should be less than or equal to 64"
        )
    ]
    assert errors({"workers": 1, "lr": 0}) == [
        FieldError("spec.lr", "Invalid value: 0: spec.lr in body should be greater than 0")
    ]


def test_types_enum_required() -> None:
    assert errors({"workers": "2"}) == [
        FieldError(
            "spec.workers",
            'Invalid value: "string": spec.workers in body must be of type integer: "string"',
            "FieldValueTypeInvalid",
        )
    ]
    assert errors({"workers": 1, "platform": "TPU"}) == [
        FieldError(
            "spec.platform",
            'Unsupported value: "TPU": supported values: "CPU", "GPU", "Ascend"',
            "FieldValueNotSupported",
        )
    ]
    assert errors({}) == [FieldError("spec.workers", "Required value", "FieldValueRequired")]
    assert errors({"workers": 1, "env": [{"value": "x"}]}) == [
        FieldError("spec.env[0].name", "Required value", "FieldValueRequired")
    ]
    assert errors({"workers": 1, "labels": {"a": 1}}) == [
        FieldError(
            "spec.labels.a",
            'Invalid value: "integer": spec.labels.a in body must be of type string: "integer"',
            "FieldValueTypeInvalid",
        )
    ]
    assert errors({"workers": 1, "port": 1.5}) != []
    assert errors({"workers": 2.0}) == []  # an integral JSON number is an integer


def test_strings_and_arrays() -> None:
    assert errors({"workers": 1, "name": "ABC"}) == [
        FieldError("spec.name", "Invalid value: \"ABC\": spec.name in body should match '^[a-z]+$'")
    ]
    assert errors({"workers": 1, "name": "a"}) == [
        FieldError("spec.name", 'Invalid value: "a": spec.name in body should be at least 2 chars long')
    ]
    assert errors({"workers": 1, "name": "abcdef"}) == [
        FieldError("spec.name", "Too long: may not be more than 5 bytes", "FieldValueTooLong")
    ]
    assert errors({"workers": 1, "env": []}) == [
        FieldError("spec.env", "Invalid value: 0: spec.env in body should have at least 1 items")
    ]


def test_cel_rules_with_field_path_reason_and_root_metadata() -> None:
    assert errors({"workers": 1, "devices": 9}) == [
        FieldError("spec", "Forbidden: too many devices", "FieldValueForbidden")
    ]
    assert errors({"workers": 1}, name="bad") == [
        FieldError("metadata.name", 'Invalid value: "object": name must start with ok')
    ]


def test_transition_rules_run_only_on_update() -> None:
    assert errors({"workers": 1, "platform": "GPU"}) == []
    assert errors({"workers": 1, "platform": "GPU"}, old={"workers": 1, "platform": "CPU"}) == [
        FieldError("spec.platform", 'Invalid value: "object": platform is immutable')
    ]
    assert errors({"workers": 2, "platform": "CPU"}, old={"workers": 1, "platform": "CPU"}) == []


def test_a_rule_that_cannot_evaluate_is_an_error_not_a_crash() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {"type": "object", "x-kubernetes-validations": [{"rule": "self.missing > 1"}]}
        },
    }
    [error] = validate(schema, {"spec": {}})
    assert error.path == "spec" and error.message.endswith("evaluating rule: self.missing > 1")
    failed = validate(schema, {"spec": {"missing": 0}})
    assert failed == [FieldError("spec", 'Invalid value: "object": failed rule: self.missing > 1')]


def test_field_error_prints_like_the_server() -> None:
    assert str(FieldError("spec.workers", "Required value")) == "spec.workers: Required value"


def test_message_expression_builds_the_message() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "x-kubernetes-validations": [
                    {
                        "rule": "self.n < 3",
                        "message": "too big",
                        "messageExpression": "'n is ' + string(self.n)",
                    },
                    {"rule": "self.n < 2", "message": "fallback", "messageExpression": "self.missing"},
                ],
            }
        },
    }
    assert validate(schema, {"spec": {"n": 5}}) == [
        FieldError("spec", 'Invalid value: "object": n is 5'),
        FieldError("spec", 'Invalid value: "object": fallback'),
    ]


def test_unknown_fields_names_what_prune_drops() -> None:
    body = {**obj(workers=1, junk=2, env=[{"name": "A", "x": 1}], free={"any": 1}), "extra": True}
    assert unknown_fields(SCHEMA, body) == ["spec.junk", "spec.env[0].x", "extra"]
    assert unknown_fields(SCHEMA, obj(workers=1)) == []
