"""The patch formats the API server accepts, as pure functions over JSON values.

- `merge_patch` (RFC 7386, `application/merge-patch+json`)
- `json_patch` (RFC 6902, `application/json-patch+json`); raises `JsonPatchError` (a failed `test` too)
- `strategic_merge_patch` (`application/strategic-merge-patch+json`, what kubectl sends for built-in
  kinds): a merge patch where the well-known keyed lists merge item by item, with the `$patch`,
  `$deleteFromPrimitiveList/...`, `$setElementOrder/...` and `$retainKeys` directives.
- `apply_patch` (server-side apply, `application/apply-patch+yaml`): the given fields merged into the
  live object with the strategic list keys, no deletions.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


class JsonPatchError(Exception):
    pass


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _split_pointer(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise JsonPatchError(f"invalid JSON pointer {pointer!r}")
    return [_unescape(t) for t in pointer[1:].split("/")]


def _parent(doc: Any, tokens: list[str], pointer: str) -> Any:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise JsonPatchError(f"doc is missing path: {pointer!r}")
    return node


def _get(doc: Any, pointer: str) -> Any:
    tokens = _split_pointer(pointer)
    if not tokens:
        return doc
    parent = _parent(doc, tokens, pointer)
    last = tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise JsonPatchError(f"doc is missing path: {pointer!r}")


def _remove(doc: Any, pointer: str) -> Any:
    tokens = _split_pointer(pointer)
    parent = _parent(doc, tokens, pointer)
    last = tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise JsonPatchError(f"unable to remove nonexistent key: {last}: missing value")


def _add(doc: Any, pointer: str, value: Any, replace: bool = False) -> Any:
    tokens = _split_pointer(pointer)
    if not tokens:
        return value
    parent = _parent(doc, tokens, pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise JsonPatchError(
                f"replace operation does not apply: doc is missing key: {pointer}: missing value"
            )
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent) - (1 if replace else 0):
            if replace:
                parent[int(last)] = value
            else:
                parent.insert(int(last), value)
        else:
            raise JsonPatchError(f"unable to access invalid index: {last}: invalid index referenced")
    else:
        raise JsonPatchError(f"doc is missing path: {pointer!r}")
    return doc


def json_patch(doc: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise JsonPatchError("a JSON patch must be a list of operations")
    doc = copy.deepcopy(doc)
    for operation in operations:
        if not isinstance(operation, Mapping) or "op" not in operation or "path" not in operation:
            raise JsonPatchError(f"invalid operation {operation!r}")
        op, path = operation["op"], operation["path"]
        if op == "add":
            doc = _add(doc, path, copy.deepcopy(operation.get("value")))
        elif op == "remove":
            _remove(doc, path)
        elif op == "replace":
            doc = _add(doc, path, copy.deepcopy(operation.get("value")), replace=True)
        elif op == "move":
            value = _remove(doc, operation["from"])
            doc = _add(doc, path, value)
        elif op == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, operation["from"])))
        elif op == "test":
            try:
                actual = _get(doc, path)
            except JsonPatchError as error:
                raise JsonPatchError(f"testing value {path} failed: {error}") from None
            if actual != operation.get("value"):
                raise JsonPatchError(f"testing value {path} failed: test failed")
        else:
            raise JsonPatchError(f"Unexpected kind: {op}")
    return doc


# Lists that merge item by item, keyed by the named field, wherever they appear (by field name).
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "ports": "containerPort",
    "conditions": "type",
    "imagePullSecrets": "name",
    "ownerReferences": "uid",
    "tolerations": "key",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "containerStatuses": "name",
    "initContainerStatuses": "name",
}
# Lists of scalars that merge as sets.
MERGE_SETS = {"finalizers"}


def merge_key(parent_key: str, field: str, items: list[Any]) -> str | None:
    if field == "ports":
        if parent_key == "spec" and any(isinstance(i, Mapping) and "port" in i for i in items):
            return "port"  # Service ports
        return "containerPort"
    return MERGE_KEYS.get(field)


def strategic_merge_patch(target: Any, patch: Any, _field: str = "", _parent: str = "") -> Any:
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = dict(target) if isinstance(target, Mapping) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$retainKeys", "$patch"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            result[name] = [v for v in result.get(name) or [] if v not in value]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_list(result[key], value, key, _field)
        else:
            result[key] = strategic_merge_patch(result.get(key), value, key, _field)
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain or k in patch}
    return result


def _merge_list(live: list[Any], patch: list[Any], field: str, parent: str) -> list[Any]:
    if field in MERGE_SETS:
        merged = list(live)
        merged += [v for v in patch if v not in merged]
        return merged
    key = merge_key(parent, field, live + patch)
    if key is None or not all(isinstance(i, Mapping) for i in live + patch):
        return copy.deepcopy(patch)
    merged = [copy.deepcopy(i) for i in live]
    for item in patch:
        index = next((n for n, m in enumerate(merged) if m.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if index is not None:
                merged.pop(index)
        elif index is None:
            merged.append({k: v for k, v in copy.deepcopy(item).items() if k != "$patch"})
        else:
            merged[index] = strategic_merge_patch(merged[index], item, field, parent)
    return merged


def apply_patch(target: Any, applied: Any, schema: Mapping[str, Any] | None = None) -> Any:
    """Server-side apply (without field ownership): the applied fields win, everything else is kept.

    Built-in kinds merge lists by their strategic keys; a custom resource (pass its structural schema)
    merges lists by `x-kubernetes-list-type` (`map` by `x-kubernetes-list-map-keys`, `set` as a set) and
    replaces atomic lists, as the real server does.
    """
    if schema is None:
        return strategic_merge_patch(target, applied)
    return _apply_schema(target, applied, schema)


def _apply_schema(live: Any, applied: Any, schema: Mapping[str, Any]) -> Any:
    if isinstance(applied, Mapping) and isinstance(live, Mapping):
        props = schema.get("properties") or {}
        additional = schema.get("additionalProperties")
        result = dict(live)
        for key, value in applied.items():
            sub = props.get(key, additional if isinstance(additional, Mapping) else {})
            result[key] = _apply_schema(live.get(key), value, sub) if value is not None else None
            if value is None:
                del result[key]
        return result
    if isinstance(applied, list) and isinstance(live, list):
        kind = schema.get("x-kubernetes-list-type")
        items = schema.get("items") if isinstance(schema.get("items"), Mapping) else {}
        if kind == "set":
            return list(live) + [v for v in applied if v not in live]
        if kind == "map":
            keys = schema.get("x-kubernetes-list-map-keys") or []
            merged = [copy.deepcopy(i) for i in live]
            for item in applied:
                index = next(
                    (n for n, m in enumerate(merged) if all(m.get(k) == item.get(k) for k in keys)), None
                )
                if index is None:
                    merged.append(copy.deepcopy(item))
                else:
                    merged[index] = _apply_schema(merged[index], item, items or {})
            return merged
    return copy.deepcopy(applied)
