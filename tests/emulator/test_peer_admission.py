"""Admission webhooks and ValidatingAdmissionPolicies called by the embedded API (over real HTTPS: the
webhook is a TLS server of this test, trusted through the configuration's caBundle).

The webhook mirrors kopf's admission example (examples/17-admission: a `kopf.on.validate` handler
refusing `field: wrong` with a message, a `kopf.on.mutate` handler injecting a field); the policy
mirrors the ValidatingAdmissionPolicy example of the Kubernetes documentation (`replicas <= 5`).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from api_helpers import Http
from kube_emulator.apiserver import api_tls
from kube_emulator.apiserver.apiserver import EmbeddedAPI

pytest_plugins = ["api_fixtures"]

ADMISSION = "/apis/admissionregistration.k8s.io/v1"


class Hook(BaseHTTPRequestHandler):
    reviews: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Hook.reviews.append(review)
        request = review["request"]
        response: dict[str, Any] = {"uid": request["uid"], "allowed": True}
        data = (request.get("object") or {}).get("data") or {}
        if self.path == "/validate" and data.get("field") == "wrong":
            response = {
                **response,
                "allowed": False,
                "status": {"code": 400, "message": "Meh! I don't like it."},
            }
        elif self.path == "/validate":
            response["warnings"] = ["checked by the peer webhook"]
        elif self.path == "/mutate":
            patch = [{"op": "add", "path": "/data/injected", "value": "yes"}]
            response.update(
                patchType="JSONPatch", patch=base64.b64encode(json.dumps(patch).encode()).decode()
            )
        elif self.path == "/keep":
            kept = request["oldObject"]["metadata"]["name"]
            response = {**response, "allowed": False, "status": {"code": 403, "message": f"{kept} stays"}}
        elif self.path == "/broken":
            self.send_response(500)
            self.end_headers()
            return
        body = json.dumps(
            {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response}
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def webhook() -> Iterator[tuple[str, str]]:
    """(URL, caBundle) of a TLS webhook server on loopback."""
    cert = api_tls.self_signed("127.0.0.1")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    server.socket = api_tls.server_context(cert).wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", base64.b64encode(cert.cert_pem).decode()
    server.shutdown()
    server.server_close()


def hook_config(kind: str, name: str, url: str, ca: str, **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": name},
        "webhooks": [
            {
                "name": f"{name}.peer.test",
                "clientConfig": {"url": url, "caBundle": ca},
                "rules": [
                    {
                        "operations": ["CREATE", "UPDATE"],
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "resources": ["configmaps"],
                    }
                ],
                "objectSelector": {"matchLabels": {"admission": "on"}},
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                **extra,
            }
        ],
    }


def test_mutating_then_validating_webhooks(
    api: EmbeddedAPI, http: Http, ns: str, webhook: tuple[str, str]
) -> None:
    url, ca = webhook
    mutating = hook_config("MutatingWebhookConfiguration", "inject", f"{url}/mutate", ca)
    validating = hook_config("ValidatingWebhookConfiguration", "check", f"{url}/validate", ca)
    assert http.post(f"{ADMISSION}/mutatingwebhookconfigurations", mutating).status_code == 201
    assert http.post(f"{ADMISSION}/validatingwebhookconfigurations", validating).status_code == 201
    try:
        on = {"metadata": {"name": "a", "labels": {"admission": "on"}}, "data": {"field": "right"}}
        created = http.post(f"/api/v1/namespaces/{ns}/configmaps", on)
        assert created.status_code == 201, created.text
        assert created.json()["data"] == {"field": "right", "injected": "yes"}  # the mutating webhook's patch
        assert created.headers["Warning"] == '299 - "checked by the peer webhook"'
        review = Hook.reviews[-1]["request"]  # the validating webhook saw the mutated, stored form
        assert (review["operation"], review["namespace"], review["name"], review["kind"]) == (
            "CREATE",
            ns,
            "a",
            {"group": "", "version": "v1", "kind": "ConfigMap"},
        )
        assert review["object"]["data"]["injected"] == "yes" and review["object"]["metadata"]["uid"]
        wrong = http.post(
            f"/api/v1/namespaces/{ns}/configmaps",
            {"metadata": {"name": "b", "labels": {"admission": "on"}}, "data": {"field": "wrong"}},
        )
        assert wrong.status_code == 400
        assert wrong.json()["message"] == (
            'admission webhook "check.peer.test" denied the request: Meh! I don\'t like it.'
        )
        assert http.get(f"/api/v1/namespaces/{ns}/configmaps/b").status_code == 404
        update = http.patch(f"/api/v1/namespaces/{ns}/configmaps/a", {"data": {"field": "wrong"}})
        assert update.status_code == 400 and http.get(f"/api/v1/namespaces/{ns}/configmaps/a").json()[
            "data"
        ] == {
            "field": "right",
            "injected": "yes",
        }
        # objectSelector: unlabelled config maps never reach the webhooks
        plain = http.post(
            f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "c"}, "data": {"field": "wrong"}}
        )
        assert plain.status_code == 201 and plain.json()["data"] == {"field": "wrong"}
    finally:
        http.delete(f"{ADMISSION}/mutatingwebhookconfigurations/inject")
        http.delete(f"{ADMISSION}/validatingwebhookconfigurations/check")


def test_a_failing_webhook_fails_the_write_unless_its_policy_is_ignore(
    http: Http, ns: str, webhook: tuple[str, str]
) -> None:
    url, ca = webhook
    config = hook_config("ValidatingWebhookConfiguration", "down", f"{url}/broken", ca)
    http.post(f"{ADMISSION}/validatingwebhookconfigurations", config)
    try:
        body = {"metadata": {"name": "x", "labels": {"admission": "on"}}}
        failed = http.post(f"/api/v1/namespaces/{ns}/configmaps", body)
        assert failed.status_code == 500
        assert failed.json()["message"] == (
            'Internal error occurred: failed calling webhook "down.peer.test": failed to call webhook: '
            "the server responded with status 500"
        )
        config["webhooks"][0]["failurePolicy"] = "Ignore"
        current = http.get(f"{ADMISSION}/validatingwebhookconfigurations/down").json()
        http.put(
            f"{ADMISSION}/validatingwebhookconfigurations/down", {**current, "webhooks": config["webhooks"]}
        )
        assert http.post(f"/api/v1/namespaces/{ns}/configmaps", body).status_code == 201
    finally:
        http.delete(f"{ADMISSION}/validatingwebhookconfigurations/down")


def test_validating_admission_policy_denies_and_warns(http: Http, ns: str) -> None:
    # kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy: "demo-policy.example.com"
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "demo-policy.example.com"},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": ["apps"],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": ["deployments"],
                    }
                ]
            },
            "variables": [{"name": "replicas", "expression": "object.spec.replicas"}],
            "validations": [
                {
                    "expression": "variables.replicas <= 5",
                    "messageExpression": "'replicas ' + string(variables.replicas) + ' > 5'",
                },
                {
                    "expression": "!object.metadata.name.startsWith('tmp-')",
                    "message": "no tmp- names",
                    "reason": "Forbidden",
                },
            ],
        },
    }
    binding: dict[str, Any] = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": "demo-binding-test.example.com"},
        "spec": {
            "policyName": "demo-policy.example.com",
            "validationActions": ["Deny"],
            "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}},
        },
    }
    http.patch(f"/api/v1/namespaces/{ns}", {"metadata": {"labels": {"kubernetes.io/metadata.name": ns}}})
    assert http.post(f"{ADMISSION}/validatingadmissionpolicies", policy).status_code == 201
    assert http.post(f"{ADMISSION}/validatingadmissionpolicybindings", binding).status_code == 201
    deployments = f"/apis/apps/v1/namespaces/{ns}/deployments"
    try:
        ok = http.post(deployments, {"metadata": {"name": "web"}, "spec": {"replicas": 3}})
        assert ok.status_code == 201, ok.text
        many = http.post(deployments, {"metadata": {"name": "big"}, "spec": {"replicas": 7}})
        assert many.status_code == 422
        assert many.json()["message"] == (
            "ValidatingAdmissionPolicy 'demo-policy.example.com' with binding "
            "'demo-binding-test.example.com' denied request: replicas 7 > 5"
        )
        tmp = http.post(deployments, {"metadata": {"name": "tmp-x"}, "spec": {"replicas": 1}})
        assert (tmp.status_code, tmp.json()["reason"]) == (403, "Forbidden")
        binding["spec"]["validationActions"] = ["Warn"]
        current = http.get(
            f"{ADMISSION}/validatingadmissionpolicybindings/demo-binding-test.example.com"
        ).json()
        http.put(
            f"{ADMISSION}/validatingadmissionpolicybindings/demo-binding-test.example.com",
            {**current, "spec": binding["spec"]},
        )
        warned = http.patch(f"{deployments}/web", {"spec": {"replicas": 9}})
        assert warned.status_code == 200
        assert "denied" not in warned.headers["Warning"] and "replicas 9 > 5" in warned.headers["Warning"]
    finally:
        http.delete(f"{ADMISSION}/validatingadmissionpolicybindings/demo-binding-test.example.com")
        http.delete(f"{ADMISSION}/validatingadmissionpolicies/demo-policy.example.com")


def test_a_validating_webhook_on_delete_sees_the_old_object(
    http: Http, ns: str, webhook: tuple[str, str]
) -> None:
    # kopf.on.validate(operations=["DELETE"]): the review carries oldObject, the refusal keeps the object
    url, ca = webhook
    config = hook_config("ValidatingWebhookConfiguration", "keep", f"{url}/keep", ca)
    config["webhooks"][0]["rules"][0]["operations"] = ["DELETE"]
    http.post(f"{ADMISSION}/validatingwebhookconfigurations", config)
    try:
        http.post(
            f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "k", "labels": {"admission": "on"}}}
        )
        http.post(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "free"}})
        refused = http.delete(f"/api/v1/namespaces/{ns}/configmaps/k")
        assert (refused.status_code, refused.json()["message"]) == (
            403,
            'admission webhook "keep.peer.test" denied the request: k stays',
        )
        assert (
            Hook.reviews[-1]["request"]["operation"] == "DELETE"
            and Hook.reviews[-1]["request"]["object"] is None
        )
        assert http.delete(f"/api/v1/namespaces/{ns}/configmaps/free").status_code == 200
        assert http.delete(f"/api/v1/namespaces/{ns}/configmaps").status_code == 403  # deletecollection too
        assert http.get(f"/api/v1/namespaces/{ns}/configmaps/k").status_code == 200
    finally:
        http.delete(f"{ADMISSION}/validatingwebhookconfigurations/keep")
