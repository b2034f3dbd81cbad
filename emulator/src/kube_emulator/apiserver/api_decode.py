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
  a recursive alias is refused outright.
- Numbers: NaN and ±Infinity (JSON `NaN`/`Infinity`, YAML `.nan`/`.inf`, or a literal overflowing a
  float such as `1e999`) are a 400: Go's encoding/json rejects them, and a stored NaN breaks every
  later comparison and every JSON reader.
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from kube_emulator.apiserver import api_protobuf

MAX_BODY_BYTES = 3 * 1024 * 1024
MAX_DEPTH = 100
MAX_ALIAS_NODES = 10_000


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


class _BoundedComposer(Composer):
    """PyYAML's composer, refusing deep nesting and alias expansion past the bounds while composing
    (before any Python object of the expanded document exists)."""

    def __init__(self) -> None:
        super().__init__()
        self.max_depth, self.max_alias_nodes = MAX_DEPTH, MAX_ALIAS_NODES
        self._depth = 0
        self._alias_nodes = 0
        self._shape: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes, height) of its subtree
        self._open: set[str] = set()  # anchors of the collections being composed

    def compose_node(self, parent: Any, index: Any) -> Any:
        events: Any = self  # the parser half of the loader
        if events.check_event(yaml.AliasEvent):
            anchor = events.peek_event().anchor
            if anchor in self._open:
                raise DecodeError(f"recursive YAML alias *{anchor}")
            target = self.anchors.get(anchor)
            nodes, height = self._shape.get(id(target), (1, 1))
            self._alias_nodes += nodes
            if self._alias_nodes > self.max_alias_nodes:
                raise DecodeError(f"YAML aliases expand to more than {self.max_alias_nodes} nodes")
            if self._depth + height > self.max_depth:
                raise DecodeError(f"the object is nested deeper than {self.max_depth} levels")
            return super().compose_node(parent, index)
        event = events.peek_event()
        anchor = getattr(event, "anchor", None)
        collection = isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent))
        if collection:
            self._depth += 1
            if self._depth > self.max_depth:
                raise DecodeError(f"the object is nested deeper than {self.max_depth} levels")
            if anchor:
                self._open.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            if collection:
                self._depth -= 1
                self._open.discard(anchor or "")
        self._shape[id(node)] = self._measure(node)
        return node

    def _measure(self, node: Any) -> tuple[int, int]:
        if isinstance(node, yaml.SequenceNode):
            children = [self._shape.get(id(child), (1, 1)) for child in node.value]
        elif isinstance(node, yaml.MappingNode):
            children = [self._shape.get(id(part), (1, 1)) for pair in node.value for part in pair]
        else:
            return (1, 0)
        return (1 + sum(n for n, _ in children), 1 + max((h for _, h in children), default=0))


if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class BoundedLoader(_BoundedComposer, CParser, SafeConstructor, Resolver):
        """Safe loading with libyaml's scanner and parser (5x faster), composed by _BoundedComposer."""

        def __init__(self, stream: Any) -> None:
            CParser.__init__(self, stream)
            _BoundedComposer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

else:  # pragma: no cover - PyYAML built without libyaml

    class BoundedLoader(Reader, Scanner, Parser, _BoundedComposer, SafeConstructor, Resolver):  # type: ignore[no-redef]
        def __init__(self, stream: Any) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            _BoundedComposer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)


def load_yaml(raw: bytes | str) -> Any:
    """One YAML document within the bounds; DecodeError (one line) otherwise."""
    loader = BoundedLoader(raw)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as error:
        raise DecodeError(" ".join(str(error).split())) from None
    finally:
        loader.dispose()


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
