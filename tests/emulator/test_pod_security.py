"""The Pod Security Standards checker: one failing and one passing pod per documented rule."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

MODULE = Path(__file__).resolve().parents[2] / "emulator/src/kube_emulator/apiserver/pod_security.py"


def _load() -> Any:
    try:
        from kube_emulator.apiserver import pod_security

        return pod_security
    except ImportError:  # before the emulator package is installed: load the file itself
        spec = importlib.util.spec_from_file_location("pod_security", MODULE)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["pod_security"] = module
        spec.loader.exec_module(module)
        return module


ps = _load()

RESTRICTED_SC = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def good_pod() -> dict[str, Any]:
    """A pod passing every restricted rule: each container carries the whole restricted context."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65532,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "initContainers": [
                {"name": "init", "image": "i", "securityContext": copy.deepcopy(RESTRICTED_SC)}
            ],
            "containers": [
                {
                    "name": "c",
                    "image": "i",
                    "securityContext": copy.deepcopy(RESTRICTED_SC),
                    "ports": [{"containerPort": 8080}],
                    "livenessProbe": {"httpGet": {"path": "/", "port": 8080}},
                }
            ],
            "volumes": [
                {"name": "a", "emptyDir": {}},
                {"name": "b", "persistentVolumeClaim": {"claimName": "x"}},
                {"name": "c", "configMap": {"name": "x"}},
                {"name": "d", "secret": {"secretName": "x"}},
                {"name": "e", "projected": {"sources": []}},
                {"name": "f", "downwardAPI": {"items": []}},
                {"name": "g", "csi": {"driver": "d"}},
                {"name": "h", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
            ],
        },
    }


def paths(pod: dict[str, Any], level: str = "restricted") -> list[str]:
    return [v.path for v in ps.check_pod(pod, level)]


def test_good_pod_passes_restricted_and_baseline() -> None:
    assert ps.check_pod(good_pod()) == []
    assert ps.check_pod(good_pod(), "baseline") == []


def test_pod_level_context_covers_containers() -> None:
    pod = good_pod()
    for c in pod["spec"]["containers"] + pod["spec"]["initContainers"]:
        del c["securityContext"]["runAsNonRoot"], c["securityContext"]["seccompProfile"]
    assert ps.check_pod(pod) == []


def test_empty_pod_fails_the_four_rules_the_issue_names() -> None:
    pod = {"kind": "Pod", "spec": {"containers": [{"name": "c", "image": "i"}]}}
    assert sorted({v.rule for v in ps.check_pod(pod)}) == [
        "Capabilities",
        "Privilege Escalation",
        "Running as Non-root",
        "Seccomp",
    ]
    assert ps.check_pod(pod, "baseline") == []
    assert ps.check_pod(pod, "privileged") == []


def _mutated(where: str, change: Any) -> dict[str, Any]:
    pod = good_pod()
    change(pod["spec"], pod["spec"]["containers"][0], pod)
    return pod


C0 = "spec.containers[0]"
# (rule function, mutation, the path reported, level at which it fails)
CASES: list[tuple[str, Any, str, str]] = [
    (
        "host_process",
        lambda s, c, p: c["securityContext"].update(windowsOptions={"hostProcess": True}),
        f"{C0}.securityContext.windowsOptions.hostProcess",
        "baseline",
    ),
    ("host_namespaces", lambda s, c, p: s.update(hostNetwork=True), "spec.hostNetwork", "baseline"),
    ("host_namespaces", lambda s, c, p: s.update(hostPID=True), "spec.hostPID", "baseline"),
    ("host_namespaces", lambda s, c, p: s.update(hostIPC=True), "spec.hostIPC", "baseline"),
    (
        "privileged",
        lambda s, c, p: c["securityContext"].update(privileged=True),
        f"{C0}.securityContext.privileged",
        "baseline",
    ),
    (
        "capabilities_baseline",
        lambda s, c, p: c["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]),
        f"{C0}.securityContext.capabilities.add[0]",
        "baseline",
    ),
    (
        "host_path_volumes",
        lambda s, c, p: s["volumes"].append({"name": "h", "hostPath": {"path": "/"}}),
        "spec.volumes[8].hostPath",
        "baseline",
    ),
    (
        "host_ports",
        lambda s, c, p: c["ports"][0].update(hostPort=80),
        f"{C0}.ports[0].hostPort",
        "baseline",
    ),
    (
        "host_probes",
        lambda s, c, p: c["livenessProbe"]["httpGet"].update(host="10.0.0.1"),
        f"{C0}.livenessProbe.httpGet.host",
        "baseline",
    ),
    (
        "apparmor",
        lambda s, c, p: s["securityContext"].update(appArmorProfile={"type": "Unconfined"}),
        "spec.securityContext.appArmorProfile.type",
        "baseline",
    ),
    (
        "apparmor",
        lambda s, c, p: p["metadata"].update(
            annotations={"container.apparmor.security.beta.kubernetes.io/c": "unconfined"}
        ),
        "metadata.annotations[container.apparmor.security.beta.kubernetes.io/c]",
        "baseline",
    ),
    (
        "selinux",
        lambda s, c, p: c["securityContext"].update(seLinuxOptions={"type": "spc_t"}),
        f"{C0}.securityContext.seLinuxOptions.type",
        "baseline",
    ),
    (
        "selinux",
        lambda s, c, p: s["securityContext"].update(seLinuxOptions={"user": "root"}),
        "spec.securityContext.seLinuxOptions.user",
        "baseline",
    ),
    (
        "proc_mount",
        lambda s, c, p: c["securityContext"].update(procMount="Unmasked"),
        f"{C0}.securityContext.procMount",
        "baseline",
    ),
    (
        "seccomp_baseline",
        lambda s, c, p: c["securityContext"].update(seccompProfile={"type": "Unconfined"}),
        f"{C0}.securityContext.seccompProfile.type",
        "baseline",
    ),
    (
        "sysctls",
        lambda s, c, p: s["securityContext"].update(sysctls=[{"name": "kernel.msgmax", "value": "1"}]),
        "spec.securityContext.sysctls[0].name",
        "baseline",
    ),
    (
        "volume_types",
        lambda s, c, p: s["volumes"].append({"name": "n", "nfs": {"server": "s", "path": "/"}}),
        "spec.volumes[8].nfs",
        "restricted",
    ),
    (
        "privilege_escalation",
        lambda s, c, p: c["securityContext"].pop("allowPrivilegeEscalation"),
        f"{C0}.securityContext.allowPrivilegeEscalation",
        "restricted",
    ),
    (
        "privilege_escalation",
        lambda s, c, p: c["securityContext"].update(allowPrivilegeEscalation=True),
        f"{C0}.securityContext.allowPrivilegeEscalation",
        "restricted",
    ),
    (
        "run_as_non_root",
        lambda s, c, p: s["securityContext"].update(runAsNonRoot=False),
        "spec.securityContext.runAsNonRoot",
        "restricted",
    ),
    (
        "run_as_non_root",
        lambda s, c, p: c["securityContext"].update(runAsNonRoot=False),
        f"{C0}.securityContext.runAsNonRoot",
        "restricted",
    ),
    (
        "run_as_user",
        lambda s, c, p: c["securityContext"].update(runAsUser=0),
        f"{C0}.securityContext.runAsUser",
        "restricted",
    ),
    (
        "run_as_user",
        lambda s, c, p: s["securityContext"].update(runAsUser=0),
        "spec.securityContext.runAsUser",
        "restricted",
    ),
    (
        "seccomp_restricted",
        lambda s, c, p: (
            s["securityContext"].pop("seccompProfile"),
            c["securityContext"].pop("seccompProfile"),
        ),
        f"{C0}.securityContext.seccompProfile.type",
        "restricted",
    ),
    (
        "capabilities_restricted",
        lambda s, c, p: c["securityContext"]["capabilities"].update(drop=["NET_RAW"]),
        f"{C0}.securityContext.capabilities.drop",
        "restricted",
    ),
    (
        "capabilities_restricted",
        lambda s, c, p: c["securityContext"]["capabilities"].update(add=["CHOWN"]),
        f"{C0}.securityContext.capabilities.add[0]",
        "restricted",
    ),
]


@pytest.mark.parametrize(("rule", "change", "path", "level"), CASES, ids=[f"{c[0]}:{c[2]}" for c in CASES])
def test_each_rule_fails_on_its_field(rule: str, change: Any, path: str, level: str) -> None:
    pod = _mutated(rule, change)
    function = getattr(ps, rule)
    assert function(good_pod_view(good_pod())) == []
    assert [v.path for v in function(good_pod_view(pod))] == [path]
    assert path in paths(pod, "restricted")
    assert (path in paths(pod, "baseline")) == (level == "baseline")


def good_pod_view(pod: dict[str, Any]) -> Any:
    return ps._pod_of(pod)


def test_net_bind_service_may_be_added_under_restricted() -> None:
    pod = good_pod()
    pod["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] = ["NET_BIND_SERVICE"]
    assert ps.check_pod(pod) == []


def test_localhost_profiles_and_container_selinux_types_are_allowed() -> None:
    pod = good_pod()
    sc = pod["spec"]["containers"][0]["securityContext"]
    sc["seccompProfile"] = {"type": "Localhost", "localhostProfile": "p.json"}
    sc["appArmorProfile"] = {"type": "Localhost", "localhostProfile": "p"}
    sc["seLinuxOptions"] = {"type": "container_init_t", "level": "s0:c1"}
    pod["spec"]["securityContext"]["sysctls"] = [{"name": "net.ipv4.ip_local_port_range", "value": "1 2"}]
    pod["metadata"]["annotations"] = {"container.apparmor.security.beta.kubernetes.io/c": "runtime/default"}
    assert ps.check_pod(pod) == []


def test_init_and_ephemeral_containers_are_checked() -> None:
    pod = good_pod()
    pod["spec"]["initContainers"][0]["securityContext"]["privileged"] = True
    pod["spec"]["ephemeralContainers"] = [{"name": "dbg", "image": "i"}]
    found = paths(pod)
    assert "spec.initContainers[0].securityContext.privileged" in found
    assert "spec.ephemeralContainers[0].securityContext.allowPrivilegeEscalation" in found


def test_workload_templates_and_bare_specs_get_their_own_paths() -> None:
    pod = good_pod()
    deployment: dict[str, Any] = {
        "kind": "Deployment",
        "spec": {"template": {"metadata": {}, "spec": copy.deepcopy(pod["spec"])}},
    }
    deployment["spec"]["template"]["spec"]["hostPID"] = True
    assert paths(deployment) == ["spec.template.spec.hostPID"]
    bare = copy.deepcopy(pod["spec"])
    bare["hostIPC"] = True
    assert paths(bare) == ["spec.hostIPC"]


def test_violation_reads_as_one_line() -> None:
    (v,) = ps.check_pod(_mutated("", lambda s, c, p: s.update(hostNetwork=True)))
    assert str(v) == "spec.hostNetwork: must be unset or false (Host Namespaces)"


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="level must be one of"):
        ps.check_pod(good_pod(), "strict")
