"""Pod security of everything the operator creates: the restricted defaults, the user's two security
fields merged over them, and every rendered example and the chart's Deployment checked against all
Pod Security Standard "restricted" rules (kube_emulator.apiserver.pod_security, written from the docs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kube_emulator.apiserver.pod_security import check_pod
from mnft_operator.builders.pods import build_pod
from mnft_operator.render_cli import render
from mnft_operator.spec import parse

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "manifests" / "examples").glob("*.yaml"))
SHA = "ab" * 32


def job(**spec: Any) -> dict[str, Any]:
    base = {"platform": "CPU", "image": "mnft-trainer:0.1.0", "dataset": {"path": "/data"}}
    return {"metadata": {"name": "flowers", "namespace": "ml", "uid": "u"}, "spec": {**base, **spec}}


def all_containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod["spec"].get("initContainers", []), *pod["spec"]["containers"]]


def test_defaults_pass_restricted_with_no_security_field_set() -> None:
    pod = build_pod(parse(job(pretrained={"url": "https://h/m.ckpt", "sha256": SHA})), 0, 0)
    assert [c["name"] for c in all_containers(pod)] == ["fetch-checkpoint", "trainer"]
    assert check_pod(pod) == []
    assert pod["spec"]["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "fsGroup": 65532,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    for container in all_containers(pod):
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        }
    assert pod["spec"]["automountServiceAccountToken"] is False


def test_user_fields_merge_over_the_defaults_and_all_stays_dropped() -> None:
    spec = job(
        podSecurityContext={
            "runAsUser": 1000,
            "supplementalGroups": [1000, 44],
            "fsGroupChangePolicy": "Always",
        },
        securityContext={
            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["NET_RAW"]},
            "seccompProfile": {"type": "Localhost", "localhostProfile": "npu.json"},
            "readOnlyRootFilesystem": True,
        },
        pretrained={"url": "https://h/m.ckpt", "sha256": SHA},
    )
    pod = build_pod(parse(spec), 0, 0)
    assert pod["spec"]["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "runAsGroup": 65532,
        "fsGroup": 65532,
        "fsGroupChangePolicy": "Always",
        "seccompProfile": {"type": "RuntimeDefault"},
        "supplementalGroups": [1000, 44],
    }
    for container in all_containers(pod):
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL", "NET_RAW"]},
            "seccompProfile": {"type": "Localhost", "localhostProfile": "npu.json"},
            "readOnlyRootFilesystem": True,
        }
    assert check_pod(pod) == []


def test_an_empty_drop_list_cannot_remove_all() -> None:
    pod = build_pod(parse(job(securityContext={"capabilities": {"drop": []}})), 0, 0)
    assert pod["spec"]["containers"][0]["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_host_path_allowed_by_the_operator_fails_only_the_volume_rules() -> None:
    spec = job(output={"volume": {"hostPath": {"path": "/srv/out"}}})
    pod = build_pod(parse(spec, allow_host_path=True), 0, 0)
    assert sorted((v.rule, v.path) for v in check_pod(pod)) == [
        ("HostPath Volumes", "spec.volumes[0].hostPath"),
        ("Volume Types", "spec.volumes[0].hostPath"),
    ]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_rendered_example_passes_restricted(path: Path) -> None:
    """The pods `mnft render` shows for each job, and any pod template an example ships itself."""
    docs = [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]
    pods = [o for d in docs if d.get("kind") == "MobileNetFineTune" for o in render(d) if o["kind"] == "Pod"]
    pods += [d for d in docs if d.get("kind") in ("Pod", "Job", "Deployment")]
    assert pods
    for pod in pods:
        assert [str(v) for v in check_pod(pod)] == [], pod["metadata"]["name"]
