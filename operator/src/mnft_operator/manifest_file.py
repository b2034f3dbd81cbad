"""Reading MobileNetFineTune resources from a YAML file, for `mnft render` and `mnft local`.

Hostile files are refused in one line, in bounded time and memory, before any document is built:
- larger than `MAX_FILE_BYTES` (3 MiB: what a kube-apiserver accepts in one request,
  `MaxRequestBodyBytes`, so nothing bigger could be applied anyway);
- nested deeper than `MAX_DEPTH` (100) objects/arrays: the kube-apiserver bound is 10,000
  (apimachinery's util/json `maxDepth`), but Python's recursion limit breaks the YAML composer and
  the validators between 300 and 450 levels; real manifests stay under 35;
- YAML aliases expanding to more than `MAX_ALIAS_NODES` (10,000) nodes (billion laughs; go-yaml
  refuses "excessive aliasing" the same way since CVE-2019-11253), or a recursive alias.
The emulator's API decodes request bodies with the same bounds (kube_emulator.apiserver.api_decode);
the two packages share no code, since neither image carries the other.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from mnft_operator import crd

MAX_FILE_BYTES = 3 * 1024 * 1024
MAX_DEPTH = 100
MAX_ALIAS_NODES = 10_000


class ManifestError(Exception):
    """One line for the user: what is wrong and where."""


class _Refused(yaml.YAMLError):
    """A bound of BoundedLoader was hit; the message says which."""


class _BoundedComposer(Composer):
    """PyYAML's composer, refusing nesting and alias expansion past the bounds while composing."""

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
                raise _Refused(f"a recursive alias *{event.anchor} at line {event.start_mark.line + 1}")
            nodes, height = self._shape.get(id(self.anchors.get(event.anchor)), (1, 1))
            self._alias_nodes += nodes
            if self._alias_nodes > MAX_ALIAS_NODES:
                raise _Refused(f"aliases expanding to more than {MAX_ALIAS_NODES} nodes")
            if self._depth + height > MAX_DEPTH:
                raise _Refused(f"nesting deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        event = events.peek_event()
        anchor = getattr(event, "anchor", None)
        collection = isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent))
        if collection:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nesting deeper than {MAX_DEPTH} levels at line {event.start_mark.line + 1}")
            if anchor:
                self._open.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            if collection:
                self._depth -= 1
                self._open.discard(anchor or "")
        if isinstance(node, yaml.SequenceNode):
            children = [self._shape.get(id(child), (1, 1)) for child in node.value]
        elif isinstance(node, yaml.MappingNode):
            children = [self._shape.get(id(part), (1, 1)) for pair in node.value for part in pair]
        else:
            return node
        height = 1 + max((h for _, h in children), default=0)
        self._shape[id(node)] = (1 + sum(n for n, _ in children), height)
        return node


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


def _load_all(text: str) -> list[Any]:
    loader = BoundedLoader(text)
    try:
        documents = []
        while loader.check_data():
            documents.append(loader.get_data())
        return documents
    finally:
        loader.dispose()


def _read(path: Path) -> str:
    """The file's text, refusing it unread past MAX_FILE_BYTES."""
    too_big = f"{path}: larger than {MAX_FILE_BYTES} bytes (3 MiB, the Kubernetes API's request limit)"
    try:
        if str(path) == "-":
            text = sys.stdin.read(MAX_FILE_BYTES + 1)
        else:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ManifestError(too_big)
            with path.open() as file:
                text = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if len(text.encode()) > MAX_FILE_BYTES:
        raise ManifestError(too_big)
    return text


def load_jobs(path: Path) -> list[dict[str, Any]]:
    """The MobileNetFineTune documents of a YAML file ('-': stdin); other kinds are skipped."""
    text = _read(path)
    try:
        documents = [doc for doc in _load_all(text) if doc is not None]
    except _Refused as exc:
        raise ManifestError(f"{path}: refused: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None)
        detail = f" ({problem})" if problem else ""
        raise ManifestError(f"{path}: not valid YAML{where}{detail}; fix the syntax") from None
    jobs = [doc for doc in documents if isinstance(doc, dict) and doc.get("kind") == crd.KIND]
    if not jobs:
        raise ManifestError(f"{path}: no document with kind: {crd.KIND}")
    for job in jobs:
        api_version = job.get("apiVersion")
        if api_version != crd.API_VERSION:
            raise ManifestError(f"{path}: apiVersion must be {crd.API_VERSION}, not {api_version!r}")
    return jobs
