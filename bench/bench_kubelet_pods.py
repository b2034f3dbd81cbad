"""How fast the local kubelet turns pods into finished processes, against the embedded API.

Creates N pods whose command is `true` (or `sleep S`), waits for all to reach Succeeded, then deletes them
and waits until every process group is gone. Baseline in the same run: N plain `true` processes started
from Python (subprocess, one after another) - the kubelet's overhead is the ratio between the two.

    .venv/bin/python bench/bench_kubelet_pods.py [--pods 50]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

from kubernetes import client as k8s

from kube_emulator.apiserver.apiserver import EmbeddedAPI
from kube_emulator.kubelet.kubelet import LocalKubelet


def pod(name: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"bench": "kubelet"}},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "main", "image": "x", "command": ["true"]}],
        },
    }


def baseline(count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        subprocess.run(["true"], check=True)
    return time.perf_counter() - start


def run(count: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-kubelet-") as tmp:
        root = Path(tmp)
        api = EmbeddedAPI(log_dir=root / "logs")
        api.start()
        kubelet = LocalKubelet(
            api.url, state_dir=root / "state", log_dir=root / "logs", token=api.token, ca_pem=api.ca_pem
        )
        kubelet.start()
        config = k8s.Configuration(host=api.url, api_key={"authorization": f"Bearer {api.token}"})
        config.ssl_ca_cert = api.ca_file
        core = k8s.CoreV1Api(k8s.ApiClient(config))
        try:
            start = time.perf_counter()
            for i in range(count):
                core.create_namespaced_pod("default", cast(Any, pod(f"bench-{i}")))
            created = time.perf_counter() - start
            while True:  # raw JSON: the client's model decoding of hundreds of pods would dominate
                raw: Any = core.list_namespaced_pod(
                    "default", label_selector="bench=kubelet", _preload_content=False
                )
                pods = json.loads(raw.data)["items"]
                done = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
                if done == count:
                    break
                time.sleep(0.2)
            finished = time.perf_counter() - start
            start_delete = time.perf_counter()
            core.delete_collection_namespaced_pod("default", label_selector="bench=kubelet")
            while core.list_namespaced_pod("default", label_selector="bench=kubelet").items:
                time.sleep(0.05)
            deleted = time.perf_counter() - start_delete
        finally:
            kubelet.stop()
            api.stop()
    plain = baseline(count)
    print(f"pods: {count}")
    print(f"create (sync client):        {created:7.2f} s")
    print(f"create -> all Succeeded:     {finished:7.2f} s  ({count / finished:6.1f} pods/s)")
    print(f"delete -> API objects gone:  {deleted:7.2f} s")
    print(f"baseline {count} x `true`:       {plain:7.2f} s  (kubelet/baseline = {finished / plain:.1f}x)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pods", type=int, default=50)
    args = parser.parse_args(argv)
    run(args.pods)
    return 0


if __name__ == "__main__":
    sys.exit(main())
