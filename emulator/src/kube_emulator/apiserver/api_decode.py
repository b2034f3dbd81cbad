"""Decoding request bodies (JSON or YAML) within the bounds a kube-apiserver keeps, so no body can take
the server's memory, time or stack, and nothing JSON cannot carry is ever stored.

- Size: at most 3 MiB (`MAX_BODY_BYTES`), the kube-apiserver's `MaxRequestBodyBytes` default
  (`3 * 1024 * 1024`, k8s.io/apiserver/pkg/server/config.go: twice etcd's 1.5 MB request limit); a
  bigger body is a 413 RequestEntityTooLarge, read no further (aiohttp's `client_max_size`).
- Nesting: at most `MAX_DEPTH` (100) levels of objects/arrays. kube-apiserver allows 10,000
  (k8s.io/apimachinery/pkg/util/json `maxDepth`, like Go's encoding/json); here Python's recursion
  limit is the bound: the decoders, deepcopy and the validators fail between 300 and 450 levels
  (measured), while real objects stay far below 100 (the MobileNetFineTune CRD with embedded core/v1
  schemas: 28; a CRD embedding a whole PodTemplateSpec: about 32).
- YAML aliases: their expansion counts against `MAX_ALIAS_NODES` (10,000 nodes), the way go-yaml
  refuses "excessive aliasing" since CVE-2019-11253 (the billion-laughs bomb against kube-apiserver);
  a recursive alias is refused outright (`kube_schema.bounded_yaml`, shared with `mnft render`).
- Numbers: NaN and ±Infinity (JSON `NaN`/`Infinity`, YAML `.nan`/`.inf`, or a literal overflowing a
  float such as `1e999`) are a 400: Go's encoding/json rejects them, and a stored NaN breaks every
  later comparison and every JSON reader.
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml

from kube_emulator.apiserver import api_protobuf
from kube_schema import bounded_yaml
from kube_schema.bounded_yaml import MAX_ALIAS_NODES, MAX_DEPTH

MAX_BODY_BYTES = 3 * 1024 * 1024


class DecodeError(ValueError):
    """The body cannot be accepted; the message says why (one line)."""


def _reject_constant(name: str) -> Any:
    raise DecodeError(f"{name} is not a valid JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise DecodeError(f"{text} is out of range for a float64")
    return value


def check_tree(value: Any, max_depth: int | None = None) -> None:
    """Iteratively (no recursion): nesting at most `max_depth` (MAX_DEPTH), every float finite."""
    max_depth = MAX_DEPTH if max_depth is None else max_depth
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            if isinstance(item, float) and not math.isfinite(item):
                raise DecodeError(f"{item} is not a valid JSON number")
            continue
        if depth > max_depth:
            raise DecodeError(f"the object is nested deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children)


def _refusal(refused: bounded_yaml.Refused) -> str:
    if refused.what == bounded_yaml.RECURSIVE_ALIAS:
        return f"recursive YAML alias *{refused.anchor}"
    if refused.what == bounded_yaml.TOO_MANY_ALIAS_NODES:
        return f"YAML aliases expand to more than {MAX_ALIAS_NODES} nodes"
    return f"the object is nested deeper than {MAX_DEPTH} levels"


def load_yaml(raw: bytes | str) -> Any:
    """One YAML document within the bounds; DecodeError (one line) otherwise."""
    try:
        return bounded_yaml.load_one(raw)
    except bounded_yaml.Refused as refused:
        raise DecodeError(_refusal(refused)) from None
    except yaml.YAMLError as error:
        raise DecodeError(" ".join(str(error).split())) from None


def decode(raw: bytes, content_type: str) -> Any:
    """A request body as JSON (or YAML or protobuf when the media type says so), within every bound above."""
    if len(raw) > MAX_BODY_BYTES:
        raise DecodeError(f"the request body is larger than {MAX_BODY_BYTES} bytes")
    if content_type == api_protobuf.MEDIA_TYPE:
        try:
            value = api_protobuf.decode(raw)
        except (api_protobuf.DecodeError, ValueError, RecursionError) as error:
            raise DecodeError(str(error)) from None
    elif "yaml" in content_type:
        value = load_yaml(raw)
    else:
        try:
            value = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
        except RecursionError:
            raise DecodeError(f"the object is nested deeper than {MAX_DEPTH} levels") from None
        except DecodeError:
            raise
        except ValueError as error:
            raise DecodeError(str(error)) from None
    check_tree(value)
    return value
