"""Field ownership for server-side apply (pure functions over JSON objects): managedFields.

A field set is a set of paths; a path is a tuple of FieldsV1 elements: `f:<field>` for a map key,
`k:<json of the key fields>` for an item of a keyed list (containers by name, ports by containerPort,
a CRD's `x-kubernetes-list-type: map`), `v:<json>` for an item of a set (finalizers, `list-type: set`).
Members are the leaves (scalars, atomic lists, empty objects) and the keyed or set items themselves,
as in Kubernetes' structured-merge-diff; FieldsV1 writes an item that also has members below it
with a `.` entry.

- `field_set(obj, schema)`: the members an object (an applied configuration) sets.
- `to_fields_v1` / `from_fields_v1`: that set as managedFields' `fieldsV1` JSON and back.
- `apply(live, applied, manager, entries, schema, force)`: the apply of `applied` by `manager`:
  conflicts with fields other managers own and `applied` changes (`Conflicts`, unless `force`), the
  live object with the fields this manager applied before and no longer applies (and nobody else
  owns) removed, and the new managedFields entries. The caller merges `applied` into that object.
- `record_update(old, new, manager, entries, schema)`: a non-apply write (create, update, patch):
  the fields it changed move to `manager`'s Update entry.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kube_emulator.apiserver.api_patch import MERGE_SETS, merge_key

Path = tuple[str, ...]
# Server-owned or identifying fields nobody manages (structured-merge-diff strips them too).
_IGNORED_META = {
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
}


@dataclass(frozen=True)
class Conflict:
    manager: str
    api_version: str
    path: Path

    @property
    def field(self) -> str:
        """`.data.key`, `.spec.containers[name="web"].image`, as kube-apiserver prints a path."""
        out = ""
        for element in self.path:
            kind, _, rest = element.partition(":")
            if kind == "f":
                out += f".{rest}"
            elif kind == "k":
                keys = json.loads(rest)
                out += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in keys.items()) + "]"
            else:
                out += f"[={rest}]"
        return out


class Conflicts(Exception):
    def __init__(self, conflicts: list[Conflict]) -> None:
        super().__init__(f"{len(conflicts)} conflicts")
        self.conflicts = conflicts


# ---- field sets -----------------------------------------------------------------------------------------
def field_set(obj: Mapping[str, Any], schema: Mapping[str, Any] | None = None) -> set[Path]:
    return set(flatten(obj, schema))


_ITEM = object()  # the value of a keyed or set item's own path: its presence is what is owned


def flatten(obj: Mapping[str, Any], schema: Mapping[str, Any] | None = None) -> dict[Path, Any]:
    """Every member of `obj` with its value (`_ITEM` for list items), in one walk."""
    members: dict[Path, Any] = {}
    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            continue
        if key == "metadata" and isinstance(value, Mapping):
            meta = {k: v for k, v in value.items() if k not in _IGNORED_META}
            if meta:
                _walk(meta, ("f:metadata",), "metadata", "", None, members)
            continue
        _walk(value, (f"f:{key}",), key, "", _sub(schema, key), members)
    return members


def _sub(schema: Mapping[str, Any] | None, key: str) -> Mapping[str, Any] | None:
    if schema is None:
        return None
    props = schema.get("properties") or {}
    if key in props:
        return props[key]
    additional = schema.get("additionalProperties")
    return additional if isinstance(additional, Mapping) else {}


def _list_keys(field: str, parent: str, items: list[Any], schema: Mapping[str, Any] | None) -> Any:
    """The key fields of a keyed list, "set" for a set, None for an atomic list."""
    if schema is not None:
        kind = schema.get("x-kubernetes-list-type")
        if kind == "map":
            return list(schema.get("x-kubernetes-list-map-keys") or [])
        return "set" if kind == "set" else None
    if field in MERGE_SETS:
        return "set"
    key = merge_key(parent, field, items)
    if key is None or not all(isinstance(i, Mapping) for i in items):
        return None
    return [key]


def _item_element(item: Any, keys: Any) -> str:
    if keys == "set":
        return "v:" + json.dumps(item, separators=(",", ":"))
    return "k:" + json.dumps({k: item.get(k) for k in keys}, separators=(",", ":"))


def _walk(
    value: Any,
    path: Path,
    field: str,
    parent: str,
    schema: Mapping[str, Any] | None,
    members: dict[Path, Any],
) -> None:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            _walk(item, (*path, f"f:{key}"), key, field, _sub(schema, key), members)
    elif isinstance(value, list) and value:
        keys = _list_keys(field, parent, value, schema)
        if keys is None:
            members[path] = value
            return
        items_schema = (schema or {}).get("items") if schema is not None else None
        for item in value:
            item_path = (*path, _item_element(item, keys))
            members[item_path] = _ITEM
            if keys != "set" and isinstance(item, Mapping):
                for key, sub in item.items():
                    _walk(sub, (*item_path, f"f:{key}"), key, field, _sub(items_schema, key), members)
    else:
        members[path] = value


def to_fields_v1(members: Iterable[Path]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    paths = set(members)
    for path in sorted(paths):
        node = tree
        for element in path:
            node = node.setdefault(element, {})
    for path in paths:  # a member with members below it is marked "."
        node = tree
        for element in path:
            node = node[element]
        if node and "." not in node:
            node["."] = {}
    return tree


def from_fields_v1(tree: Mapping[str, Any], prefix: Path = ()) -> set[Path]:
    members: set[Path] = set()
    for element, sub in tree.items():
        if element == ".":
            members.add(prefix)
        elif isinstance(sub, Mapping) and sub:
            members |= from_fields_v1(sub, (*prefix, element))
        else:
            members.add((*prefix, element))
    return members


# ---- reading and removing by path -------------------------------------------------------------------
_MISSING = object()


def _step(node: Any, element: str) -> Any:
    kind, _, rest = element.partition(":")
    if kind == "f":
        return node.get(rest, _MISSING) if isinstance(node, Mapping) else _MISSING
    if not isinstance(node, list):
        return _MISSING
    wanted = _key_of(rest)
    for item in node:
        if kind == "v" and item == wanted:
            return item
        if kind == "k" and isinstance(item, Mapping) and all(item.get(k) == v for k, v in wanted.items()):
            return item
    return _MISSING


@lru_cache(maxsize=4096)
def _key_of(text: str) -> Any:
    return json.loads(text)


def value_at(obj: Any, path: Path) -> Any:
    node = obj
    for element in path:
        node = _step(node, element)
        if node is _MISSING:
            return _MISSING
    return node


def remove(obj: dict[str, Any], paths: Iterable[Path]) -> dict[str, Any]:
    """A copy of `obj` without the members at `paths` (missing ones are skipped); a map or list this
    empties goes too. Shorter paths first: an item goes before its key fields are looked at."""
    result = copy.deepcopy(obj)
    for path in sorted(paths, key=len):
        for depth in range(len(path), 0, -1):
            parent = value_at(result, path[: depth - 1])
            if parent is _MISSING or not _remove_one(parent, path[depth - 1]):
                break
            if parent or depth == 1:
                break
    return result


def _remove_one(parent: Any, element: str) -> bool:
    kind, _, rest = element.partition(":")
    if kind == "f" and isinstance(parent, dict) and rest in parent:
        del parent[rest]
        return True
    if kind != "f" and isinstance(parent, list):
        target = _step(parent, element)
        if target is not _MISSING:
            parent.remove(target)
            return True
    return False


# ---- managedFields entries --------------------------------------------------------------------------
def entry_sets(entries: Iterable[Mapping[str, Any]]) -> list[tuple[dict[str, Any], set[Path]]]:
    """Each managedFields entry (without fieldsV1) with its set; entries for subresources are kept apart."""
    out = []
    for entry in entries or ():
        if not isinstance(entry, Mapping):
            continue
        head = {k: v for k, v in entry.items() if k != "fieldsV1"}
        out.append((head, from_fields_v1(entry.get("fieldsV1") or {})))
    return out


def _entries(pairs: list[tuple[dict[str, Any], set[Path]]]) -> list[dict[str, Any]]:
    return [
        {**head, "fieldsType": "FieldsV1", "fieldsV1": to_fields_v1(members)}
        for head, members in pairs
        if members
    ]


def _owned_below(members: set[Path], path: Path) -> bool:
    return any(m[: len(path)] == path or path[: len(m)] == m for m in members)


def apply(
    live: dict[str, Any],
    applied: Mapping[str, Any],
    manager: str,
    entries: Sequence[Mapping[str, Any]],
    api_version: str,
    now: str,
    schema: Mapping[str, Any] | None = None,
    force: bool = False,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(live without the fields `manager` gave up, the managedFields after this apply); raises Conflicts."""
    given = flatten(applied, schema)
    applying = set(given)
    live_values = flatten(live, schema)
    every = entry_sets(entries)
    pairs = [(h, m) for h, m in every if not h.get("subresource")]
    kept = [(h, m) for h, m in every if h.get("subresource")]
    mine = next((m for h, m in pairs if _is(h, manager, "Apply")), set())
    others = [(h, m) for h, m in pairs if not _is(h, manager, "Apply")]
    conflicts = []
    for head, members in others:
        for path in sorted(applying & members):
            if live_values.get(path, _MISSING) != given[path]:
                conflicts.append(
                    Conflict(str(head.get("manager", "")), str(head.get("apiVersion", "")), path)
                )
    if conflicts and not force:
        raise Conflicts(conflicts)
    stolen = {c.path for c in conflicts}
    others = [(h, m - stolen) for h, m in others]
    owned_by_others: set[Path] = set().union(*(m for _, m in others)) if others else set()
    given_up = {p for p in mine - applying if not _owned_below(owned_by_others, p)}
    pruned = remove(live, given_up)
    head = {"manager": manager, "operation": "Apply", "apiVersion": api_version, "time": now}
    previous = next((h for h, _ in pairs if _is(h, manager, "Apply")), None)
    if previous is not None and mine == applying and previous.get("apiVersion") == api_version:
        head = {k: v for k, v in previous.items() if k not in ("fieldsType",)}
    new_pairs: list[tuple[dict[str, Any], set[Path]]] = []
    placed = False
    for h, m in pairs:
        if _is(h, manager, "Apply"):
            new_pairs.append((head, applying))
            placed = True
        else:
            new_pairs.append((h, m - stolen))
    if not placed:
        new_pairs.append((head, applying))
    return pruned, _entries(new_pairs + kept)


def record_update(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    manager: str,
    entries: Sequence[Mapping[str, Any]],
    api_version: str,
    now: str,
    schema: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """managedFields after a create / update / patch by `manager`: it owns what it changed."""
    after = flatten(new, schema)
    before = flatten(old, schema) if old is not None else {}
    present = set(after)
    changed = {p for p, v in after.items() if p not in before or before[p] != v}
    every = entry_sets(entries)
    pairs = [(h, m) for h, m in every if not h.get("subresource")]
    kept = [(h, m) for h, m in every if h.get("subresource")]
    result: list[tuple[dict[str, Any], set[Path]]] = []
    placed = False
    for head, members in pairs:
        if _is(head, manager, "Update"):
            merged = (members & present) | changed
            if merged != members or head.get("apiVersion") != api_version:
                head = {**head, "apiVersion": api_version, "time": now}
            result.append((head, merged))
            placed = True
        else:
            result.append((head, (members & present) - changed))
    if not placed and changed:
        head = {"manager": manager, "operation": "Update", "apiVersion": api_version, "time": now}
        result.append((head, changed))
    return _entries(result + kept)


def _is(head: Mapping[str, Any], manager: str, operation: str) -> bool:
    return head.get("manager") == manager and head.get("operation") == operation


def conflict_message(conflicts: list[Conflict]) -> str:
    """kube-apiserver's words: `Apply failed with 1 conflict: conflict with "m" using v1: .data.key`."""
    noun = "conflict" if len(conflicts) == 1 else "conflicts"
    if len(conflicts) == 1:
        c = conflicts[0]
        return f'Apply failed with 1 conflict: conflict with "{c.manager}" using {c.api_version}: {c.field}'
    lines = [f'- conflict with "{c.manager}" using {c.api_version}: {c.field}' for c in conflicts]
    return f"Apply failed with {len(conflicts)} {noun}:\n" + "\n".join(lines)
