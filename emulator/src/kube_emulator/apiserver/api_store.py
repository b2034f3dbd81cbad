"""The object store behind the embedded API: server-side metadata, writes, deletion, watch history.

Everything here runs on the server's event loop thread, one request at a time between awaits, so no
locks are needed. Stored objects are never mutated in place (every write stores a fresh dict), so
watch events and list results can share them safely. Garbage collection lives in `api_gc`, which reaches
the store only through its public interface (`api_gc.CollectedStore`: the indexes, `update`, `delete`,
`put`, `remove`, `schedule`); the collector does not import this module.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import random
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from kube_emulator.apiserver import api_errors as errors
from kube_emulator.apiserver.api_events import ObjKey, StoreKey, WatchEvent, now_rfc3339
from kube_emulator.apiserver.api_faults import FaultInjector
from kube_emulator.apiserver.api_gc import Collector
from kube_emulator.apiserver.api_resources import (
    CREATE_ON_UPDATE,
    STATUS_RESET_ON_CREATE,
    Registry,
    ResourceDef,
)
from kube_emulator.apiserver.api_validation import check_name, check_pod_update
from kube_emulator.pod_qos import qos_class

Admit = Callable[[ResourceDef, dict[str, Any], "dict[str, Any] | None"], dict[str, Any]]

_GENERATE_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_SERVER_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation")


class Store:
    def __init__(self, registry: Registry, history_size: int = 20000) -> None:
        self.registry = registry
        self.rv = 0
        self.objects: dict[StoreKey, dict[ObjKey, dict[str, Any]]] = collections.defaultdict(dict)
        self.history: collections.deque[WatchEvent] = collections.deque()
        self.history_size = history_size
        self.compacted_rv = 0  # events at or below this RV are no longer in history
        self.watchers: dict[StoreKey, set[asyncio.Queue[WatchEvent | None]]] = collections.defaultdict(set)
        self.uids: dict[str, tuple[StoreKey, ObjKey]] = {}
        self.dependents: dict[str, set[tuple[StoreKey, ObjKey]]] = collections.defaultdict(set)
        self.admit: Admit | None = None  # schema validation/defaulting of custom resources
        self.after_write: list[
            Callable[[ResourceDef, dict[str, Any] | None, dict[str, Any] | None], None]
        ] = []
        self.schedule: Callable[[Callable[[], None]], None] = lambda fn: fn()
        # Finalizers the server itself adds when an object of that resource is deleted (a CRD's cleanup).
        self.delete_finalizers: dict[StoreKey, str] = {}
        self.gc = Collector(self)
        self.faults = FaultInjector(self)  # off until a FaultPlan is set (`api_faults`)
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.create(self.resource("", "v1", "namespaces"), None, {"metadata": {"name": ns}})

    def resource(self, group: str, version: str, plural: str) -> ResourceDef:
        res = self.registry.get(group, version, plural)
        if res is None:
            raise errors.resource_not_found()
        return res

    # ---- events -------------------------------------------------------------------------------------
    def _next_rv(self) -> int:
        self.rv += 1
        return self.rv

    def _emit(self, event: WatchEvent) -> None:
        self.history.append(event)
        while len(self.history) > self.history_size:
            self.compacted_rv = self.history.popleft().rv
        for queue in self.watchers.get(event.store_key, ()):
            queue.put_nowait(event)

    def put(
        self, store_key: StoreKey, key: ObjKey, new: dict[str, Any], old: dict[str, Any]
    ) -> dict[str, Any]:
        """Store `new` in place of `old`, a change the server itself makes (no admission, no hooks), with
        the next resourceVersion, and tell the watchers (MODIFIED). Returns the stored object."""
        stored = {**new, "metadata": {**new["metadata"], "resourceVersion": str(self._next_rv())}}
        self.objects[store_key][key] = stored
        self._emit(WatchEvent(self.rv, store_key, "MODIFIED", stored, old))
        return stored

    def events_since(self, store_key: StoreKey, rv: int) -> list[WatchEvent]:
        if rv < self.compacted_rv:
            raise errors.gone(f"too old resource version: {rv} ({self.compacted_rv + 1})")
        if not self.history or self.history[-1].rv <= rv:
            return []
        return [e for e in self.history if e.rv > rv and e.store_key == store_key]

    # ---- reads --------------------------------------------------------------------------------------
    def get(self, res: ResourceDef, ns: str | None, name: str) -> dict[str, Any]:
        obj = self.objects[res.store_key].get((ns or "", name))
        if obj is None:
            raise errors.not_found(res.plural, res.group, name)
        return obj

    def find(self, res: ResourceDef, ns: str | None, name: str) -> dict[str, Any] | None:
        return self.objects[res.store_key].get((ns or "", name))

    def list(self, res: ResourceDef, ns: str | None) -> list[dict[str, Any]]:
        items = self.objects[res.store_key]
        if ns is None:
            return [items[k] for k in sorted(items)]
        return [items[k] for k in sorted(items) if k[0] == ns]

    # ---- writes -------------------------------------------------------------------------------------
    def create(
        self, res: ResourceDef, ns: str | None, body: Mapping[str, Any], dry_run: bool = False
    ) -> dict[str, Any]:
        obj = dict(body)
        meta = dict(obj.get("metadata") or {})
        obj["metadata"] = meta
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        if res.namespaced:
            if meta.get("namespace") not in (None, "", ns):
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(random.choices(_GENERATE_CHARS, k=5))
        name = meta.get("name") or ""
        check_name(res.kind, res.group, name)
        if res.namespaced:
            self._check_namespace_open(res, ns or "", name)
        key = (ns or "", name) if res.namespaced else ("", name)
        if key in self.objects[res.store_key]:
            raise errors.already_exists(res.plural, res.group, name)
        for field in (*_SERVER_META, "resourceVersion", "selfLink"):  # managedFields: set by api_http
            meta.pop(field, None)
        if res.kind == "Pod":
            obj["status"] = {"phase": "Pending", "qosClass": qos_class(obj)}
        elif res.kind == "Namespace":
            obj["status"] = {"phase": "Active"}
        elif (res.custom and res.has_status) or res.kind in STATUS_RESET_ON_CREATE:
            obj.pop("status", None)
        if self.admit is not None:
            obj = self.admit(res, obj, None)
            meta = obj["metadata"]
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        if res.custom or "spec" in obj:
            meta["generation"] = 1
        if dry_run:
            return obj
        meta["resourceVersion"] = str(self._next_rv())
        self.objects[res.store_key][key] = obj
        self._index(res.store_key, key, obj)
        self._emit(WatchEvent(self.rv, res.store_key, "ADDED", obj, None))
        self._after(res, None, obj)
        self.gc.check_orphaned(res.store_key, key, obj)
        return obj

    def _check_namespace_open(self, res: ResourceDef, ns: str, name: str) -> None:
        namespace = self.objects[("", "namespaces")].get(("", ns))
        if namespace is None:
            raise errors.not_found("namespaces", "", ns)
        if namespace["metadata"].get("deletionTimestamp"):
            raise errors.forbidden(
                res.plural,
                res.group,
                name,
                f"unable to create new content in namespace {ns} because it is being terminated",
            )

    def update(
        self,
        res: ResourceDef,
        ns: str | None,
        name: str,
        body: Mapping[str, Any],
        subresource: str | None = None,
        allow_create: bool = False,
        dry_run: bool = False,
        internal: bool = False,
    ) -> tuple[dict[str, Any], bool]:
        """Replace an object (PUT, and every patch after it is applied). Returns (object, created)."""
        key = (ns or "", name) if res.namespaced else ("", name)
        old = self.objects[res.store_key].get(key)
        new = dict(body)
        meta = dict(new.get("metadata") or {})
        new["metadata"] = meta
        if meta.get("name") not in (None, name):
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
            )
        if old is None:
            if (allow_create or res.kind in CREATE_ON_UPDATE) and subresource is None:
                meta["name"] = name
                return self.create(res, ns, new, dry_run=dry_run), True
            raise errors.not_found(res.plural, res.group, name)
        old_meta = old["metadata"]
        given_rv = meta.get("resourceVersion")
        if given_rv not in (None, "") and given_rv != old_meta["resourceVersion"]:
            raise errors.conflict(res.plural, res.group, name)
        # A uid in the body (or a patch) is a precondition, as the registry's storage checks it: the
        # kubelet puts its pod's uid into every status patch so a recreated pod of the name is not touched.
        if meta.get("uid") not in (None, "") and meta["uid"] != old_meta["uid"]:
            raise errors.conflict(
                res.plural,
                res.group,
                name,
                f"Precondition failed: UID in precondition: {meta['uid']}, "
                f"UID in object meta: {old_meta['uid']}",
            )
        if subresource == "status":
            new = {**old, "status": new.get("status")}
            if new["status"] is None:
                del new["status"]
            meta = dict(old_meta)
            new["metadata"] = meta
        else:
            if res.has_status:
                if "status" in old:
                    new["status"] = old["status"]
                else:
                    new.pop("status", None)
            for field in (*_SERVER_META, "name", "namespace"):
                if field in old_meta:
                    meta[field] = old_meta[field]
                else:
                    meta.pop(field, None)
            if old_meta.get("deletionTimestamp"):
                added = set(meta.get("finalizers") or ()) - set(old_meta.get("finalizers") or ())
                if added:
                    message = (
                        "Forbidden: no new finalizers can be added if the object is being deleted, "
                        f'found new finalizers []string{{"{sorted(added)[0]}"}}'
                    )
                    cause = {
                        "reason": "FieldValueForbidden",
                        "field": "metadata.finalizers",
                        "message": message,
                    }
                    raise errors.invalid(res.kind, res.group, name, [cause])
        new["apiVersion"], new["kind"] = old["apiVersion"], old["kind"]
        if res.kind == "Pod" and subresource is None and not internal:
            check_pod_update(name, old.get("spec") or {}, new.get("spec") or {})
        if self.admit is not None:
            new = self.admit(res, new, old)
            meta = new["metadata"]
        meta["resourceVersion"] = old_meta["resourceVersion"]
        if new == old:
            return old, False  # a no-op write changes nothing, not even the resourceVersion
        if "generation" in old_meta and _spec_changed(res, old, new):
            meta["generation"] = old_meta["generation"] + 1
        if dry_run:
            return new, False
        meta["resourceVersion"] = str(self._next_rv())
        self.objects[res.store_key][key] = new
        self._unindex(res.store_key, key, old)
        self._index(res.store_key, key, new)
        self._emit(WatchEvent(self.rv, res.store_key, "MODIFIED", new, old))
        self._after(res, old, new)
        if (
            meta.get("deletionTimestamp")
            and not meta.get("finalizers")
            and not meta.get("deletionGracePeriodSeconds")
        ):
            self.remove(res.store_key, key)
        return new, False

    def delete(
        self,
        res: ResourceDef,
        ns: str | None,
        name: str,
        options: Mapping[str, Any] | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        options = options or {}
        key = (ns or "", name) if res.namespaced else ("", name)
        obj = self.get(res, ns, name)
        meta = obj["metadata"]
        pre = options.get("preconditions") or {}
        if pre.get("uid") and pre["uid"] != meta["uid"]:
            raise errors.conflict(
                res.plural,
                res.group,
                name,
                f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {meta['uid']}",
            )
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta["resourceVersion"]:
            raise errors.conflict(
                res.plural,
                res.group,
                name,
                f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                f"ResourceVersion in object meta: {meta['resourceVersion']}",
            )
        if dry_run:
            return obj
        policy = options.get("propagationPolicy") or (
            "Orphan" if options.get("orphanDependents") else "Background"
        )
        if policy == "Orphan":
            self.gc.orphan(meta["uid"])
        finalizers = list(meta.get("finalizers") or ())
        server_finalizer = self.delete_finalizers.get(res.store_key)
        if server_finalizer and not meta.get("deletionTimestamp") and server_finalizer not in finalizers:
            finalizers.append(server_finalizer)
        if (
            policy == "Foreground"
            and self.dependents.get(meta["uid"])
            and "foregroundDeletion" not in finalizers
        ):
            finalizers.append("foregroundDeletion")
        if res.kind == "Namespace" and not meta.get("deletionTimestamp"):
            return self.gc.delete_namespace(res, obj)
        grace = _grace_seconds(res, obj, options)
        deleting = bool(meta.get("deletionTimestamp"))
        if deleting and grace >= int(meta.get("deletionGracePeriodSeconds") or 0) and (finalizers or grace):
            return obj  # already being deleted, no shorter grace period: nothing changes
        if not finalizers and grace == 0:
            return self.remove(res.store_key, key)
        # graceful deletion (a bound pod, until its kubelet confirms with grace 0) or finalizers pending
        new_meta = {**meta, "deletionTimestamp": now_rfc3339(grace), "deletionGracePeriodSeconds": grace}
        if finalizers:
            new_meta["finalizers"] = finalizers
        if "generation" in meta and not deleting:
            new_meta["generation"] = meta["generation"] + 1
        new_meta["resourceVersion"] = str(self._next_rv())
        new = {**obj, "metadata": new_meta}
        self.objects[res.store_key][key] = new
        self._emit(WatchEvent(self.rv, res.store_key, "MODIFIED", new, obj))
        self._after(res, obj, new)
        if "foregroundDeletion" in finalizers:
            self.schedule(lambda: self.gc.collect(meta["uid"], foreground=True))
        return new

    def remove(self, store_key: StoreKey, key: ObjKey) -> dict[str, Any]:
        """Drop the object now (no finalizers, no grace), tell the watchers (DELETED) and collect what it
        owned; returns the deleted object as the watchers saw it."""
        old = self.objects[store_key].pop(key)
        self._unindex(store_key, key, old)
        gone = {**old, "metadata": {**old["metadata"], "resourceVersion": str(self._next_rv())}}
        self._emit(WatchEvent(self.rv, store_key, "DELETED", gone, None))
        versions = self.registry.versions_of(*store_key)
        if versions:
            self._after(versions[0], old, None)
        uid = old["metadata"]["uid"]
        self.schedule(lambda: self.gc.collect(uid))
        for owner_uid in {ref.get("uid", "") for ref in old["metadata"].get("ownerReferences") or ()}:
            self.schedule(functools.partial(self.gc.finish_foreground, owner_uid))
        if key[0]:
            self.schedule(lambda: self.gc.maybe_finish_namespace(key[0]))
        return gone

    def _after(self, res: ResourceDef, old: dict[str, Any] | None, new: dict[str, Any] | None) -> None:
        for hook in self.after_write:
            hook(res, old, new)

    # ---- ownership index (for garbage collection) -----------------------------------------------------
    def _index(self, store_key: StoreKey, key: ObjKey, obj: Mapping[str, Any]) -> None:
        self.uids[obj["metadata"]["uid"]] = (store_key, key)
        for ref in obj["metadata"].get("ownerReferences") or ():
            if ref.get("uid"):
                self.dependents[ref["uid"]].add((store_key, key))

    def _unindex(self, store_key: StoreKey, key: ObjKey, obj: Mapping[str, Any]) -> None:
        self.uids.pop(obj["metadata"]["uid"], None)
        for ref in obj["metadata"].get("ownerReferences") or ():
            deps = self.dependents.get(ref.get("uid", ""))
            if deps is not None:
                deps.discard((store_key, key))
                if not deps:
                    del self.dependents[ref["uid"]]


def _grace_seconds(res: ResourceDef, obj: Mapping[str, Any], options: Mapping[str, Any]) -> int:
    """Graceful deletion applies to pods bound to a node and not finished; everything else goes at once."""
    if res.kind != "Pod" or res.group:
        return 0
    spec, phase = obj.get("spec") or {}, (obj.get("status") or {}).get("phase")
    if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
        return 0
    grace = options.get("gracePeriodSeconds")
    if grace is None:
        grace = spec.get("terminationGracePeriodSeconds", 30)
    try:
        return max(int(grace), 0)
    except (TypeError, ValueError):
        raise errors.bad_request(f"gracePeriodSeconds must be an integer, not {grace!r}") from None


def _spec_changed(res: ResourceDef, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    skip = {"metadata", "status"} if res.has_status else {"metadata"}
    keys = (set(old) | set(new)) - skip
    return any(old.get(k) != new.get(k) for k in keys)
