"""Pod networking for the local kubelet: loopback pod IPs and pod DNS names rewritten to them.

Linux routes all of 127.0.0.0/8 on the loopback interface, so every pod gets its own 127.x.y.z address
and two pods can listen on the same port. There is no cluster DNS, so names like
`<pod>.<subdomain>.<ns>.svc` in a pod's env values and args are rewritten to the target pod's IP.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection

# 127.0.x.x is left alone: 127.0.0.1 is "localhost" and users bind things there.
_FIRST_OCTET_MIN = 1


def candidate_ip(namespace: str, name: str, attempt: int = 0, network: str = "") -> str:
    """The `attempt`-th candidate loopback IP for pod (namespace, name) on `network`; attempt 0 is the
    usual one. Every kubelet is its own `network`: the loopback is shared by all local clusters on the
    host, so the same pod name in two clusters must not get the same address (and port)."""
    salt = f"@{network}" if network else ""
    digest = hashlib.sha256(f"{namespace}/{name}#{attempt}{salt}".encode()).digest()
    x = _FIRST_OCTET_MIN + digest[0] % (256 - _FIRST_OCTET_MIN)
    y = digest[1]
    z = 1 + digest[2] % 254  # never .0 or .255
    return f"127.{x}.{y}.{z}"


class PodIPAllocator:
    """Deterministic pod IPs with collision avoidance.

    A pod's IP is fixed the first time anyone asks for it (its own start, or another pod naming it), so a
    name rewritten before the target pod exists still points at the IP that pod will get.
    """

    def __init__(self, network: str = "") -> None:
        self.network = network
        self._by_pod: dict[tuple[str, str], str] = {}
        self._by_ip: dict[str, tuple[str, str]] = {}

    def ip_for(self, namespace: str, name: str) -> str:
        key = (namespace, name)
        if key in self._by_pod:
            return self._by_pod[key]
        attempt = 0
        while (ip := candidate_ip(namespace, name, attempt, self.network)) in self._by_ip:
            attempt += 1
        self._by_pod[key] = ip
        self._by_ip[ip] = key
        return ip

    def release(self, namespace: str, name: str) -> None:
        ip = self._by_pod.pop((namespace, name), None)
        if ip is not None:
            del self._by_ip[ip]


_LABEL = r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?"
# <pod>.<subdomain>[.<ns>[.svc[.cluster.local]]], not part of a longer dotted name or word.
_POD_DNS = re.compile(
    rf"(?<![\w.-])(?P<pod>{_LABEL})\.(?P<sub>{_LABEL})"
    rf"(?:\.(?P<ns>{_LABEL})(?P<svc>\.svc(?:\.cluster\.local)?)?)?"
    r"(?![\w-]|\.[\w-])"
)


def rewrite_pod_dns(
    text: str,
    namespace: str,
    subdomains: Collection[str],
    ip_for: Callable[[str, str, str], str],
) -> str:
    """Replace pod DNS names in `text` with the pods' IPs; `ip_for(namespace, hostname, subdomain)`.

    `<pod>.<sub>.<ns>.svc` and `.svc.cluster.local` are always pod names. The short forms `<pod>.<sub>`
    and `<pod>.<sub>.<ns>` are rewritten only when `sub` is one of `subdomains` (the headless services
    known in the pod's namespace), so that `model.ckpt` or `a.b.c` stay untouched. A short name without a
    namespace resolves in `namespace`, the pod's own, like the pod's DNS search path.
    """

    def replace(match: re.Match[str]) -> str:
        ns = match.group("ns")
        if match.group("svc"):
            return ip_for(ns, match.group("pod"), match.group("sub"))
        if match.group("sub") not in subdomains:
            return match.group(0)
        return ip_for(ns or namespace, match.group("pod"), match.group("sub"))

    return _POD_DNS.sub(replace, text)
