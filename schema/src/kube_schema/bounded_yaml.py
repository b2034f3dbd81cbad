"""Safe YAML loading that refuses hostile documents while composing, before any Python object exists.

- nesting deeper than `MAX_DEPTH` (100) objects/arrays: a kube-apiserver allows 10,000
  (apimachinery's util/json `maxDepth`), but Python's recursion limit breaks the composer, deepcopy and
  the validators between 300 and 450 levels (measured); real manifests stay under 35;
- YAML aliases expanding to more than `MAX_ALIAS_NODES` (10,000) nodes (billion laughs; go-yaml refuses
  "excessive aliasing" the same way since CVE-2019-11253), or a recursive alias.

A bound hit raises `Refused` carrying which one (`what`), the anchor and the line; `mnft render` and the
emulator's request decoder word it themselves.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

MAX_DEPTH = 100
MAX_ALIAS_NODES = 10_000

RECURSIVE_ALIAS = "recursive alias"
TOO_MANY_ALIAS_NODES = "alias nodes"
TOO_DEEP = "depth"


class Refused(yaml.YAMLError):
    """A bound was hit. `what`: RECURSIVE_ALIAS, TOO_MANY_ALIAS_NODES or TOO_DEEP; `line` (1-based) is
    known for a recursive alias and for a collection opened too deep, not for an alias expanding too deep."""

    def __init__(self, what: str, anchor: str | None = None, line: int | None = None) -> None:
        super().__init__(what if anchor is None else f"{what} *{anchor}")
        self.what = what
        self.anchor = anchor
        self.line = line


class _BoundedComposer(Composer):
    """PyYAML's composer, refusing deep nesting and alias expansion past the bounds while composing."""

    def __init__(self) -> None:
        super().__init__()
        self._depth = 0
        self._alias_nodes = 0
        self._shape: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes, height) of its subtree
        self._open: set[str] = set()  # anchors of the collections being composed

    def compose_node(self, parent: Any, index: Any) -> Any:
        events: Any = self  # the parser half of the loader
        if events.check_event(yaml.AliasEvent):
            event = events.peek_event()
            if event.anchor in self._open:
                raise Refused(RECURSIVE_ALIAS, event.anchor, event.start_mark.line + 1)
            nodes, height = self._shape.get(id(self.anchors.get(event.anchor)), (1, 0))
            self._alias_nodes += nodes
            if self._alias_nodes > MAX_ALIAS_NODES:
                raise Refused(TOO_MANY_ALIAS_NODES)
            if self._depth + height > MAX_DEPTH:
                raise Refused(TOO_DEEP)
            return super().compose_node(parent, index)
        event = events.peek_event()
        anchor = getattr(event, "anchor", None)
        collection = isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent))
        if collection:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise Refused(TOO_DEEP, line=event.start_mark.line + 1)
            if anchor:
                self._open.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            if collection:
                self._depth -= 1
                self._open.discard(anchor or "")
        self._shape[id(node)] = _measure(self._shape, node)
        return node


def _measure(shape: dict[int, tuple[int, int]], node: Any) -> tuple[int, int]:
    """(nodes, height) of a composed node; a scalar adds no level of nesting."""
    if isinstance(node, yaml.SequenceNode):
        children = [shape.get(id(child), (1, 0)) for child in node.value]
    elif isinstance(node, yaml.MappingNode):
        children = [shape.get(id(part), (1, 0)) for pair in node.value for part in pair]
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


def load_all(text: str | bytes) -> list[Any]:
    """Every document of a stream; Refused or another yaml.YAMLError when it cannot be loaded."""
    loader = BoundedLoader(text)
    try:
        documents = []
        while loader.check_data():
            documents.append(loader.get_data())
        return documents
    finally:
        loader.dispose()


def load_one(text: str | bytes) -> Any:
    """The stream's single document; Refused or another yaml.YAMLError when it cannot be loaded."""
    loader = BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
