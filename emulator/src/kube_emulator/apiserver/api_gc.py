"""Garbage collection and namespace deletion of the embedded API, as the kube-controller-manager does them.

Owners are tracked by uid (`Store.dependents`); when an owner goes, its dependents are deleted in the
background (cascading), unless another owner of theirs is still alive (then only the reference is
dropped). Foreground deletion holds the owner with the `foregroundDeletion` finalizer until its
dependents are gone; Orphan strips the references. Dependents created for an owner uid that does not
exist are collected. Deleting a namespace deletes everything in it, then the namespace.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from kube_emulator.apiserver.api_events import ObjKey, StoreKey, now_rfc3339
from kube_emulator.apiserver.api_resources import Registry, ResourceDef

Located = tuple[StoreKey, ObjKey]


class CollectedStore(Protocol):
    """What the collector needs of the store (`api_store.Store` provides it); read-only views but for the
    writes below."""

    @property
    def registry(self) -> Registry: ...

    @property
    def objects(self) -> Mapping[StoreKey, Mapping[ObjKey, dict[str, Any]]]: ...

    @property
    def uids(self) -> Mapping[str, Located]: ...  # uid -> where the object is

    @property
    def dependents(self) -> Mapping[str, set[Located]]: ...  # owner uid -> objects naming it as owner

    @property
    def schedule(self) -> Callable[[Callable[[], None]], None]: ...  # run later on the server's loop

    def update(
        self, res: ResourceDef, ns: str | None, name: str, body: Mapping[str, Any]
    ) -> tuple[dict[str, Any], bool]: ...

    def delete(
        self, res: ResourceDef, ns: str | None, name: str, options: Mapping[str, Any] | None = None
    ) -> dict[str, Any]: ...

    def put(
        self, store_key: StoreKey, key: ObjKey, new: dict[str, Any], old: dict[str, Any]
    ) -> dict[str, Any]:
        """Store a change the server makes itself, with the next resourceVersion; watchers see MODIFIED."""
        ...

    def remove(self, store_key: StoreKey, key: ObjKey) -> dict[str, Any]:
        """Drop the object now; watchers see DELETED; what it owned is collected."""
        ...


class Collector:
    def __init__(self, store: CollectedStore) -> None:
        self.store = store

    def check_orphaned(self, store_key: StoreKey, key: ObjKey, obj: Mapping[str, Any]) -> None:
        refs = obj["metadata"].get("ownerReferences") or ()
        if refs and not any(ref.get("uid") in self.store.uids for ref in refs):
            self.store.schedule(lambda: self.collect_one(store_key, key, None))

    def collect(self, owner_uid: str, foreground: bool = False) -> None:
        for store_key, key in list(self.store.dependents.get(owner_uid, ())):
            self.collect_one(store_key, key, owner_uid, "Foreground" if foreground else "Background")
        if foreground:
            self.finish_foreground(owner_uid)

    def collect_one(
        self, store_key: StoreKey, key: ObjKey, owner_uid: str | None, policy: str = "Background"
    ) -> None:
        obj = self.store.objects[store_key].get(key)
        if obj is None:
            return
        refs = obj["metadata"].get("ownerReferences") or []
        live = [r for r in refs if r.get("uid") in self.store.uids and r.get("uid") != owner_uid]
        owner_deleting = owner_uid is not None and owner_uid in self.store.uids
        if live and not owner_deleting:
            versions = self.store.registry.versions_of(*store_key)
            new = {**obj, "metadata": {**obj["metadata"], "ownerReferences": live}}
            self.store.update(versions[0], key[0] or None, key[1], new)
        elif not obj["metadata"].get("deletionTimestamp"):
            self.delete_by_key(store_key, key, policy)

    def finish_foreground(self, owner_uid: str | None) -> None:
        where = self.store.uids.get(owner_uid or "")
        if where is None or self.store.dependents.get(owner_uid or ""):
            return
        store_key, key = where
        obj = self.store.objects[store_key][key]
        finalizers = obj["metadata"].get("finalizers") or []
        if "foregroundDeletion" in finalizers:
            new = {
                **obj,
                "metadata": {
                    **obj["metadata"],
                    "finalizers": [f for f in finalizers if f != "foregroundDeletion"],
                },
            }
            versions = self.store.registry.versions_of(*store_key)
            self.store.update(versions[0], key[0] or None, key[1], new)

    def orphan(self, owner_uid: str) -> None:
        for store_key, key in list(self.store.dependents.get(owner_uid, ())):
            obj = self.store.objects[store_key][key]
            refs = [r for r in obj["metadata"].get("ownerReferences") or [] if r.get("uid") != owner_uid]
            new = {**obj, "metadata": {**obj["metadata"], "ownerReferences": refs}}
            if not refs:
                del new["metadata"]["ownerReferences"]
            self.store.update(self.store.registry.versions_of(*store_key)[0], key[0] or None, key[1], new)

    def delete_namespace(self, res: ResourceDef, obj: dict[str, Any]) -> dict[str, Any]:
        ns = obj["metadata"]["name"]
        new_meta = {**obj["metadata"], "deletionTimestamp": now_rfc3339(), "deletionGracePeriodSeconds": 0}
        new = self.store.put(
            res.store_key, ("", ns), {**obj, "metadata": new_meta, "status": {"phase": "Terminating"}}, obj
        )

        def purge() -> None:
            for store_key, items in list(self.store.objects.items()):
                for key in [k for k in items if k[0] == ns]:
                    self.delete_by_key(store_key, key, "Background")
            self.maybe_finish_namespace(ns)

        self.store.schedule(purge)
        return new

    def maybe_finish_namespace(self, ns: str) -> None:
        namespace = self.store.objects[("", "namespaces")].get(("", ns))
        if namespace is None or not namespace["metadata"].get("deletionTimestamp"):
            return
        if any(k[0] == ns for items in self.store.objects.values() for k in items):
            return
        self.store.remove(("", "namespaces"), ("", ns))

    def delete_by_key(self, store_key: StoreKey, key: ObjKey, policy: str) -> None:
        obj = self.store.objects[store_key].get(key)
        if obj is None:
            return
        versions = self.store.registry.versions_of(*store_key)
        if not versions:
            self.store.remove(store_key, key)
            return
        self.store.delete(versions[0], key[0] or None, key[1], {"propagationPolicy": policy})
