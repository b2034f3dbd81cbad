"""The chart and the examples applied with the real kubectl to the embedded API server over HTTP.

`helm template` output must be accepted (CRD, RBAC, Deployment), the CRD must then serve
MobileNetFineTune, every example in manifests/examples/ must be accepted (and defaulted), and every file
in tests/invalid_examples/ must be rejected with kubectl's error naming the field of its
`# expect-field:` line, leaving nothing behind.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from api_helpers import helm_template, run_kubectl
from kube_emulator.apiserver.apiserver import EmbeddedAPI

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "mnft-operator"
EXAMPLES = sorted((REPO / "manifests" / "examples").glob("*.yaml"))
INVALID = sorted((REPO / "tests" / "invalid_examples").glob("*.yaml"))
CRD_NAME = "mobilenetfinetunes.finetune.mindspore.io"


class Kubectl:
    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_kubectl(self.kubeconfig, *args, stdin=stdin)

    def ok(self, *args: str, stdin: str | None = None) -> str:
        done = self.run(*args, stdin=stdin)
        assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
        return done.stdout

    def namespace(self, name: str) -> None:
        # apply sends JSON; `kubectl create namespace` would send protobuf.
        self.ok(
            "apply",
            "--validate=false",
            "-f",
            "-",
            stdin=f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n",
        )

    def get(self, *args: str) -> dict[str, Any]:
        return dict(json.loads(self.ok("get", *args, "-o", "json")))


def header(path: Path, key: str) -> str | None:
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            return None
        name, _, value = line[1:].partition(":")
        if name.strip() == key:
            return value.strip()
    return None


def custom_resources(path: Path) -> list[dict[str, Any]]:
    docs = yaml.safe_load_all(path.read_text(encoding="utf-8"))
    return [d for d in docs if isinstance(d, dict) and d.get("kind") == "MobileNetFineTune"]


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    with EmbeddedAPI() as api:
        client = Kubectl(api.write_kubeconfig(tmp_path_factory.mktemp("install") / "kubeconfig"))
        client.namespace("mnft-system")
        client.ok(
            "apply",
            "--validate=false",
            "-f",
            "-",
            stdin=helm_template("mnft", str(CHART), "-n", "mnft-system"),
        )
        yield client


def test_chart_objects_are_accepted_as_rendered(kubectl: Kubectl) -> None:
    rendered = {
        (d["kind"], d["metadata"]["name"]): d
        for d in yaml.safe_load_all(helm_template("mnft", str(CHART), "-n", "mnft-system"))
        if d
    }
    assert sorted(rendered) == [
        ("ClusterRole", "mnft-operator"),
        ("ClusterRoleBinding", "mnft-operator"),
        ("CustomResourceDefinition", CRD_NAME),
        ("Deployment", "mnft-operator"),
        ("ServiceAccount", "mnft-operator"),
    ]
    role = kubectl.get("clusterrole", "mnft-operator")
    assert role["rules"] == rendered[("ClusterRole", "mnft-operator")]["rules"]
    binding = kubectl.get("clusterrolebinding", "mnft-operator")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "mnft-operator", "namespace": "mnft-system"}
    ]
    deploy = kubectl.get("-n", "mnft-system", "deployment", "mnft-operator")
    expected_pod = rendered[("Deployment", "mnft-operator")]["spec"]["template"]["spec"]
    assert deploy["spec"]["template"]["spec"]["containers"] == expected_pod["containers"]
    assert deploy["spec"]["template"]["spec"]["securityContext"] == expected_pod["securityContext"]
    assert deploy["spec"]["strategy"] == {"type": "Recreate"}
    assert (
        kubectl.get("-n", "mnft-system", "serviceaccount", "mnft-operator")["metadata"]["labels"][
            "app.kubernetes.io/instance"
        ]
        == "mnft"
    )
    crd = kubectl.get("crd", CRD_NAME)
    assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    # The CRD now serves its resource, by plural and by short name.
    assert "No resources found" in kubectl.run("get", "mft", "-n", "mnft-system").stderr


def test_namespaced_install_creates_roles_only_where_watched(kubectl: Kubectl) -> None:
    for namespace in ("team-a", "team-b", "ops"):
        kubectl.namespace(namespace)
    rendered = helm_template(
        "ops",
        str(CHART),
        "-n",
        "ops",
        "--set",
        "crds.install=false",
        "--set",
        "watchNamespaces={team-a,team-b}",
    )
    out = kubectl.ok("apply", "--validate=false", "-f", "-", stdin=rendered)
    assert "role.rbac.authorization.k8s.io/ops-mnft-operator created" in out
    for namespace in ("team-a", "team-b"):
        role = kubectl.get("-n", namespace, "role", "ops-mnft-operator")
        assert {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]} in role["rules"]
        binding = kubectl.get("-n", namespace, "rolebinding", "ops-mnft-operator")
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "ops-mnft-operator", "namespace": "ops"}
        ]
    assert kubectl.get("-n", "ops", "role")["items"] == []
    cluster_role = kubectl.get("clusterrole", "ops-mnft-operator")
    assert {r["resources"][0] for r in cluster_role["rules"]} == {"customresourcedefinitions", "namespaces"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_is_accepted_and_defaulted(kubectl: Kubectl, path: Path) -> None:
    namespace = f"example-{path.stem}"
    kubectl.namespace(namespace)
    kubectl.ok("apply", "--validate=false", "-n", namespace, "-f", str(path))
    for resource in custom_resources(path):
        stored = kubectl.get("-n", namespace, "mft", resource["metadata"]["name"])
        spec = stored["spec"]
        for key, value in resource["spec"].items():
            assert spec[key] == value or isinstance(value, dict), key
            if isinstance(value, dict):
                assert value.items() <= spec[key].items(), key
        # Defaults from the CRD schema were filled in by the server.
        assert spec["communication"]["schedulerPort"] == resource["spec"].get("communication", {}).get(
            "schedulerPort", 8118
        )
        assert spec["runPolicy"]["backoffLimit"] == resource["spec"].get("runPolicy", {}).get(
            "backoffLimit", 3
        )
        assert spec["eval"]["enabled"] == resource["spec"].get("eval", {}).get("enabled", True)


@pytest.mark.parametrize("path", INVALID, ids=[p.name for p in INVALID])
def test_every_invalid_example_is_rejected_naming_the_field(kubectl: Kubectl, path: Path) -> None:
    field = header(path, "expect-field")
    assert field, f"{path.name}: needs a `# expect-field:` line"
    namespace = f"invalid-{path.stem}"
    kubectl.namespace(namespace)
    (resource,) = custom_resources(path)
    name = resource["metadata"]["name"]
    update_of = header(path, "update-of")
    if update_of:
        kubectl.ok("apply", "--validate=false", "-n", namespace, "-f", str(REPO / update_of))
        before = kubectl.get("-n", namespace, "mft", name)
    done = kubectl.run("apply", "--validate=false", "-n", namespace, "-f", str(path))
    if header(path, "rejected-by") == "operator":
        # No schema can say the rule: stored; the operator fails the job (InvalidSpec) naming the field.
        assert done.returncode == 0, done.stderr
        return
    assert done.returncode != 0
    if "unsupported value: NaN" in done.stderr or "unsupported value: +Inf" in done.stderr:
        # kubectl cannot encode NaN/Infinity as JSON: nothing reaches the server.
        assert "NotFound" in kubectl.run("get", "-n", namespace, "mft", name).stderr
        return
    assert f'The MobileNetFineTune "{name}" is invalid' in done.stderr
    # kubectl prints `... is invalid: <field>: <why>`, or one `* <field>: <why>` line per error; a rule on
    # the whole object (metadata.name) is at `<nil>` and names the field first in its message.
    at = rf"({re.escape(field)}: |<nil>: Invalid value: \"object\": {re.escape(field)} )"
    assert re.search(rf"(is invalid: |^\* ){at}", done.stderr, re.MULTILINE), done.stderr
    if update_of:
        assert kubectl.get("-n", namespace, "mft", name)["spec"] == before["spec"]
    else:
        assert "NotFound" in kubectl.run("get", "-n", namespace, "mft", name).stderr
