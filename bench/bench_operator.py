"""The real operator against the embedded API with one big Ascend job (default 1,024 workers x 8 devices).

Run: .venv/bin/python bench/bench_operator.py [--workers 1024] [--devices 8] [--parallel 16]

Measures, in one process (embedded API thread + operator thread + this driver):
- seconds from creating the MobileNetFineTune to all worker pods posted (counted on a pods watch), and
  the same-run baseline: POSTing the same pod objects straight to the API with the same concurrency
  (what any client must pay), as a ratio;
- API requests the operator made per worker, from kopf's HTTP client (every request of the operator goes
  through it: kopf's watches and ours), until the job has settled (no request for 2 s);
- after the test plays the device plugin (annotation + podIP on every pod): seconds until the
  ConfigMap holds the completed rank table, and the operator's requests per worker for that;
- the time plan() takes to render that completed table inside a reconcile (median of 5).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import ssl
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
from kopf._cogs.clients import api as kopf_api

from kube_emulator.apiserver.apiserver import EmbeddedAPI
from mnft_operator.crd import crd
from mnft_operator.names import ASCEND_DEVICE_ANNOTATION
from mnft_operator.operator_cli import run_operator_in_thread
from mnft_operator.planner import plan
from mnft_operator.types import Observed

NS = "bench"
BASELINE_NS = "baseline"
GROUP_VERSION = "finetune.mindspore.io/v1alpha1"
JOB_LABEL = "finetune.mindspore.io/job-name"


class RequestCounter:
    """Wraps kopf's request function: counts (method, resource kind) of every operator request."""

    def __init__(self) -> None:
        self.counts: collections.Counter[tuple[str, str]] = collections.Counter()
        self.last = time.monotonic()
        self.lock = threading.Lock()
        self.original = kopf_api.request

    def install(self) -> None:
        original = self.original

        async def counting(method: str, url: str, **kwargs: Any) -> Any:
            path = urllib.parse.urlparse(url).path
            parts = [p for p in path.split("/") if p]
            kind = "/".join(parts[-2:]) if "watch" not in url else parts[-1] + " (watch)"
            if "namespaces" in parts:
                after = parts[parts.index("namespaces") + 2 :]
                kind = "/".join(p for i, p in enumerate(after) if i != 1) or "namespaces"
                kind += " (watch)" if "watch=" in url else ""
            with self.lock:
                self.counts[(method.upper(), kind)] += 1
                self.last = time.monotonic()
            return await original(method, url, **kwargs)

        kopf_api.request = counting

    def snapshot(self) -> collections.Counter[tuple[str, str]]:
        with self.lock:
            return collections.Counter(self.counts)

    def wait_quiet(self, seconds: float = 2.0, timeout: float = 600.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                idle = time.monotonic() - self.last
            if idle >= seconds:
                return
            time.sleep(0.2)


class Auth:
    """The running EmbeddedAPI's token and CA, for every raw request of this script."""

    headers: ClassVar[dict[str, str]] = {}
    ssl: ClassVar[ssl.SSLContext | None] = None

    @classmethod
    def of(cls, api: EmbeddedAPI) -> None:
        cls.headers, cls.ssl = api.auth_headers, api.ssl_context()

    @classmethod
    def session(cls) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(headers=cls.headers, connector=aiohttp.TCPConnector(ssl=cls.ssl or True))


def http(url: str, method: str = "GET", body: Any = None, content_type: str = "application/json") -> Any:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": content_type, **Auth.headers}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=120, context=Auth.ssl) as response:
        return json.loads(response.read())


def job_manifest(name: str, workers: int, devices: int) -> dict[str, Any]:
    return {
        "apiVersion": GROUP_VERSION,
        "kind": "MobileNetFineTune",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "platform": "Ascend",
            "image": "mnft-trainer:bench",
            "workers": workers,
            "devicesPerWorker": devices,
            "dataset": {"path": "data", "volume": {"emptyDir": {}}},
            "output": {"path": "out", "volume": {"emptyDir": {}}},
            "communication": {"mode": "rankTable"},
        },
    }


def watch_count(url: str, selector: str, target: int) -> float:
    """Follow a pods watch until `target` pods were seen; returns the monotonic time of the last."""
    query = urllib.parse.urlencode({"watch": "1", "labelSelector": selector})
    seen: set[str] = set()
    request = urllib.request.Request(f"{url}/api/v1/namespaces/{NS}/pods?{query}", headers=Auth.headers)
    with urllib.request.urlopen(request, timeout=600, context=Auth.ssl) as stream:
        for line in stream:
            event = json.loads(line)
            obj = event.get("object") or {}
            if event.get("type") in ("ADDED", "MODIFIED"):
                seen.add(obj["metadata"]["name"])
                if len(seen) >= target:
                    return time.monotonic()
    raise RuntimeError("the watch ended early")


async def post_all(url: str, namespace: str, objects: list[dict[str, Any]], parallel: int) -> None:
    semaphore = asyncio.Semaphore(parallel)
    async with Auth.session() as session:

        async def one(obj: dict[str, Any]) -> None:
            async with (
                semaphore,
                session.post(f"{url}/api/v1/namespaces/{namespace}/pods", json=obj) as response,
            ):
                response.raise_for_status()

        await asyncio.gather(*(one(obj) for obj in objects))


async def patch_all(url: str, patches: list[tuple[str, dict[str, Any], bool]], parallel: int) -> None:
    semaphore = asyncio.Semaphore(parallel)
    headers = {"Content-Type": "application/merge-patch+json"}
    async with Auth.session() as session:

        async def one(name: str, body: dict[str, Any], status: bool) -> None:
            path = f"{url}/api/v1/namespaces/{NS}/pods/{name}" + ("/status" if status else "")
            async with semaphore, session.patch(path, data=json.dumps(body), headers=headers) as response:
                response.raise_for_status()

        await asyncio.gather(*(one(*p) for p in patches))


def fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def post_baseline(url: str, workers: int, devices: int, parallel: int, round_: int) -> float:
    """POST the pods plan() builds for the job straight to the API, in a namespace kopf does not watch."""
    job = job_manifest(f"baseline-{round_}", workers, devices)
    job["metadata"].update(namespace=BASELINE_NS, uid=f"baseline-{round_}")
    objects = plan(Observed(job, [], [], [], [], None, datetime.now(timezone.utc))).create
    pods = [dict(o) for o in objects if o["kind"] == "Pod"]
    assert len(pods) == workers, f"plan() created {len(pods)} pods for {workers} workers"
    start = time.monotonic()
    asyncio.run(post_all(url, BASELINE_NS, pods, parallel))
    return time.monotonic() - start


def create_and_wait(url: str, name: str, workers: int, devices: int) -> float:
    """Seconds from POSTing the job to the last of its pods appearing on a pods watch."""
    result: dict[str, float] = {}
    selector = f"{JOB_LABEL}={name}"
    watcher = threading.Thread(target=lambda: result.setdefault("end", watch_count(url, selector, workers)))
    watcher.start()
    time.sleep(0.3)
    start = time.monotonic()
    http(
        f"{url}/apis/{GROUP_VERSION}/namespaces/{NS}/mobilenetfinetunes",
        "POST",
        job_manifest(name, workers, devices),
    )
    watcher.join()
    return result["end"] - start


def per_worker(counts: collections.Counter[tuple[str, str]], workers: int) -> str:
    total = sum(counts.values())
    rows = [
        f"    {n:>6}  {method} {kind}" for (method, kind), n in sorted(counts.items(), key=lambda x: -x[1])
    ]
    return f"{total} requests = {total / workers:.2f} per worker\n" + "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workers", type=int, default=1024)
    parser.add_argument("--devices", type=int, default=8, choices=[1, 2, 4, 8])
    parser.add_argument("--parallel", type=int, default=16, help="the operator's concurrent requests")
    parser.add_argument("--repeat", type=int, default=3, help="jobs created (medians are reported)")
    args = parser.parse_args(argv)
    workers, devices = args.workers, args.devices

    counter = RequestCounter()
    counter.install()
    with tempfile.TemporaryDirectory() as tmp, EmbeddedAPI(log_dir=Path(tmp)) as api:
        url = api.url
        Auth.of(api)
        kubeconfig = api.write_kubeconfig(Path(tmp) / "kubeconfig")
        http(f"{url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "POST", crd())
        for namespace in (NS, BASELINE_NS):
            body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
            http(f"{url}/api/v1/namespaces", "POST", body)
        time.sleep(0.5)  # the CRD becomes served

        handle = run_operator_in_thread(
            None, [NS], kubeconfig=str(kubeconfig), parallel_requests=args.parallel, progress_seconds=30.0
        )
        try:
            counter.last = time.monotonic()
            counter.wait_quiet(1.0)  # kopf's start-up discovery and initial listings are not counted
            posted_s: list[float] = []
            baseline_s: list[float] = []
            per_round: list[collections.Counter[tuple[str, str]]] = []
            for round_ in range(args.repeat):
                name = f"big-{round_}"
                baseline_s.append(post_baseline(url, workers, devices, args.parallel, round_))
                before = counter.snapshot()
                posted_s.append(create_and_wait(url, name, workers, devices))
                counter.wait_quiet(2.0)
                per_round.append(counter.snapshot() - before)

            posted, baseline = statistics.median(posted_s), statistics.median(baseline_s)
            print(f"Ascend job {workers} workers x {devices} devices against the embedded API")
            print(f"create -> all {workers} pods posted: {posted:.2f} s (median of {fmt(posted_s)})")
            print(f"baseline, the same pods POSTed directly ({args.parallel} concurrent): {baseline:.2f} s")
            print(f"ratio: {posted / baseline:.2f}")
            print(f"operator requests from create until settled: {per_worker(per_round[-1], workers)}")
            name = f"big-{args.repeat - 1}"

            # Play the device plugin and the kubelet: annotation and podIP on every pod.
            patches: list[tuple[str, dict[str, Any], bool]] = []
            for i in range(workers):
                hi, lo = divmod(i, 250)
                info = {
                    "pod_name": f"{name}-worker-{i}",
                    "server_id": f"10.0.{hi}.{lo + 1}",
                    "devices": [
                        {"device_id": str(d), "device_ip": f"192.168.{d}.{i % 250 + 1}"}
                        for d in range(devices)
                    ],
                }
                patches.append(
                    (
                        f"{name}-worker-{i}",
                        {"metadata": {"annotations": {ASCEND_DEVICE_ANNOTATION: json.dumps(info)}}},
                        False,
                    )
                )
                patches.append(
                    (
                        f"{name}-worker-{i}",
                        {"status": {"phase": "Pending", "podIP": f"10.244.{hi}.{lo + 2}"}},
                        True,
                    )
                )
            before = counter.snapshot()
            start = time.monotonic()
            asyncio.run(patch_all(url, patches, args.parallel))
            annotated = time.monotonic() - start
            cm_url = f"{url}/api/v1/namespaces/{NS}/configmaps/rings-config-{name}"
            while json.loads(http(cm_url)["data"]["hccl.json"]).get("status") != "completed":
                time.sleep(0.1)
            completed = time.monotonic() - start
            counter.wait_quiet(2.0)
            table_requests = counter.snapshot() - before
            print(f"annotations + podIPs patched by the test in {annotated:.2f} s", end="; ")
            print(f"rank table completed after {completed:.2f} s")
            print(f"operator requests from the first annotation on: {per_worker(table_requests, workers)}")

            live = http(f"{url}/api/v1/namespaces/{NS}/pods?labelSelector={JOB_LABEL}%3D{name}")["items"]
            job = http(f"{url}/apis/{GROUP_VERSION}/namespaces/{NS}/mobilenetfinetunes/{name}")
            cms = http(f"{url}/api/v1/namespaces/{NS}/configmaps?labelSelector={JOB_LABEL}%3D{name}")["items"]
            observed = Observed(job, live, [], cms, [], None, datetime.now(timezone.utc))
            times = []
            for _ in range(5):
                t = time.perf_counter()
                plan(observed)
                times.append((time.perf_counter() - t) * 1000)
            took = statistics.median(times)
            print(f"plan() of the settled job ({len(live)} pods, completed table): {took:.0f} ms")
            print(
                f"pods: {len(live)}, names unique: {len({p['metadata']['name'] for p in live}) == len(live)}"
            )
        finally:
            handle.stop(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
