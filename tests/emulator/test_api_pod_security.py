"""Pod Security Admission in the embedded API: `pod-security.kubernetes.io/enforce` on pod creation."""

from __future__ import annotations

from typing import Any

from api_helpers import Http

pytest_plugins = ["api_fixtures"]

RESTRICTED_CONTAINER = {
    "name": "main",
    "image": "x",
    "securityContext": {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    },
}


def label(http: Http, ns: str, level: str) -> None:
    body = {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": level}}}
    assert http.patch(f"/api/v1/namespaces/{ns}", body).status_code == 200


def pod(name: str, container: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"containers": [container]}}


def test_a_restricted_namespace_refuses_a_pod_that_violates_it_with_403(http: Http, ns: str) -> None:
    label(http, ns, "restricted")
    response = http.post(f"/api/v1/namespaces/{ns}/pods", pod("plain", {"name": "main", "image": "x"}))
    assert response.status_code == 403
    status = response.json()
    assert status["reason"] == "Forbidden"
    assert status["message"].startswith(
        'pods "plain" is forbidden: violates PodSecurity "restricted:latest": '
    )
    for rule in ("Privilege Escalation", "Capabilities", "Running as Non-root", "Seccomp"):
        assert f"({rule})" in status["message"]
    assert http.get(f"/api/v1/namespaces/{ns}/pods/plain").status_code == 404


def test_a_restricted_namespace_admits_a_pod_that_passes(http: Http, ns: str) -> None:
    label(http, ns, "restricted")
    assert http.post(f"/api/v1/namespaces/{ns}/pods", pod("ok", RESTRICTED_CONTAINER)).status_code == 201


def test_baseline_refuses_privileged_but_not_a_missing_seccomp_profile(http: Http, ns: str) -> None:
    label(http, ns, "baseline")
    privileged = {"name": "main", "image": "x", "securityContext": {"privileged": True}}
    refused = http.post(f"/api/v1/namespaces/{ns}/pods", pod("priv", privileged))
    assert refused.status_code == 403 and "(Privileged Containers)" in refused.json()["message"]
    plain = http.post(f"/api/v1/namespaces/{ns}/pods", pod("plain", {"name": "main", "image": "x"}))
    assert plain.status_code == 201


def test_an_unlabelled_namespace_enforces_nothing(http: Http, ns: str) -> None:
    privileged = {"name": "main", "image": "x", "securityContext": {"privileged": True}}
    assert http.post(f"/api/v1/namespaces/{ns}/pods", pod("priv", privileged)).status_code == 201
