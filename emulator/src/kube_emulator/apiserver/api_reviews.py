"""Access and identity reviews: create-only kinds a kube-apiserver answers and never stores.

The embedded API has one identity, the holder of its bearer token, who may do everything (like a
member of `system:masters`): every SelfSubjectAccessReview, SubjectAccessReview and
LocalSubjectAccessReview is allowed, a SelfSubjectRulesReview lists `*` on everything, and
SelfSubjectReview (`kubectl auth whoami`) names that administrator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ADMIN = {"username": "kube-emulator:admin", "groups": ["system:masters", "system:authenticated"]}
_ALL_RULES = {
    "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
    "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}],
    "incomplete": False,
}
REVIEWS = {
    ("authorization.k8s.io", "SelfSubjectAccessReview"),
    ("authorization.k8s.io", "SubjectAccessReview"),
    ("authorization.k8s.io", "LocalSubjectAccessReview"),
    ("authorization.k8s.io", "SelfSubjectRulesReview"),
    ("authentication.k8s.io", "SelfSubjectReview"),
}


def is_review(group: str, kind: str) -> bool:
    return (group, kind) in REVIEWS


def answer(api_version: str, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The review `body` with the server's `status` (spec as sent; metadata as sent, nothing stored)."""
    result: dict[str, Any] = {
        "kind": kind,
        "apiVersion": api_version,
        "metadata": dict(body.get("metadata") or {}),
    }
    if "spec" in body:
        result["spec"] = body["spec"]
    if kind == "SelfSubjectRulesReview":
        result["status"] = _ALL_RULES
    elif kind == "SelfSubjectReview":
        result["status"] = {"userInfo": ADMIN}
    else:
        result["status"] = {"allowed": True}
    return result
