"""Kubernetes `Status` error bodies, worded as the real API server words them.

`ApiError` is raised anywhere in request handling and rendered by the HTTP layer as a `Status` object
with the same `code`, `reason`, `message` and `details` a kube-apiserver would send.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def qualified(plural: str, group: str) -> str:
    """`pods`, `deployments.apps`, `mobilenetfinetunes.finetune.mindspore.io`."""
    return f"{plural}.{group}" if group else plural


def _details(name: str, plural: str, group: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "kind": plural}
    if group:
        details["group"] = group
    return details


def _about(
    code: int, reason: str, plural: str, group: str, name: str, after: str, before: str = ""
) -> ApiError:
    """An error about one object: `<before><plural.group> "<name>"<after>`, with its details."""
    message = f'{before}{qualified(plural, group)} "{name}"{after}'
    return ApiError(code, reason, message, _details(name, plural, group))


def not_found(plural: str, group: str, name: str) -> ApiError:
    return _about(404, "NotFound", plural, group, name, " not found")


def resource_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(plural: str, group: str, name: str) -> ApiError:
    return _about(409, "AlreadyExists", plural, group, name, " already exists")


def conflict(plural: str, group: str, name: str, why: str | None = None) -> ApiError:
    why = why or "the object has been modified; please apply your changes to the latest version and try again"
    return _about(
        409, "Conflict", plural, group, name, f": {why}", before="Operation cannot be fulfilled on "
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def method_not_allowed() -> ApiError:
    return ApiError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {}
    )


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: "
        f"application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml "
        f"(got {content_type})",
        {},
    )


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def forbidden(plural: str, group: str, name: str, why: str) -> ApiError:
    return _about(403, "Forbidden", plural, group, name, f" is forbidden: {why}")


def json_patch_failed(message: str) -> ApiError:
    """What the server answers when a JSON patch cannot be applied (a failed `test` included)."""
    return ApiError(
        422,
        "Invalid",
        "the server rejected our request due to an error in our request",
        {"causes": [{"reason": "UnexpectedServerResponse", "message": message}]},
    )


def invalid(kind: str, group: str, name: str, causes: list[dict[str, str]]) -> ApiError:
    """422 Invalid; each cause is `{"reason", "message", "field"}` with message excluding the field."""
    qualified_kind = f"{kind}.{group}" if group else kind
    texts = [f"{c['field']}: {c['message']}" if c.get("field") else c["message"] for c in causes]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    details: dict[str, Any] = {"name": name, "kind": kind, "causes": causes}
    if group:
        details["group"] = group
    return ApiError(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {joined}', details)
