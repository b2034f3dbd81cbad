"""HTTP routing and handlers of the embedded API (aiohttp): discovery, CRUD, patches, list and watch.

`make_app(store, log_dir)` returns the aiohttp application; every request goes through `Handler.handle`,
which maps the URL onto (group, version, resource, namespace, name, subresource) the way the
kube-apiserver does and renders `ApiError`s as `Status` bodies.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from kube_emulator.apiserver import (
    api_admission,
    api_decode,
    api_discovery,
    api_faults,
    api_fields,
    api_patch,
    api_protobuf,
    api_reviews,
    api_scale,
    api_table,
    openapi_schema,
)
from kube_emulator.apiserver import api_errors as errors
from kube_emulator.apiserver.api_decode import MAX_BODY_BYTES
from kube_emulator.apiserver.api_errors import ApiError
from kube_emulator.apiserver.api_logs import serve_log
from kube_emulator.apiserver.api_resources import ResourceDef
from kube_emulator.apiserver.api_selectors import parse_field_selector, parse_label_selector
from kube_emulator.apiserver.api_store import Store, now_rfc3339
from kube_emulator.apiserver.api_watch import serve_watch

logger = logging.getLogger(__name__)

# Subresources with server behind them; others in discovery (exec, eviction, ...) answer 404.
SERVED = {"status", "log", "binding", "scale"}
_PATCH_TYPES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
}


@dataclass
class Target:
    group: str
    version: str
    plural: str
    namespace: str | None
    name: str | None
    subresource: str | None
    watch: bool


def parse_target(parts: list[str]) -> Target | None:
    """`["api", "v1", "namespaces", "ns", "pods", "p", "log"]` -> the Target; None for discovery paths."""
    if parts[:1] == ["api"] and len(parts) >= 3:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    watch = rest[0] == "watch"
    if watch:
        rest = rest[1:]
    namespace = None
    if (
        len(rest) >= 3
        and rest[0] == "namespaces"
        and not (len(rest) == 3 and rest[2] in ("status", "finalize"))
    ):
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 3:
        raise errors.resource_not_found()
    return Target(
        group,
        version,
        rest[0],
        namespace,
        rest[1] if len(rest) > 1 else None,
        rest[2] if len(rest) > 2 else None,
        watch,
    )


def _encode_continue(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def _decode_continue(token: str) -> tuple[str, str]:
    try:
        namespace, name = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError):
        raise errors.bad_request("continue key is not valid: illegal base64 data") from None
    return (str(namespace), str(name))


def check_object(body: Any) -> dict[str, Any]:
    """A request's object must be a JSON object whose metadata (labels, annotations) are objects too."""
    if not isinstance(body, dict):
        raise errors.bad_request(f"the object must be a JSON object, not {type(body).__name__}")
    meta = body.get("metadata", {})
    if not isinstance(meta, dict):
        raise errors.bad_request("the object's metadata must be a JSON object")
    for field in ("labels", "annotations"):
        if not isinstance(meta.get(field) or {}, dict):
            raise errors.bad_request(f"the object's metadata.{field} must be a JSON object")
    return body


def _with_managed_fields(obj: Mapping[str, Any], managed: list[dict[str, Any]]) -> dict[str, Any]:
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    if managed:
        meta["managedFields"] = managed
    return {**obj, "metadata": meta}


def _canonical_times(res: ResourceDef, body: dict[str, Any]) -> dict[str, Any]:
    """A built-in kind's metav1.Time fields as `...Z`, MicroTime as `....000000Z` (as Go's encoding stores
    them), whatever offset or precision the client sent; an unparsable time is a 400."""
    if res.custom:
        return body
    try:
        return api_protobuf.normalise_times(api_protobuf.message_for(res.api_version, res.kind), body)
    except ValueError as error:
        raise errors.bad_request(
            f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: {error}'
        ) from None


def dumps(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def json_response(body: Any, status: int = 200, warnings: list[str] | None = None) -> web.Response:
    response = web.Response(body=dumps(body), status=status, content_type="application/json")
    for warning in warnings or ():
        response.headers.add("Warning", f"299 - {json.dumps(warning)}")
    return response


class Handler:
    def __init__(self, store: Store, log_dir: Path | None, closing: asyncio.Event) -> None:
        self.store = store
        self.log_dir = log_dir
        self.closing = closing
        self.open_watches = 0
        self.admission = api_admission.Admission(store)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._dispatch(request)
        except ApiError as error:
            return json_response(error.status(), error.code)
        except Exception as error:
            logger.exception("embedded API: %s %s failed", request.method, request.path)
            return json_response(
                ApiError(500, "InternalError", f"Internal error occurred: {error!r}").status(), 500
            )

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        target = parse_target(parts)
        if target is None:
            if request.method != "GET":
                raise errors.method_not_allowed()
            return self._discovery(parts)
        res = self.store.resource(target.group, target.version, target.plural)
        if res.namespaced and target.name is None and target.namespace is None and request.method == "POST":
            raise errors.method_not_allowed()
        if not res.namespaced and target.namespace is not None:
            raise errors.resource_not_found()
        if target.subresource and (
            target.subresource not in res.subresources or target.subresource not in SERVED
        ):
            raise errors.resource_not_found()
        query = request.query
        method = request.method
        if method == "GET":
            watch = target.watch or query.get("watch") in ("true", "1")
            if target.name and not watch:
                if target.subresource == "log":
                    return await serve_log(
                        request, self.store, res, target.namespace, target.name, self.log_dir
                    )
                obj = self.store.get(res, target.namespace, target.name)
                if target.subresource == "scale":
                    return json_response(api_scale.scale_of(res, obj))
                return self._object_response(request, res, obj)
            if watch:
                return await self._watch(request, res, target)
            return self._list(request, res, target)
        dry_run = "All" in query.getall("dryRun", [])
        if method == "POST":
            if target.subresource == "binding" or (res.plural == "bindings"):
                return self._bind(res, target, await self._body(request))
            if target.name is not None:
                raise errors.method_not_allowed()
            if api_reviews.is_review(res.group, res.kind):
                return json_response(
                    api_reviews.answer(res.api_version, res.kind, await self._body(request)), 201
                )
            body = _canonical_times(res, await self._body(request))
            body = self._updated(request, res, None, body)
            ns = target.namespace
            body, admitted = await self._admit(
                res,
                "CREATE",
                target,
                body,
                None,
                dry_run,
                lambda b: self.store.create(res, ns, b, dry_run=True),
            )
            warnings = admitted + self._field_validation(request, res, body)
            obj = self.store.create(res, target.namespace, body, dry_run=dry_run)
            return json_response(self._out(res, obj), 201, warnings)
        if target.name is None:
            if method == "DELETE":
                return await self._delete_collection(request, res, target)
            raise errors.method_not_allowed()
        if target.subresource == "scale" and method in ("PUT", "PATCH"):
            return await self._scale(request, res, target, dry_run)
        if method == "PUT":
            body = _canonical_times(res, await self._body(request))
            old = self.store.find(res, target.namespace, target.name)
            if target.subresource is None:
                body = self._updated(request, res, old, body)
            body, admitted = await self._admit(
                res, "UPDATE" if old else "CREATE", target, body, old, dry_run, self._preview(res, target)
            )
            warnings = admitted + self._field_validation(request, res, body)
            obj, created = self.store.update(
                res, target.namespace, target.name, body, subresource=target.subresource, dry_run=dry_run
            )
            return json_response(self._out(res, obj), 201 if created else 200, warnings)
        if method == "PATCH":
            return await self._patch(request, res, target, dry_run)
        if method == "DELETE":
            options = await self._body(request, optional=True)
            for key in ("propagationPolicy", "gracePeriodSeconds"):
                if key in query:
                    options.setdefault(key, query[key])
            if self.admission.active(res):
                old = self.store.get(res, target.namespace, target.name)
                await self._admit(res, "DELETE", target, None, old, dry_run, None)
            obj = self.store.delete(res, target.namespace, target.name, options, dry_run=dry_run)
            return json_response(self._out(res, obj))
        raise errors.method_not_allowed()

    # ---- helpers ------------------------------------------------------------------------------------
    async def _raw_body(self, request: web.Request) -> Any:
        """The decoded body, within `api_decode`'s bounds (size, nesting, aliases, finite numbers)."""
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise ApiError(
                413, "RequestEntityTooLarge", f"Request entity too large: limit is {MAX_BODY_BYTES}"
            ) from None
        if not raw.strip():
            return None
        try:
            return api_decode.decode(raw, request.content_type)
        except api_decode.DecodeError as error:
            raise errors.bad_request(f"the body of the request could not be decoded: {error}") from None

    async def _body(self, request: web.Request, optional: bool = False) -> dict[str, Any]:
        """The request's object: a JSON (or YAML) object whose metadata, if any, is an object too."""
        body = await self._raw_body(request)
        if body is None and optional:
            return {}
        if body is None:
            raise errors.bad_request("the body of the request was empty")
        return check_object(body)

    @staticmethod
    def _field_validation(request: web.Request, res: ResourceDef, obj: Mapping[str, Any]) -> list[str]:
        """`fieldValidation`: Strict rejects fields a custom resource's schema lacks, Warn (default) warns."""
        directive = request.query.get("fieldValidation", "Warn")
        if directive == "Ignore" or not res.custom or res.schema is None:
            return []
        unknown = [f'unknown field "{f}"' for f in openapi_schema.unknown_fields(res.schema, obj)]
        if unknown and directive == "Strict":
            raise errors.bad_request(
                f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: '
                f"strict decoding error: {', '.join(unknown)}"
            )
        return unknown

    async def _admit(
        self,
        res: ResourceDef,
        operation: str,
        target: Target,
        obj: dict[str, Any] | None,
        old: dict[str, Any] | None,
        dry_run: bool,
        preview: Callable[[dict[str, Any]], dict[str, Any]] | None,
    ) -> tuple[Any, list[str]]:
        """Admission webhooks and policies (`api_admission`), when any are configured."""
        if not self.admission.active(res):
            return obj, []
        name = target.name or ((obj or {}).get("metadata") or {}).get("name") or ""
        admitted, warnings = await self.admission.admit(
            res, operation, target.namespace, name, obj, old, target.subresource, dry_run, preview
        )
        if admitted is not None:
            admitted = check_object(admitted)
        return admitted, warnings

    def _preview(self, res: ResourceDef, target: Target) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """The object an update would store (a dry run of it), for validating admission."""
        assert target.name is not None
        name = target.name

        def preview(body: dict[str, Any]) -> dict[str, Any]:
            stored, _ = self.store.update(
                res, target.namespace, name, body, subresource=target.subresource, dry_run=True
            )
            return stored

        return preview

    def _applied(
        self, request: web.Request, res: ResourceDef, live: dict[str, Any], patch: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Server-side apply's field ownership (`api_fields`): 409 on a conflict unless `force=true`."""
        try:
            return api_fields.apply(
                live,
                patch,
                request.query["fieldManager"],
                list((live.get("metadata") or {}).get("managedFields") or ()),
                res.api_version,
                now_rfc3339(),
                res.schema if res.custom else None,
                force=request.query.get("force") in ("true", "1"),
            )
        except api_fields.Conflicts as error:
            causes = [
                {
                    "reason": "FieldManagerConflict",
                    "message": f'conflict with "{c.manager}" using {c.api_version}',
                    "field": c.field,
                }
                for c in error.conflicts
            ]
            raise ApiError(
                409,
                "Conflict",
                api_fields.conflict_message(error.conflicts),
                {"name": (live.get("metadata") or {}).get("name", ""), "kind": res.plural, "causes": causes}
                | ({"group": res.group} if res.group else {}),
            ) from None

    @staticmethod
    def _updated(
        request: web.Request, res: ResourceDef, old: Mapping[str, Any] | None, new: dict[str, Any]
    ) -> dict[str, Any]:
        """`new` with the managedFields of a create/update/patch by the request's field manager (its
        `fieldManager`, else the client's name from User-Agent); managedFields the client set win."""
        old_managed = list(((old or {}).get("metadata") or {}).get("managedFields") or ())
        given = (new.get("metadata") or {}).get("managedFields")
        if old is not None and given is not None and given != old_managed:
            return _with_managed_fields(new, [dict(e) for e in given if isinstance(e, Mapping) and e])
        manager = request.query.get("fieldManager") or (
            request.headers.get("User-Agent", "").split("/")[0].strip() or "unknown"
        )
        managed = api_fields.record_update(
            old, new, manager, old_managed, res.api_version, now_rfc3339(), res.schema if res.custom else None
        )
        return _with_managed_fields(new, managed)

    @staticmethod
    def _out(res: ResourceDef, obj: Mapping[str, Any]) -> Mapping[str, Any]:
        if obj.get("apiVersion") != res.api_version:
            return {**obj, "apiVersion": res.api_version}
        return obj

    def _object_response(
        self, request: web.Request, res: ResourceDef, obj: Mapping[str, Any]
    ) -> web.Response:
        if "as=Table" in request.headers.get("Accept", ""):
            return json_response(api_table.table(res, [obj], str(self.store.rv)))
        return json_response(self._out(res, obj))

    def _matcher(
        self, request: web.Request, res: ResourceDef, target: Target
    ) -> Callable[[Mapping[str, Any]], bool]:
        labels = parse_label_selector(request.query.get("labelSelector"))
        fields = parse_field_selector(request.query.get("fieldSelector"), res.kind, res.selectable_fields)
        ns, name = target.namespace, target.name

        def match(obj: Mapping[str, Any]) -> bool:
            meta = obj["metadata"]
            if ns is not None and meta.get("namespace") != ns:
                return False
            if name is not None and meta.get("name") != name:
                return False
            return labels(obj) and fields(obj)

        return match

    def _list(self, request: web.Request, res: ResourceDef, target: Target) -> web.Response:
        match = self._matcher(request, res, target)
        objects = [o for o in self.store.list(res, target.namespace) if match(o)]
        meta: dict[str, Any] = {"resourceVersion": str(self.store.rv)}
        token = request.query.get("continue")
        if token:
            start = _decode_continue(token)
            objects = [
                o for o in objects if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > start
            ]
        limit = int(request.query.get("limit") or 0)
        if 0 < limit < len(objects):
            last = objects[limit - 1]["metadata"]
            meta["continue"] = _encode_continue((last.get("namespace", ""), last["name"]))
            meta["remainingItemCount"] = len(objects) - limit
            objects = objects[:limit]
        items = [self._out(res, o) for o in objects]
        if "as=Table" in request.headers.get("Accept", ""):
            table = api_table.table(res, items, meta["resourceVersion"])
            table["metadata"] = meta
            return json_response(table)
        return json_response(
            {"kind": f"{res.kind}List", "apiVersion": res.api_version, "metadata": meta, "items": items}
        )

    async def _delete_collection(
        self, request: web.Request, res: ResourceDef, target: Target
    ) -> web.Response:
        match = self._matcher(request, res, target)
        options = await self._body(request, optional=True)
        deleted = []
        for obj in [o for o in self.store.list(res, target.namespace) if match(o)]:
            meta = obj["metadata"]
            if self.admission.active(res):
                one = Target(
                    target.group,
                    target.version,
                    target.plural,
                    meta.get("namespace"),
                    meta["name"],
                    None,
                    False,
                )
                await self._admit(res, "DELETE", one, None, obj, False, None)
            deleted.append(
                self._out(res, self.store.delete(res, meta.get("namespace"), meta["name"], options))
            )
        return json_response(
            {
                "kind": f"{res.kind}List",
                "apiVersion": res.api_version,
                "metadata": {"resourceVersion": str(self.store.rv)},
                "items": deleted,
            }
        )

    async def _patch(
        self, request: web.Request, res: ResourceDef, target: Target, dry_run: bool
    ) -> web.Response:
        assert target.name is not None
        kind = _PATCH_TYPES.get(request.content_type)
        if kind is None or (kind == "strategic" and res.custom):
            raise errors.unsupported_media_type(request.content_type)
        if kind == "apply" and not request.query.get("fieldManager"):
            raise errors.bad_request("fieldManager is required for apply requests")
        patch = await self._raw_body(request)
        if patch is None:
            raise errors.bad_request("the body of the request was empty")
        current = self.store.find(res, target.namespace, target.name)
        if current is None:
            if kind == "apply" and target.subresource is None:
                if not isinstance(patch, dict):
                    raise errors.bad_request("an apply patch must be an object")
                patch.setdefault("metadata", {})["name"] = target.name
                patch = _canonical_times(res, check_object(patch))
                _, managed = self._applied(request, res, {}, patch)
                patch = _with_managed_fields(patch, managed)
                ns = target.namespace
                patch, admitted = await self._admit(
                    res,
                    "CREATE",
                    target,
                    patch,
                    None,
                    dry_run,
                    lambda b: self.store.create(res, ns, b, dry_run=True),
                )
                warnings = admitted + self._field_validation(request, res, patch)
                obj = self.store.create(res, target.namespace, patch, dry_run=dry_run)
                return json_response(self._out(res, obj), 201, warnings)
            raise errors.not_found(res.plural, res.group, target.name)
        if kind == "json":
            try:
                patched = api_patch.json_patch(current, patch)
            except api_patch.JsonPatchError as error:
                raise errors.json_patch_failed(str(error)) from None
        elif kind == "merge":
            patched = api_patch.merge_patch(current, patch)
        elif kind == "strategic":
            patched = api_patch.strategic_merge_patch(current, patch)
        elif target.subresource is None and isinstance(patch, dict):
            patch = _canonical_times(res, check_object(patch))
            pruned, managed = self._applied(request, res, current, patch)
            applied = api_patch.apply_patch(pruned, patch, res.schema if res.custom else None)
            patched = _with_managed_fields(applied, managed)
        else:
            patched = api_patch.apply_patch(current, patch, res.schema if res.custom else None)
        patched = _canonical_times(res, check_object(patched))
        if kind != "apply" and target.subresource is None:
            patched = self._updated(request, res, current, patched)
        try:  # patches can deepen an object past the bound one request at a time
            api_decode.check_tree(patched)
        except api_decode.DecodeError as error:
            raise errors.bad_request(f"the patched object cannot be stored: {error}") from None
        patched, admitted = await self._admit(
            res, "UPDATE", target, patched, current, dry_run, self._preview(res, target)
        )
        warnings = admitted + self._field_validation(request, res, patched)
        obj, _ = self.store.update(
            res, target.namespace, target.name, patched, subresource=target.subresource, dry_run=dry_run
        )
        return json_response(self._out(res, obj), 200, warnings)

    async def _scale(
        self, request: web.Request, res: ResourceDef, target: Target, dry_run: bool
    ) -> web.Response:
        """PUT or PATCH of the scale subresource: the parent's replicas change, the answer is its Scale."""
        assert target.name is not None
        obj = self.store.get(res, target.namespace, target.name)
        if request.method == "PUT":
            scale: Any = await self._body(request)
        else:
            kind = _PATCH_TYPES.get(request.content_type)
            patch = await self._raw_body(request)
            if kind in (None, "apply") or patch is None:
                raise errors.unsupported_media_type(request.content_type)
            current = api_scale.scale_of(res, obj)
            if kind == "json":
                try:
                    scale = api_patch.json_patch(current, patch)
                except api_patch.JsonPatchError as error:
                    raise errors.json_patch_failed(str(error)) from None
            elif kind == "merge":
                scale = api_patch.merge_patch(current, patch)
            else:
                scale = api_patch.strategic_merge_patch(current, patch)
        new, _ = self.store.update(
            res, target.namespace, target.name, api_scale.scaled(res, obj, scale), dry_run=dry_run
        )
        return json_response(api_scale.scale_of(res, new))

    def _bind(self, res: ResourceDef, target: Target, body: dict[str, Any]) -> web.Response:
        pods = self.store.resource("", "v1", "pods")
        name = target.name if target.subresource == "binding" else (body.get("metadata") or {}).get("name")
        node = (body.get("target") or {}).get("name")
        if not name or not node:
            raise errors.bad_request("a Binding needs metadata.name and target.name")
        pod = self.store.get(pods, target.namespace, name)
        if pod.get("spec", {}).get("nodeName"):
            raise errors.conflict(
                "pods/binding",
                "",
                name,
                f'pod {name} is already assigned to node "{pod["spec"]["nodeName"]}"',
            )
        spec = {**pod.get("spec", {}), "nodeName": node}
        pod, _ = self.store.update(pods, target.namespace, name, {**pod, "spec": spec}, internal=True)
        conditions = [
            c for c in pod.get("status", {}).get("conditions", []) if c.get("type") != "PodScheduled"
        ]
        conditions.append(
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": now_rfc3339(),
            }
        )
        status = {**pod.get("status", {}), "conditions": conditions}
        self.store.update(pods, target.namespace, name, {**pod, "status": status}, subresource="status")
        return json_response(
            {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}, 201
        )

    # ---- watch --------------------------------------------------------------------------------------
    async def _watch(self, request: web.Request, res: ResourceDef, target: Target) -> web.StreamResponse:
        match = self._matcher(request, res, target)
        self.open_watches += 1
        try:
            return await serve_watch(request, self.store, res, target.namespace, match, self.closing)
        finally:
            self.open_watches -= 1

    # ---- discovery ----------------------------------------------------------------------------------
    def _discovery(self, parts: list[str]) -> web.Response:
        if parts and parts[0] in ("healthz", "readyz", "livez"):
            return web.Response(text="ok", content_type="text/plain")
        body = api_discovery.document(self.store.registry, parts)
        if body is None:
            raise errors.resource_not_found()
        return json_response(body)


@web.middleware
async def negotiate(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
    """Answer in protobuf when the client accepts only protobuf and the kind has a message; JSON otherwise
    (a kube-apiserver answers in the first acceptable type; client-go reads whichever it gets)."""
    response: web.StreamResponse = await handler(request)
    if (
        not api_protobuf.wants_protobuf(request.headers.get("Accept", ""))
        or not isinstance(response, web.Response)
        or response.content_type != "application/json"
        or not isinstance(response.body, bytes)
    ):
        return response
    raw = api_protobuf.encode(json.loads(response.body))
    if raw is None:
        return response
    encoded = web.Response(body=raw, status=response.status, content_type=api_protobuf.MEDIA_TYPE)
    for warning in response.headers.getall("Warning", ()):
        encoded.headers.add("Warning", warning)
    return encoded


def make_app(store: Store, log_dir: Path | None, closing: asyncio.Event) -> tuple[web.Application, Handler]:
    handler = Handler(store, log_dir, closing)
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app.middlewares.append(negotiate)
    app.middlewares.append(api_faults.middleware(store.faults))
    app.router.add_route("*", "/{tail:.*}", handler.handle)
    return app, handler
