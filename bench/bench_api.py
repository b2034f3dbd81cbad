"""Benchmark of the embedded Kubernetes API with the sync `kubernetes` client (numbers: docs/benchmarks.md).

Scenarios, each against our EmbeddedAPI and, as the same-run baseline, kmock 0.8's unmodified
KubernetesEmulator (what the embedded API is built on) serving the same requests:

1. `get`: N reads of one pod.
2. `pods`: P pods created, then each patched (status) to Running and then to Succeeded, with one watch on
   pods open the whole time (as the kubelet and the operator keep); reports the wall time and requests/s.

Usage: python bench/bench_api.py [--pods 1000] [--reads 1000] [--baseline-pods 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from kubernetes import client as k8s

from kube_emulator.apiserver.apiserver import EmbeddedAPI


class KmockBaseline:
    """kmock's KubernetesEmulator as shipped (bundled resources declared), on its own loop in a thread."""

    def __init__(self) -> None:
        import kmock

        self.emulator = kmock.KubernetesEmulator()
        self.emulator.resources.load_bundled()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.url = ""
        self._stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import kmock

        async def main() -> None:
            self._stop = asyncio.Event()
            async with self.emulator, kmock.Server(self.emulator) as server:
                self.url = str(server.url).rstrip("/")
                self.ready.set()
                await self._stop.wait()

        self.loop.run_until_complete(main())

    def __enter__(self) -> KmockBaseline:
        self.thread.start()
        self.ready.wait(30)
        return self

    def __exit__(self, *_: object) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(10)


@dataclass(frozen=True)
class Target:
    """Where to send requests: the EmbeddedAPI (HTTPS, bearer token) or kmock (plain HTTP)."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    ca_file: str | None = None

    @classmethod
    def of(cls, api: EmbeddedAPI) -> Target:
        return cls(api.url, api.auth_headers, api.ca_file)


def core(target: Target) -> k8s.CoreV1Api:
    config = k8s.Configuration(host=target.url)
    if target.headers:
        config.api_key = {"authorization": target.headers["Authorization"]}
    config.ssl_ca_cert = target.ca_file
    return k8s.CoreV1Api(k8s.ApiClient(config))


def pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "main", "image": "x"}]},
    }


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_get(target: Target, reads: int) -> dict[str, float]:
    api = core(target)
    api.create_namespaced_pod("default", cast(Any, pod("reader")))
    seconds = timed(lambda: [api.read_namespaced_pod("reader", "default") for _ in range(reads)])
    return {"requests": reads, "seconds": round(seconds, 3), "requests_per_s": round(reads / seconds, 1)}


def bench_pods(target: Target, count: int) -> dict[str, float]:
    api = core(target)
    context = ssl.create_default_context(cafile=target.ca_file) if target.ca_file else None
    events: list[int] = [0]
    stop = threading.Event()

    def watch() -> None:
        url = f"{target.url}/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=600"
        request = urllib.request.Request(url, headers=target.headers)
        with urllib.request.urlopen(request, context=context) as stream:
            for _line in stream:
                events[0] += 1
                if stop.is_set():
                    return

    threading.Thread(target=watch, daemon=True).start()
    time.sleep(0.2)
    names = [f"bench-{i:05d}" for i in range(count)]
    created = timed(lambda: [api.create_namespaced_pod("default", cast(Any, pod(n))) for n in names])

    def run_phases() -> None:
        for name in names:
            api.patch_namespaced_pod_status(name, "default", {"status": {"phase": "Running"}})
            api.patch_namespaced_pod_status(name, "default", {"status": {"phase": "Succeeded"}})

    patched = timed(run_phases)
    time.sleep(0.5)
    stop.set()
    total = created + patched
    return {
        "pods": count,
        "create_s": round(created, 3),
        "patch_s": round(patched, 3),
        "total_s": round(total, 3),
        "requests_per_s": round(3 * count / total, 1),
        "watch_events": events[0],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--reads", type=int, default=1000)
    parser.add_argument(
        "--baseline-pods", type=int, default=200, help="kmock's store is quadratic: keep it small"
    )
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    with EmbeddedAPI() as api:
        results["embedded_get"] = bench_get(Target.of(api), args.reads)
        results["embedded_pods"] = bench_pods(Target.of(api), args.pods)
    with EmbeddedAPI() as api:
        results["embedded_pods_small"] = bench_pods(Target.of(api), args.baseline_pods)
    if not args.no_baseline:
        with KmockBaseline() as baseline:
            results["kmock_get"] = bench_get(Target(baseline.url), min(args.reads, 300))
        with KmockBaseline() as baseline:
            results["kmock_pods_small"] = bench_pods(Target(baseline.url), args.baseline_pods)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
