"""kopf 1.45 (a real `kopf run` process) against the embedded API: the bed the operator stands on.

Create / update / delete of a custom resource with kopf's finalizer, an adopted child, status patches,
events and a pod index, with no error in kopf's log.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from api_helpers import Http, wait_for
from kube_emulator.apiserver.apiserver import EmbeddedAPI

pytest_plugins = ["api_fixtures"]

GROUP = "kopf.mnft.io"
OPERATOR = """
import os
import kopf
from kubernetes import client

URL = os.environ["API_URL"]


@kopf.on.login()
def login(**_):
    return kopf.ConnectionInfo(server=URL, insecure=True)


@kopf.on.startup()
def configure(settings, **_):
    settings.persistence.finalizer = "kopf.mnft.io/finalizer"
    settings.watching.server_timeout = 30


@kopf.index("pods")
def pods_by_app(labels, name, **_):
    return {labels.get("app"): name}


def core():
    return client.CoreV1Api(client.ApiClient(client.Configuration(host=URL)))


@kopf.on.create("kopf.mnft.io", "v1", "boxes")
def create(spec, name, namespace, body, pods_by_app, logger, **_):
    child = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{name}-child"},
             "data": {"size": str(spec["size"]), "pods": ",".join(sorted(pods_by_app.get("demo", [])))}}
    kopf.adopt(child, owner=body)
    core().create_namespaced_config_map(namespace, child)
    kopf.info(body, reason="ChildCreated", message=f"created {name}-child")
    return {"child": f"{name}-child"}


@kopf.on.update("kopf.mnft.io", "v1", "boxes", field="spec.size")
def resize(new, name, namespace, patch, **_):
    core().patch_namespaced_config_map(f"{name}-child", namespace, {"data": {"size": str(new)}})
    patch.status["size"] = new


@kopf.on.delete("kopf.mnft.io", "v1", "boxes")
def delete(name, logger, **_):
    logger.info(f"cleaning up {name}")
"""


def box_crd() -> dict:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"boxes.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": "boxes", "singular": "box", "kind": "Box"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                            },
                        }
                    },
                }
            ],
        },
    }


def test_kopf_handles_a_custom_resource_lifecycle(api: EmbeddedAPI, http: Http, tmp_path: Path) -> None:
    assert http.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", box_crd()).status_code == 201
    http.post("/api/v1/namespaces", {"metadata": {"name": "kopf"}})
    http.create_pod("demo-pod", "kopf", labels={"app": "demo"})
    script = tmp_path / "operator.py"
    script.write_text(OPERATOR)
    log = tmp_path / "kopf.log"
    env = {**os.environ, "API_URL": api.url, "KUBECONFIG": str(tmp_path / "none")}
    with log.open("w") as out:
        kopf = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kopf",
                "run",
                "--standalone",
                "--namespace",
                "kopf",
                "--verbose",
                str(script),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        wait_for(lambda: api.watch_count(GROUP, "boxes") > 0, timeout=30)
        base = f"/apis/{GROUP}/v1/namespaces/kopf/boxes"
        created = http.post(
            base,
            {"apiVersion": f"{GROUP}/v1", "kind": "Box", "metadata": {"name": "b1"}, "spec": {"size": 1}},
        ).json()
        wait_for(
            lambda: http.get("/api/v1/namespaces/kopf/configmaps/b1-child").status_code == 200, timeout=20
        )
        child = http.get("/api/v1/namespaces/kopf/configmaps/b1-child").json()
        assert child["data"] == {"size": "1", "pods": "demo-pod"}
        owner = child["metadata"]["ownerReferences"][0]
        assert owner["uid"] == created["metadata"]["uid"] and owner["kind"] == "Box" and owner["controller"]
        wait_for(
            lambda: (http.get(f"{base}/b1").json().get("status") or {}).get("create") == {"child": "b1-child"}
        )
        box = http.get(f"{base}/b1").json()
        assert box["metadata"]["finalizers"] == ["kopf.mnft.io/finalizer"]
        events = http.get("/api/v1/namespaces/kopf/events", fieldSelector="involvedObject.name=b1").json()[
            "items"
        ]
        assert "ChildCreated" in {e["reason"] for e in events}

        http.patch(f"{base}/b1", {"spec": {"size": 3}})
        wait_for(
            lambda: http.get("/api/v1/namespaces/kopf/configmaps/b1-child").json()["data"]["size"] == "3"
        )
        wait_for(lambda: (http.get(f"{base}/b1").json().get("status") or {}).get("size") == 3)

        http.delete(f"{base}/b1")
        wait_for(lambda: http.get(f"{base}/b1").status_code == 404, timeout=20)
        wait_for(lambda: http.get("/api/v1/namespaces/kopf/configmaps/b1-child").status_code == 404)
    finally:
        kopf.send_signal(signal.SIGINT)
        try:
            kopf.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kopf.kill()
            kopf.wait()
    text = log.read_text()
    assert "Handler 'create' succeeded" in text, text[-3000:]
    assert "Handler 'resize/spec.size' succeeded" in text
    assert "Handler 'delete' succeeded" in text and "cleaning up b1" in text
    problems = [line for line in text.splitlines() if "[ERROR" in line or "Traceback" in line]
    assert problems == [], json.dumps(problems, indent=1)
