"""Pod Security Admission in the embedded API: a pod created in a namespace labelled
`pod-security.kubernetes.io/enforce: <level>` that violates that level is refused with 403, as the
built-in PodSecurity admission plugin does (https://kubernetes.io/docs/concepts/security/pod-security-admission/).
Only `enforce` on pod creation is modelled (not `warn`/`audit`, not exemptions); the version label is
taken as `latest`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kube_emulator.apiserver import api_errors as errors
from kube_emulator.apiserver.pod_security import LEVELS, check_pod

ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"


def admit_pod(namespace: Mapping[str, Any] | None, pod: Mapping[str, Any]) -> None:
    """Raise 403 Forbidden when `pod` violates its namespace's enforced level."""
    labels = ((namespace or {}).get("metadata") or {}).get("labels") or {}
    level = labels.get(ENFORCE_LABEL)
    if level not in LEVELS:  # unset (or not a level): privileged, nothing enforced
        return
    violations = check_pod(pod, level)
    if violations:
        name = (pod.get("metadata") or {}).get("name", "")
        listed = ", ".join(str(v) for v in violations)
        raise errors.forbidden("pods", "", name, f'violates PodSecurity "{level}:latest": {listed}')
