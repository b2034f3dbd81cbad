"""kopf's admission webhooks (a real `kopf run` process with its own HTTPS webhook server) against the
embedded API, as kopf's admission example (examples/17-admission) runs them: kopf registers its
Validating/MutatingWebhookConfiguration itself (`settings.admission.managed`), the API calls it on
every write of the resource, a `kopf.on.mutate` patch is applied and a `kopf.on.validate` refusal with
`kopf.AdmissionError` reaches the client.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from api_helpers import Http, wait_for
from kube_emulator.apiserver import api_tls
from kube_emulator.apiserver.apiserver import EmbeddedAPI

pytest_plugins = ["api_fixtures"]

GROUP = "admission.kopf.test"
OPERATOR = """
import os
import kopf

@kopf.on.login()
def login(**_):
    return kopf.ConnectionInfo(server=os.environ["API_URL"], token=os.environ["API_TOKEN"],
                               ca_path=os.environ["API_CA"])

@kopf.on.startup()
def configure(settings, **_):
    settings.admission.server = kopf.WebhookServer(
        addr="127.0.0.1", host="127.0.0.1", certfile=os.environ["HOOK_CERT"], pkeyfile=os.environ["HOOK_KEY"]
    )
    settings.admission.managed = "auto.kopf.test"

@kopf.on.validate("admission.kopf.test", "v1", "gadgets")
def check(spec, **_):
    if spec.get("field") == "wrong":
        raise kopf.AdmissionError("Meh! I don't like it. Change the field.", code=400)

@kopf.on.mutate("admission.kopf.test", "v1", "gadgets")
def inject(patch, **_):
    patch.spec["injected"] = True
"""


def gadget_crd() -> dict:
    spec = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"gadgets.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": spec}}},
                }
            ],
        },
    }


def test_kopf_validating_and_mutating_webhooks(api: EmbeddedAPI, http: Http, ns: str, tmp_path: Path) -> None:
    assert (
        http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", gadget_crd()).status_code == 201
    )
    cert = api_tls.self_signed("127.0.0.1")
    (tmp_path / "hook.crt").write_bytes(cert.cert_pem)
    (tmp_path / "hook.key").write_bytes(cert.key_pem)
    script = tmp_path / "operator.py"
    script.write_text(OPERATOR)
    env = {
        **os.environ,
        "API_URL": api.url,
        "API_TOKEN": api.token,
        "API_CA": api.ca_file,
        "HOOK_CERT": str(tmp_path / "hook.crt"),
        "HOOK_KEY": str(tmp_path / "hook.key"),
        "KUBECONFIG": str(tmp_path / "none"),
    }
    log = tmp_path / "kopf.log"
    # kopf writes its two configurations one after the other: wait for both before creating anything.
    configs = [
        f"/apis/admissionregistration.k8s.io/v1/{kind}webhookconfigurations/auto.kopf.test"
        for kind in ("validating", "mutating")
    ]
    with log.open("w") as out:
        kopf = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kopf",
                "run",
                "--standalone",
                "--namespace",
                ns,
                "--verbose",
                str(script),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        wait_for(lambda: all((http.get(c).json() or {}).get("webhooks") for c in configs), timeout=60)
        base = f"/apis/{GROUP}/v1/namespaces/{ns}/gadgets"
        gadget = {"apiVersion": f"{GROUP}/v1", "kind": "Gadget", "metadata": {"name": "g1"}}
        created = http.post(base, {**gadget, "spec": {"field": "right"}})
        assert created.status_code == 201, created.text
        assert created.json()["spec"] == {"field": "right", "injected": True}
        refused = http.post(base, {**gadget, "metadata": {"name": "g2"}, "spec": {"field": "wrong"}})
        assert refused.status_code == 400
        assert refused.json()["message"].endswith(
            "denied the request: Meh! I don't like it. Change the field."
        )
        assert http.get(f"{base}/g2").status_code == 404
    finally:
        kopf.send_signal(signal.SIGINT)
        try:
            kopf.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kopf.kill()
            kopf.wait()
    text = log.read_text()
    refusal = "Webhook 'check' failed permanently: Meh! I don't like it. Change the field."
    problems = [line for line in text.splitlines() if ("[ERROR" in line or "Traceback" in line)]
    assert [p for p in problems if not p.endswith(refusal)] == [], text[-3000:]
    assert len(problems) == 1  # kopf logs its own refusal of g2 as an error
