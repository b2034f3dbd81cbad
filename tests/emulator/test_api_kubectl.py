"""kubectl 1.35 against the embedded API with a kubeconfig it writes (plain http, `--validate=false`)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from api_helpers import Http, helm_template
from kube_emulator.apiserver.apiserver import EmbeddedAPI

pytest_plugins = ["api_fixtures"]

CHART = Path(__file__).resolve().parents[2] / "charts" / "mnft-operator"
WIDGET_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.kubectl.test}
spec:
  group: kubectl.test
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wdg]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, minimum: 1, default: 3}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""


def test_kubeconfig_points_at_the_server(api: EmbeddedAPI, tmp_path: Path) -> None:
    config = api.write_kubeconfig(tmp_path / "k" / "config", context="ctx", namespace="ns1")
    text = config.read_text()
    assert f"server: {api.url}" in text and "current-context: ctx" in text and "namespace: ns1" in text
    assert config.stat().st_mode & 0o777 == 0o600


def test_api_resources_and_get(kubectl, http: Http) -> None:
    resources = kubectl("api-resources").stdout
    assert "pods" in resources and "customresourcedefinitions" in resources
    assert kubectl("get", "namespaces", "-o", "name").stdout.split() == [
        "namespace/default",
        "namespace/kube-node-lease",
        "namespace/kube-public",
        "namespace/kube-system",
    ]
    event = {
        "metadata": {"name": "ev"},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
        "reason": "Tested",
        "message": "hello",
        "type": "Normal",
    }
    http.post("/api/v1/namespaces/default/events", event)
    header, row = kubectl("get", "events").stdout.splitlines()
    assert header.split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert row.split()[1:] == ["Normal", "Tested", "pod/p", "hello"]


def test_crd_apply_wait_and_custom_resource_lifecycle(kubectl) -> None:
    assert "created" in kubectl("apply", "--validate=false", "-f", "-", stdin=WIDGET_CRD).stdout
    kubectl("wait", "--for=condition=Established", "crd/widgets.kubectl.test", "--timeout=20s")
    manifest = "apiVersion: kubectl.test/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 2}\n"
    kubectl("apply", "--validate=false", "-f", "-", stdin=manifest)
    table = kubectl("get", "wdg").stdout.splitlines()
    assert table[0].split() == ["NAME", "SIZE", "AGE"] and table[1].split()[:2] == ["w1", "2"]
    kubectl("apply", "--validate=false", "-f", "-", stdin=manifest.replace("size: 2", "size: 5"))
    assert kubectl("get", "widget", "w1", "-o", "jsonpath={.spec.size}").stdout == "5"
    bad = kubectl(
        "apply", "--validate=false", "-f", "-", stdin=manifest.replace("size: 2", "size: 0"), ok=False
    )
    assert bad.returncode == 1
    assert (
        'The Widget "w1" is invalid: spec.size: Invalid value: 0: spec.size in body should be greater than '
        "or equal to 1"
    ) in bad.stderr
    server_side = manifest.replace("w1", "w2").replace("size: 2", "size: 4")
    applied = kubectl("apply", "--server-side", "--validate=false", "-f", "-", stdin=server_side)
    assert "serverside-applied" in applied.stdout
    kubectl("patch", "widget", "w2", "--type=merge", "-p", '{"spec":{"size":6}}')
    kubectl(
        "patch", "widget", "w2", "--subresource=status", "--type=merge", "-p", '{"status":{"phase":"Done"}}'
    )
    assert kubectl("get", "widget", "w2", "-o", "jsonpath={.spec.size}/{.status.phase}").stdout == "6/Done"
    kubectl("delete", "widget", "w1", "w2")
    assert kubectl("get", "widgets", "-o", "name").stdout == ""


def test_pod_apply_patch_logs_wait_delete(kubectl, api: EmbeddedAPI, http: Http) -> None:
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: kp, labels: {app: demo}}\n"
        "spec: {containers: [{name: main, image: x, env: [{name: A, value: '1'}]}]}\n"
    )
    kubectl("apply", "--validate=false", "-f", "-", stdin=pod)
    kubectl("apply", "--validate=false", "-f", "-", stdin=pod.replace("image: x", "image: busybox:2"))
    assert kubectl("get", "pod", "kp", "-o", "jsonpath={.spec.containers[0].image}").stdout == "busybox:2"
    env_change = kubectl(
        "apply", "--validate=false", "-f", "-", stdin=pod.replace("value: '1'", "value: '2'"), ok=False
    )
    assert env_change.returncode == 1 and "pod updates may not change fields" in env_change.stderr
    kubectl("patch", "pod", "kp", "-p", '{"metadata":{"labels":{"extra":"yes"}}}')
    assert kubectl("get", "pods", "-l", "app=demo,extra=yes", "-o", "name").stdout.strip() == "pod/kp"
    assert api.log_dir is not None
    log = api.log_dir / "default" / "kp" / "main.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("hello from kp\n")
    assert kubectl("logs", "kp").stdout == "hello from kp\n"

    def succeed() -> None:
        time.sleep(0.5)
        http.patch("/api/v1/namespaces/default/pods/kp/status", {"status": {"phase": "Succeeded"}})

    threading.Thread(target=succeed).start()
    kubectl("wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/kp", "--timeout=20s")
    kubectl("delete", "pod", "kp", "--wait=true", "--timeout=20s")
    assert (
        kubectl("get", "pod", "kp", ok=False).stderr.strip()
        == 'Error from server (NotFound): pods "kp" not found'
    )


def test_helm_chart_output_is_accepted(kubectl) -> None:
    if not (CHART / "Chart.yaml").exists():
        pytest.skip("the chart is not in this checkout")
    rendered = helm_template("mnft", str(CHART), "--namespace", "default")
    result = kubectl("apply", "--validate=false", "-f", "-", stdin=rendered)
    assert "deployment.apps/" in result.stdout and "clusterrole.rbac.authorization.k8s.io/" in result.stdout
    server_side = kubectl("apply", "--server-side", "--validate=false", "-f", "-", stdin=rendered)
    assert "serverside-applied" in server_side.stdout


def test_validation_without_validate_false_is_left_to_the_server(kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=WIDGET_CRD)
    kubectl("wait", "--for=condition=Established", "crd/widgets.kubectl.test", "--timeout=20s")
    typo = "apiVersion: kubectl.test/v1\nkind: Widget\nmetadata: {name: typo}\nspec: {size: 2, sise: 3}\n"
    strict = kubectl("apply", "-f", "-", stdin=typo, ok=False)
    assert strict.returncode == 1
    assert strict.stderr.strip() == (
        'Error from server (BadRequest): error when creating "STDIN": Widget in version "v1" cannot be '
        'handled as a Widget: strict decoding error: unknown field "spec.sise"'
    )
    warned = kubectl("apply", "--validate=warn", "-f", "-", stdin=typo)
    assert 'Warning: unknown field "spec.sise"' in warned.stderr
    assert kubectl("get", "widget", "typo", "-o", "jsonpath={.spec}").stdout == '{"size":2}'
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\ndata: {a: b}\n"
    assert "configmap/plain created" in kubectl("apply", "-f", "-", stdin=cm).stdout
