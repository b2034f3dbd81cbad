"""Who may drive the embedded API: one aiohttp middleware, checked before any handler runs.

A request is refused unless, in this order:

1. its `Host` names loopback (`localhost`, `127.0.0.1`, `[::1]`, or the address the server is bound to)
   with the port it arrived on: 403. A DNS-rebound page (`Host: evil.example`) or another local
   server's origin never gets further.
2. it has no `Origin`, or `Origin` is this server itself (`https://<loopback>:<port>`): 403. Browsers
   send `Origin` on every cross-origin request; kubectl, client-go, the kubernetes client and kopf never
   send one.
3. it carries `Authorization: Bearer <the server's token>` (compared in constant time): 401 with the
   Status body a kube-apiserver sends (`reason: Unauthorized`), on every path, /healthz included (a
   kube-apiserver with `--anonymous-auth=false` answers the same).
4. a write's body is in a media type the API decodes: `application/json`, `application/yaml` or
   `application/vnd.kubernetes.protobuf` (the built-in kinds of `api_protobuf`) for POST, PUT and
   DELETE, a JSON/merge/strategic-merge/apply patch type for PATCH: 415 UnsupportedMediaType otherwise
   (`text/plain`, forms, multipart). As in a kube-apiserver, a POST/PUT/DELETE without `Content-Type`
   is read as JSON (the kubernetes Python client sends none), a PATCH without one is a 415.

Checks 1, 2 and 4 make the API unusable from a web page even if the token leaked; check 3 makes it
unusable by other local users and processes that cannot read the 0600 kubeconfig.
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

from kube_emulator.apiserver.api_errors import ApiError

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
OBJECT_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)
WRITE_TYPES = {"POST": OBJECT_TYPES, "PUT": OBJECT_TYPES, "PATCH": PATCH_TYPES, "DELETE": OBJECT_TYPES}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def new_token() -> str:
    """A fresh bearer token: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def _status(error: ApiError) -> web.Response:
    return web.Response(
        body=json.dumps(error.status(), separators=(",", ":")).encode(),
        status=error.code,
        content_type="application/json",
    )


def split_host(host: str) -> tuple[str, int | None]:
    """`localhost:8080` -> ("localhost", 8080); `[::1]:80` -> ("[::1]", 80); no port -> None; bad -> -1."""
    host = host.strip().lower()
    if host.startswith("["):
        name, _, rest = host.partition("]")
        name, port = name + "]", rest[1:] if rest.startswith(":") else ("" if not rest else "bad")
    else:
        name, _, port = host.partition(":")
    if not port:
        return name, None
    return name, int(port) if port.isdigit() else -1


def host_allowed(host: str, port: int, bound: str) -> bool:
    """`Host` (or an Origin's host:port) names loopback or the bound address, with the served port."""
    name, given = split_host(host)
    if given is None:
        given = 80
    names = LOOPBACK_HOSTS | ({bound.lower()} if bound not in ("", "0.0.0.0", "::") else set())
    return name in names and given == port


def origin_allowed(origin: str, port: int, bound: str) -> bool:
    """An `Origin` naming this server itself (same-origin); anything else, "null" included, is refused."""
    parts = urlsplit(origin.strip())
    return parts.scheme == "https" and not parts.path and host_allowed(parts.netloc, port, bound)


def token_matches(header: str | None, token: str) -> bool:
    """`Authorization: Bearer <token>` (scheme case-insensitive), compared in constant time."""
    scheme, _, given = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def media_type_problem(request: web.Request) -> ApiError | None:
    """A 415 for a write whose body is in a type this API does not decode; None when it does."""
    accepted = WRITE_TYPES.get(request.method)
    if accepted is None:
        return None
    given = request.headers.get("Content-Type")
    if given is None and request.method != "PATCH":
        return None  # the API's first media type, JSON, as a kube-apiserver assumes
    if request.method == "DELETE" and not request.can_read_body:
        return None
    if given is not None and request.content_type.lower() in accepted:
        return None
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: "
        f"{', '.join(accepted)} (got {given or 'no Content-Type'})",
        {},
    )


def middleware(token: str, bound: str) -> Middleware:
    """The aiohttp middleware enforcing the rules above for a server bound to `bound` with `token`."""
    if not token:
        raise ValueError("the embedded API needs a bearer token")

    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        port = int(sockname[1]) if sockname else -1
        host = request.headers.get("Host", "")
        if not host_allowed(host, port, bound):
            return _status(
                ApiError(403, "Forbidden", f"Host {host!r} is not this server's loopback address", {})
            )
        origin = request.headers.get("Origin")
        if origin is not None and not origin_allowed(origin, port, bound):
            return _status(ApiError(403, "Forbidden", f"cross-origin requests are refused ({origin})", {}))
        if not token_matches(request.headers.get("Authorization"), token):
            return _status(ApiError(401, "Unauthorized", "Unauthorized"))
        problem = media_type_problem(request)
        if problem is not None:
            return _status(problem)
        return await handler(request)

    return auth
