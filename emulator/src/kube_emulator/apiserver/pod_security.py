"""The Pod Security Standards ("baseline" and "restricted") as pure checks, one function per rule.

Written from the rules as https://kubernetes.io/docs/concepts/security/pod-security-standards/ lists
them (the policy Pod Security Admission enforces for `pod-security.kubernetes.io/enforce: <level>`).
Each rule function takes the pod spec and returns its violations, each naming the field path and the
allowed values. Windows-only pods (`spec.os.name: windows`) are out of scope: every pod is checked as a
Linux pod, which is stricter.

    check_pod(pod_or_pod_spec, level="restricted") -> list[Violation]

accepts a Pod, a bare pod spec, or a workload with a pod template (`spec.template.spec`, e.g. a
Deployment or Job); the paths are relative to the object given. Stdlib only, so the embedded API's
admission and the tests can both call it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

LEVELS = ("privileged", "baseline", "restricted")

# Baseline "Capabilities": adding anything outside this list is forbidden.
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
# Baseline "SELinux": allowed seLinuxOptions.type values (besides undefined/"").
SELINUX_TYPES = frozenset({"container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
# Baseline "Sysctls": the safe set.
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
# Restricted "Volume Types": the only volume sources allowed.
RESTRICTED_VOLUME_SOURCES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
SECCOMP_ALLOWED = ("RuntimeDefault", "Localhost")
APPARMOR_ALLOWED = ("RuntimeDefault", "Localhost")
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


@dataclass(frozen=True)
class Violation:
    rule: str  # the documented control, e.g. "Privilege Escalation"
    path: str  # e.g. "spec.containers[0].securityContext.allowPrivilegeEscalation"
    message: str  # what is allowed

    def __str__(self) -> str:
        return f"{self.path}: {self.message} ({self.rule})"


@dataclass(frozen=True)
class _Pod:
    """The pod spec to check, the metadata of its pod (for AppArmor annotations) and their paths."""

    spec: Mapping[str, Any]
    metadata: Mapping[str, Any]
    spec_path: str
    meta_path: str


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _containers(pod: _Pod) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for kind in CONTAINER_LISTS:
        for i, container in enumerate(_list(pod.spec.get(kind))):
            yield f"{pod.spec_path}.{kind}[{i}]", _map(container)


def _pod_sc(pod: _Pod) -> Mapping[str, Any]:
    return _map(pod.spec.get("securityContext"))


def _psc_path(pod: _Pod) -> str:
    return f"{pod.spec_path}.securityContext"


def _csc(container: Mapping[str, Any]) -> Mapping[str, Any]:
    return _map(container.get("securityContext"))


def _contexts(pod: _Pod) -> list[tuple[str, Mapping[str, Any]]]:
    """(path, securityContext) of the pod and of every container."""
    return [(_psc_path(pod), _pod_sc(pod))] + [(f"{p}.securityContext", _csc(c)) for p, c in _containers(pod)]


# ---- baseline -----------------------------------------------------------------------------------------


def host_process(pod: _Pod) -> list[Violation]:
    """HostProcess: windowsOptions.hostProcess must be undefined or false (pod and every container)."""
    out = []
    places = _contexts(pod)
    for path, sc in places:
        if _map(sc.get("windowsOptions")).get("hostProcess") not in (None, False):
            out.append(
                Violation("HostProcess", f"{path}.windowsOptions.hostProcess", "must be unset or false")
            )
    return out


def host_namespaces(pod: _Pod) -> list[Violation]:
    """Host Namespaces: hostNetwork, hostPID, hostIPC must be undefined or false."""
    return [
        Violation("Host Namespaces", f"{pod.spec_path}.{field}", "must be unset or false")
        for field in ("hostNetwork", "hostPID", "hostIPC")
        if pod.spec.get(field) not in (None, False)
    ]


def privileged(pod: _Pod) -> list[Violation]:
    """Privileged Containers: securityContext.privileged must be undefined or false."""
    return [
        Violation("Privileged Containers", f"{path}.securityContext.privileged", "must be unset or false")
        for path, c in _containers(pod)
        if _csc(c).get("privileged") not in (None, False)
    ]


def capabilities_baseline(pod: _Pod) -> list[Violation]:
    """Capabilities (baseline): capabilities.add only from the documented default set."""
    out = []
    for path, c in _containers(pod):
        for i, cap in enumerate(_list(_map(_csc(c).get("capabilities")).get("add"))):
            if cap not in BASELINE_CAPABILITIES:
                out.append(
                    Violation(
                        "Capabilities",
                        f"{path}.securityContext.capabilities.add[{i}]",
                        f"{cap!r} is not allowed; only {', '.join(sorted(BASELINE_CAPABILITIES))}",
                    )
                )
    return out


def host_path_volumes(pod: _Pod) -> list[Violation]:
    """HostPath Volumes: volumes[*].hostPath must be undefined."""
    return [
        Violation(
            "HostPath Volumes", f"{pod.spec_path}.volumes[{i}].hostPath", "hostPath volumes are forbidden"
        )
        for i, volume in enumerate(_list(pod.spec.get("volumes")))
        if _map(volume).get("hostPath") is not None
    ]


def host_ports(pod: _Pod) -> list[Violation]:
    """Host Ports: ports[*].hostPort must be undefined or 0."""
    out = []
    for path, c in _containers(pod):
        for i, port in enumerate(_list(c.get("ports"))):
            if _map(port).get("hostPort") not in (None, 0):
                out.append(Violation("Host Ports", f"{path}.ports[{i}].hostPort", "must be unset or 0"))
    return out


def host_probes(pod: _Pod) -> list[Violation]:
    """Host Probes / Lifecycle Hooks: probe and hook httpGet.host / tcpSocket.host must be undefined or ""."""
    out = []
    for path, c in _containers(pod):
        handlers = [
            (f"{path}.{p}", _map(c.get(p))) for p in ("livenessProbe", "readinessProbe", "startupProbe")
        ]
        lifecycle = _map(c.get("lifecycle"))
        handlers += [(f"{path}.lifecycle.{h}", _map(lifecycle.get(h))) for h in ("postStart", "preStop")]
        for where, handler in handlers:
            for kind in ("httpGet", "tcpSocket"):
                if _map(handler.get(kind)).get("host") not in (None, ""):
                    out.append(
                        Violation("Host Probes / Lifecycle Hooks", f"{where}.{kind}.host", "must be unset")
                    )
    return out


def apparmor(pod: _Pod) -> list[Violation]:
    """AppArmor: appArmorProfile.type RuntimeDefault, Localhost or unset; the legacy annotations likewise."""
    out = []
    places = _contexts(pod)
    for path, sc in places:
        profile = sc.get("appArmorProfile")
        if profile is not None and _map(profile).get("type") not in APPARMOR_ALLOWED:
            out.append(
                Violation("AppArmor", f"{path}.appArmorProfile.type", "must be RuntimeDefault or Localhost")
            )
    for key, value in _map(pod.metadata.get("annotations")).items():
        if key.startswith(APPARMOR_ANNOTATION) and not (
            value == "runtime/default" or (isinstance(value, str) and value.startswith("localhost/"))
        ):
            out.append(
                Violation(
                    "AppArmor",
                    f"{pod.meta_path}.annotations[{key}]",
                    "must be runtime/default or localhost/*",
                )
            )
    return out


def selinux(pod: _Pod) -> list[Violation]:
    """SELinux: seLinuxOptions.type only the container types; .user and .role must be unset."""
    out = []
    places = _contexts(pod)
    for path, sc in places:
        options = _map(sc.get("seLinuxOptions"))
        if options.get("type") not in (None, "") and options.get("type") not in SELINUX_TYPES:
            out.append(
                Violation(
                    "SELinux",
                    f"{path}.seLinuxOptions.type",
                    f"must be unset or one of {', '.join(sorted(SELINUX_TYPES))}",
                )
            )
        for field in ("user", "role"):
            if options.get(field) not in (None, ""):
                out.append(Violation("SELinux", f"{path}.seLinuxOptions.{field}", "must be unset"))
    return out


def proc_mount(pod: _Pod) -> list[Violation]:
    """/proc Mount Type: securityContext.procMount must be undefined or Default."""
    return [
        Violation("/proc Mount Type", f"{path}.securityContext.procMount", "must be unset or Default")
        for path, c in _containers(pod)
        if _csc(c).get("procMount") not in (None, "Default")
    ]


def seccomp_baseline(pod: _Pod) -> list[Violation]:
    """Seccomp (baseline): seccompProfile.type, where set, must be RuntimeDefault or Localhost."""
    out = []
    places = _contexts(pod)
    for path, sc in places:
        profile = sc.get("seccompProfile")
        if profile is not None and _map(profile).get("type") not in SECCOMP_ALLOWED:
            out.append(
                Violation("Seccomp", f"{path}.seccompProfile.type", "must be RuntimeDefault or Localhost")
            )
    return out


def sysctls(pod: _Pod) -> list[Violation]:
    """Sysctls: only the documented safe set."""
    return [
        Violation(
            "Sysctls", f"{_psc_path(pod)}.sysctls[{i}].name", f"{_map(s).get('name')!r} is not a safe sysctl"
        )
        for i, s in enumerate(_list(_pod_sc(pod).get("sysctls")))
        if _map(s).get("name") not in SAFE_SYSCTLS
    ]


# ---- restricted ---------------------------------------------------------------------------------------


def volume_types(pod: _Pod) -> list[Violation]:
    """Volume Types: every volume is one of the restricted sources."""
    out = []
    for i, volume in enumerate(_list(pod.spec.get("volumes"))):
        for source in _map(volume):
            if source != "name" and source not in RESTRICTED_VOLUME_SOURCES:
                out.append(
                    Violation(
                        "Volume Types",
                        f"{pod.spec_path}.volumes[{i}].{source}",
                        f"only {', '.join(sorted(RESTRICTED_VOLUME_SOURCES))} volumes are allowed",
                    )
                )
    return out


def privilege_escalation(pod: _Pod) -> list[Violation]:
    """Privilege Escalation: every container sets allowPrivilegeEscalation: false."""
    return [
        Violation("Privilege Escalation", f"{path}.securityContext.allowPrivilegeEscalation", "must be false")
        for path, c in _containers(pod)
        if _csc(c).get("allowPrivilegeEscalation") is not False
    ]


def run_as_non_root(pod: _Pod) -> list[Violation]:
    """Running as Non-root: pod runAsNonRoot true, containers unset or true (each true without the pod's)."""
    out = []
    pod_value = _pod_sc(pod).get("runAsNonRoot")
    if pod_value not in (None, True):
        out.append(Violation("Running as Non-root", f"{_psc_path(pod)}.runAsNonRoot", "must be true"))
    for path, c in _containers(pod):
        value = _csc(c).get("runAsNonRoot")
        if value is None and pod_value is True:
            continue
        if value is not True:
            out.append(
                Violation(
                    "Running as Non-root",
                    f"{path}.securityContext.runAsNonRoot",
                    "must be true (here or in the pod's securityContext)",
                )
            )
    return out


def run_as_user(pod: _Pod) -> list[Violation]:
    """Running as Non-root user: runAsUser, where set, must not be 0."""
    places = _contexts(pod)
    return [
        Violation("Running as Non-root user", f"{path}.runAsUser", "must not be 0")
        for path, sc in places
        if sc.get("runAsUser") == 0
    ]


def seccomp_restricted(pod: _Pod) -> list[Violation]:
    """Seccomp (restricted): RuntimeDefault or Localhost on the pod, or else on every container."""
    out = []
    pod_profile = _pod_sc(pod).get("seccompProfile")
    pod_ok = _map(pod_profile).get("type") in SECCOMP_ALLOWED
    if pod_profile is not None and not pod_ok:
        out.append(
            Violation(
                "Seccomp", f"{_psc_path(pod)}.seccompProfile.type", "must be RuntimeDefault or Localhost"
            )
        )
    for path, c in _containers(pod):
        profile = _csc(c).get("seccompProfile")
        if profile is None and pod_ok:
            continue
        if _map(profile).get("type") not in SECCOMP_ALLOWED:
            out.append(
                Violation(
                    "Seccomp",
                    f"{path}.securityContext.seccompProfile.type",
                    "must be RuntimeDefault or Localhost (here or in the pod's securityContext)",
                )
            )
    return out


def capabilities_restricted(pod: _Pod) -> list[Violation]:
    """Capabilities (restricted): drop must include ALL; add only NET_BIND_SERVICE."""
    out = []
    for path, c in _containers(pod):
        caps = _map(_csc(c).get("capabilities"))
        if "ALL" not in _list(caps.get("drop")):
            out.append(
                Violation("Capabilities", f"{path}.securityContext.capabilities.drop", "must include ALL")
            )
        for i, cap in enumerate(_list(caps.get("add"))):
            if cap != "NET_BIND_SERVICE":
                out.append(
                    Violation(
                        "Capabilities",
                        f"{path}.securityContext.capabilities.add[{i}]",
                        f"{cap!r} is not allowed; only NET_BIND_SERVICE",
                    )
                )
    return out


Rule = Callable[[_Pod], list[Violation]]
BASELINE_RULES: tuple[Rule, ...] = (
    host_process,
    host_namespaces,
    privileged,
    capabilities_baseline,
    host_path_volumes,
    host_ports,
    host_probes,
    apparmor,
    selinux,
    proc_mount,
    seccomp_baseline,
    sysctls,
)
# Restricted is baseline plus these; its Capabilities and Seccomp rules are stricter than baseline's.
RESTRICTED_RULES: tuple[Rule, ...] = (
    volume_types,
    privilege_escalation,
    run_as_non_root,
    run_as_user,
    seccomp_restricted,
    capabilities_restricted,
)


def _pod_of(obj: Mapping[str, Any]) -> _Pod:
    """Find the pod spec in a Pod, a bare pod spec, or a workload's pod template."""
    if obj.get("kind") == "Pod" or ("spec" in obj and "containers" in _map(obj.get("spec"))):
        return _Pod(_map(obj.get("spec")), _map(obj.get("metadata")), "spec", "metadata")
    template = _map(_map(obj.get("spec")).get("template"))
    if template:
        return _Pod(
            _map(template.get("spec")),
            _map(template.get("metadata")),
            "spec.template.spec",
            "spec.template.metadata",
        )
    job_template = _map(_map(_map(obj.get("spec")).get("jobTemplate")).get("spec")).get("template")
    if job_template:  # a CronJob
        t = _map(job_template)
        return _Pod(
            _map(t.get("spec")),
            _map(t.get("metadata")),
            "spec.jobTemplate.spec.template.spec",
            "spec.jobTemplate.spec.template.metadata",
        )
    return _Pod(obj, {}, "spec", "metadata")  # a bare pod spec: paths as in a Pod


def check_pod(pod_spec_or_pod: Mapping[str, Any], level: str = "restricted") -> list[Violation]:
    """Every violation of the Pod Security Standard `level` (privileged, baseline or restricted)."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    if level == "privileged":
        return []
    pod = _pod_of(pod_spec_or_pod)
    rules = BASELINE_RULES if level == "baseline" else _restricted_rules()
    return [v for rule in rules for v in rule(pod)]


def _restricted_rules() -> tuple[Rule, ...]:
    # The restricted Seccomp and Capabilities rules already say everything their baseline twins say.
    replaced = {seccomp_baseline, capabilities_baseline}
    return tuple(r for r in BASELINE_RULES if r not in replaced) + RESTRICTED_RULES
