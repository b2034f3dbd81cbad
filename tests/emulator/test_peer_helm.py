"""Peer clients, helm 4 (the real binary from .venv/bin) against the embedded API over HTTPS: install,
upgrade that drops a key, rollback, a conflict with another field manager, uninstall, of the small chart
in data/peer-chart (a ConfigMap, a Service and a Deployment).

Helm 4 applies manifests server-side (fieldManager "helm") and keeps its releases in Secrets written
with client-go's protobuf encoding, so this suite needs the protobuf decoding, managedFields, conflicts
and field removal of the emulator's server-side apply.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from api_helpers import HELM, run_kubectl
from kube_emulator.apiserver.apiserver import EmbeddedAPI

pytest_plugins = ["api_fixtures"]

CHART = Path(__file__).parent / "data" / "peer-chart"


class Cluster:
    def __init__(self, config: Path, home: Path) -> None:
        self.config = config
        self.env = {
            "KUBECONFIG": str(config),
            "HOME": str(home),
            "HELM_CACHE_HOME": str(home / "cache"),
            "HELM_CONFIG_HOME": str(home / "config"),
            "HELM_DATA_HOME": str(home / "data"),
            "PATH": "/usr/bin:/bin",
        }

    def helm(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([HELM, *args], capture_output=True, text=True, env=self.env, timeout=120)
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    def kubectl(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = run_kubectl(self.config, *args)
        assert result.returncode == 0, result.stderr
        return result

    def get(self, *args: str) -> dict:
        return json.loads(self.kubectl("get", *args, "-o", "json", "--show-managed-fields").stdout)


@pytest.fixture
def cluster(api: EmbeddedAPI, tmp_path: Path) -> Cluster:
    return Cluster(api.write_kubeconfig(tmp_path / "kube" / "config"), tmp_path / "home")


def releases(cluster: Cluster, ns: str) -> list[tuple[str, str]]:
    """(secret name, status label) of helm's release Secrets, in revision order."""
    items = cluster.get("secrets", "-n", ns, "-l", "owner=helm")["items"]
    pairs = [(s["metadata"]["name"], s["metadata"]["labels"]["status"]) for s in items]
    return sorted(pairs, key=lambda p: int(p[0].rpartition(".v")[2]))


def test_helm_install_upgrade_removing_a_key_rollback_uninstall(cluster: Cluster, ns: str) -> None:
    # helm install demo ./peer-chart
    cluster.helm("install", "demo", str(CHART), "-n", ns)
    settings = cluster.get("configmap", "demo-settings", "-n", ns)
    assert settings["data"] == {"greeting": "hello", "legacy": "yes"}
    assert [(m["manager"], m["operation"]) for m in settings["metadata"]["managedFields"]] == [
        ("helm", "Apply")
    ]
    deployment = cluster.get("deployment", "demo-web", "-n", ns)["spec"]
    assert deployment["replicas"] == 0
    assert deployment["template"]["spec"]["containers"][0]["env"] == [{"name": "LEGACY", "value": "yes"}]
    assert cluster.get("service", "demo-web", "-n", ns)["spec"]["ports"][0]["targetPort"] == "http"
    assert releases(cluster, ns) == [("sh.helm.release.v1.demo.v1", "deployed")]
    secret = cluster.get("secret", "sh.helm.release.v1.demo.v1", "-n", ns)
    assert secret["type"] == "helm.sh/release.v1" and base64.b64decode(secret["data"]["release"])

    # helm upgrade demo ./peer-chart --set legacy=false: the key and the env entry are gone
    cluster.helm("upgrade", "demo", str(CHART), "-n", ns, "--set", "legacy=false")
    assert cluster.get("configmap", "demo-settings", "-n", ns)["data"] == {"greeting": "hello"}
    container = cluster.get("deployment", "demo-web", "-n", ns)["spec"]["template"]["spec"]["containers"][0]
    assert "env" not in container and container["image"] == "nginx:1"
    assert releases(cluster, ns) == [
        ("sh.helm.release.v1.demo.v1", "superseded"),
        ("sh.helm.release.v1.demo.v2", "deployed"),
    ]

    # helm rollback demo 1: the key is back
    cluster.helm("rollback", "demo", "1", "-n", ns)
    assert cluster.get("configmap", "demo-settings", "-n", ns)["data"] == {
        "greeting": "hello",
        "legacy": "yes",
    }
    history = cluster.helm("history", "demo", "-n", ns, "-o", "json").stdout
    assert [(r["revision"], r["status"]) for r in json.loads(history)] == [
        (1, "superseded"),
        (2, "superseded"),
        (3, "deployed"),
    ]
    assert "demo" in cluster.helm("list", "-n", ns, "-q").stdout.split()

    # helm uninstall demo: the chart's objects and the release Secrets are gone
    cluster.helm("uninstall", "demo", "-n", ns)
    left = cluster.kubectl("get", "configmaps,services,deployments,secrets", "-n", ns, "-o", "name").stdout
    assert [n for n in left.split() if "demo" in n] == []


def test_helm_upgrade_conflicts_with_a_field_another_manager_changed(cluster: Cluster, ns: str) -> None:
    # kubectl patch takes .data.greeting (an Update by "kubectl-patch"); helm's next apply changes that
    # field: a 409 Conflict that names the manager, until `helm upgrade --force-conflicts`.
    cluster.helm("install", "clash", str(CHART), "-n", ns)
    cluster.kubectl("patch", "configmap", "clash-settings", "-n", ns, "-p", '{"data":{"greeting":"hi"}}')
    failed = cluster.helm("upgrade", "clash", str(CHART), "-n", ns, "--set", "greeting=bye", ok=False)
    assert failed.returncode == 1
    assert (
        'Apply failed with 1 conflict: conflict with "kubectl-patch" using v1: .data.greeting'
        in failed.stderr
    )
    assert cluster.get("configmap", "clash-settings", "-n", ns)["data"]["greeting"] == "hi"
    cluster.helm("upgrade", "clash", str(CHART), "-n", ns, "--set", "greeting=bye", "--force-conflicts")
    settings = cluster.get("configmap", "clash-settings", "-n", ns)
    assert settings["data"] == {"greeting": "bye", "legacy": "yes"}
    owners = {m["manager"]: m["fieldsV1"] for m in settings["metadata"]["managedFields"]}
    assert "f:greeting" in owners["helm"]["f:data"] and "kubectl-patch" not in owners
    cluster.helm("uninstall", "clash", "-n", ns)
