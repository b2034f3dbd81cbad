"""Rank-table render time for Ascend jobs up to 1,024 workers x 8 devices (8,192 devices), and plan() time.

Run: .venv/bin/python bench/bench_rank_table.py [--repeat N]
Prints the median of N runs per size for build_rank_table + to_json (what the operator does on every
reconcile of an Ascend job), the same-run baseline (json.loads of the annotations alone, the part no
implementation can skip) as a ratio, and plan() for a fresh 1,024-worker job (all pods' dicts).
Target: under 50 ms for 8,192 devices.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from mnft_operator.names import ASCEND_DEVICE_ANNOTATION, INDEX_LABEL
from mnft_operator.planner import plan
from mnft_operator.rank_table import build_rank_table
from mnft_operator.types import Observed

DEVICES = 8


def annotated_pods(workers: int) -> list[dict[str, Any]]:
    pods = []
    for i in range(workers):
        hi, lo = divmod(i, 250)
        info = {
            "pod_name": f"big-worker-{i}",
            "server_id": f"10.0.{hi}.{lo + 1}",
            "devices": [
                {"device_id": str(d), "device_ip": f"192.168.{100 + d}.{lo + 1}"} for d in range(DEVICES)
            ],
        }
        pods.append(
            {
                "metadata": {
                    "name": f"big-worker-{i}",
                    "uid": f"uid-{i}",
                    "labels": {INDEX_LABEL: str(i)},
                    "annotations": {ASCEND_DEVICE_ANNOTATION: json.dumps(info)},
                },
                "status": {"phase": "Running", "podIP": f"10.244.{hi}.{lo + 2}"},
            }
        )
    return pods


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def table_json(pods: list[dict[str, Any]], workers: int) -> str:
    return build_rank_table(pods, workers, DEVICES).to_json()


def parse_annotations(pods: list[dict[str, Any]]) -> list[Any]:
    return [json.loads(x["metadata"]["annotations"][ASCEND_DEVICE_ANNOTATION]) for x in pods]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    print(f"{'workers':>8} {'devices':>8} {'table ms':>9} {'baseline ms':>12} {'ratio':>6} {'json KiB':>9}")
    for workers in (128, 256, 512, 1024):
        pods = annotated_pods(workers)
        table_ms = median_ms(functools.partial(table_json, pods, workers), args.repeat)
        base_ms = median_ms(functools.partial(parse_annotations, pods), args.repeat)
        size = len(build_rank_table(pods, workers, DEVICES).to_json()) / 1024
        row = (workers, workers * DEVICES, table_ms, base_ms, table_ms / base_ms, size)
        print("{:>8} {:>8} {:>9.2f} {:>12.2f} {:>6.2f} {:>9.0f}".format(*row))
    job = {
        "metadata": {"name": "big", "namespace": "bench", "uid": "u"},
        "spec": {
            "platform": "Ascend",
            "image": "i",
            "workers": 1024,
            "devicesPerWorker": 8,
            "dataset": {"path": "/d"},
        },
    }
    observed = Observed(job, [], [], [], [], None, datetime.now(timezone.utc))
    plan_ms = median_ms(lambda: plan(observed), max(3, args.repeat // 3))
    print(f"plan() of a new 1,024-worker Ascend job: {plan_ms:.1f} ms ({len(plan(observed).create)} objects)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
