"""Bounded input to the embedded API, over real HTTPS: body size, nesting, YAML aliases, NaN/Infinity.

Every refusal is a Status body naming the bound, answered without the server walking or building the
hostile document, and nothing refused is stored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api_helpers import Http
from kube_emulator.apiserver.api_decode import MAX_BODY_BYTES

pytest_plugins = ["api_fixtures"]

BILLION_LAUGHS = """apiVersion: v1
kind: ConfigMap
metadata: {name: lol}
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
data: {lol: "1"}
"""
YAML = "application/yaml"


def configmap(name: str, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, **extra}


def nested(levels: int) -> Any:
    """`levels` objects, one inside the other."""
    deep: Any = "x"
    for _ in range(levels):
        deep = {"a": deep}
    return deep


def refused(response: Any, code: int, reason: str, words: str) -> None:
    assert response.status_code == code, response.text
    body = response.json()
    assert (body["kind"], body["code"], body["reason"]) == ("Status", code, reason)
    assert words in body["message"], body["message"]


def stored(http: Http, ns: str, name: str) -> bool:
    return bool(http.get(f"/api/v1/namespaces/{ns}/configmaps/{name}").status_code == 200)


def test_a_body_over_3_mib_is_413(http: Http, ns: str) -> None:
    big = json.dumps(configmap("big", data={"x": "y" * MAX_BODY_BYTES}))
    response = http.post(f"/api/v1/namespaces/{ns}/configmaps", big)
    refused(response, 413, "RequestEntityTooLarge", f"Request entity too large: limit is {MAX_BODY_BYTES}")
    assert not stored(http, ns, "big")
    almost = json.dumps(configmap("almost", data={"x": "y" * (MAX_BODY_BYTES - 200)}))
    assert http.post(f"/api/v1/namespaces/{ns}/configmaps", almost).status_code == 201


def test_the_billion_laughs_is_400(http: Http, ns: str) -> None:
    response = http.call("POST", f"/api/v1/namespaces/{ns}/configmaps", BILLION_LAUGHS, YAML)
    refused(response, 400, "BadRequest", "YAML aliases expand to more than 10000 nodes")
    assert not stored(http, ns, "lol")
    recursive = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: loop}\nx: &x [*x]\n"
    response = http.call("POST", f"/api/v1/namespaces/{ns}/configmaps", recursive, YAML)
    refused(response, 400, "BadRequest", "recursive YAML alias *x")
    few = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: few, labels: &l {a: b}, annotations: *l}\n"
    assert http.call("POST", f"/api/v1/namespaces/{ns}/configmaps", few, YAML).status_code == 201


def test_nesting_deeper_than_100_is_400_as_json_and_yaml(http: Http, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    deep = json.dumps(configmap("deep", extra=nested(100)))  # the ConfigMap + 100 levels
    refused(http.post(path, deep), 400, "BadRequest", "nested deeper than 100 levels")
    refused(http.call("POST", path, deep, YAML), 400, "BadRequest", "nested deeper than 100 levels")
    bomb = "[" * 1_000_000 + "]" * 1_000_000  # 2 MB: past Python's own recursion limit, not a 500
    refused(http.post(path, bomb), 400, "BadRequest", "nested deeper than 100 levels")
    # libyaml's own bound (1,000 flow levels) answers first here; either way a one-line 400.
    refused(http.call("POST", path, bomb, YAML), 400, "BadRequest", "exceeded maximum nesting depth")
    assert not stored(http, ns, "deep")
    assert http.post(path, json.dumps(configmap("deep", extra=nested(99)))).status_code == 201


@pytest.mark.parametrize(
    ("text", "content_type", "words"),
    [
        ('{"metadata": {"name": "nan"}, "data": {}, "x": NaN}', "application/json", "NaN is not a valid"),
        ('{"metadata": {"name": "nan"}, "x": -Infinity}', "application/json", "-Infinity is not a valid"),
        ('{"metadata": {"name": "nan"}, "x": 1e999}', "application/json", "1e999 is out of range"),
        ("metadata: {name: nan}\nx: .nan\n", YAML, "nan is not a valid JSON number"),
        ("metadata: {name: nan}\nx: -.inf\n", YAML, "-inf is not a valid JSON number"),
    ],
)
def test_nan_and_infinity_are_400_like_go(
    http: Http, ns: str, text: str, content_type: str, words: str
) -> None:
    response = http.call("POST", f"/api/v1/namespaces/{ns}/configmaps", text, content_type)
    refused(response, 400, "BadRequest", words)
    assert not stored(http, ns, "nan")


def test_nan_in_a_patch_is_400_and_the_object_unchanged(http: Http, ns: str) -> None:
    assert (
        http.post(f"/api/v1/namespaces/{ns}/configmaps", configmap("c", data={"a": "1"})).status_code == 201
    )
    path = f"/api/v1/namespaces/{ns}/configmaps/c"
    response = http.patch(path, '{"metadata": {"annotations": {"x": "y"}}, "data": {"a": NaN}}')
    refused(response, 400, "BadRequest", "NaN is not a valid")
    assert http.get(path).json()["data"] == {"a": "1"}


def test_a_patch_cannot_deepen_an_object_past_the_bound(http: Http, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps/grow"
    assert (
        http.post(f"/api/v1/namespaces/{ns}/configmaps", configmap("grow", extra=nested(60))).status_code
        == 201
    )
    inner = "/extra" + "/a" * 59
    patch = [{"op": "add", "path": inner + "/b", "value": nested(60)}]
    response = http.patch(path, patch, content_type="application/json-patch+json")
    refused(response, 400, "BadRequest", "the patched object cannot be stored: the object is nested deeper")
    assert http.get(path).json()["extra"] == nested(60)  # unchanged
