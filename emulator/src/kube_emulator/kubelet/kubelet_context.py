"""What the local kubelet shares with its pod workers: the node's context and small helpers on pods."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kube_emulator.kubelet.kubelet_client import KubeletClient
from kube_emulator.kubelet.kubelet_events import EventRecorder


@dataclass(frozen=True)
class NodeContext:
    """What every pod worker shares with the kubelet."""

    client: KubeletClient
    node_name: str
    host_ip: str
    state_dir: Path
    log_dir: Path
    mounts: Mapping[str, Path]
    ip_for: Callable[[str, str], str]  # (namespace, pod name)
    dns_ip: Callable[[str, str, str], str]  # (namespace, hostname, subdomain): the IP that name resolves to
    subdomains: Callable[[str], set[str]]
    events: EventRecorder


def venv_bin() -> str:
    return str(Path(sys.executable).parent)


def pod_path(pod: Mapping[str, Any], sub: str = "") -> str:
    meta = pod["metadata"]
    return f"/api/v1/namespaces/{meta.get('namespace', 'default')}/pods/{meta['name']}{sub}"


def grace_seconds(pod: Mapping[str, Any]) -> float:
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    for value in (meta.get("deletionGracePeriodSeconds"), spec.get("terminationGracePeriodSeconds")):
        if value is not None:
            return float(value)
    return 30.0
