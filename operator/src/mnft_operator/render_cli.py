"""`mnft render FILE.yaml [--simulate-ascend-devices]`: print every object the operator would create.

Uses the same path as the operator: `spec.parse` (validated and defaulted once), then `planner.plan()` of
an empty Observed (no pods, no status). With --simulate-ascend-devices the worker pods get fake
device-plugin annotations and pod IPs, and the rank-table ConfigMap shows the completed hccl.json the
operator would write. Output is a YAML multi-document stream. --allow-host-path accepts hostPath volume
sources (as `mnft operator --allow-host-path` does). An invalid file prints `error: <field>: <message>`
lines and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from mnft_operator.builders.configmap import rank_table_data
from mnft_operator.manifest_file import ManifestError, load_jobs
from mnft_operator.names import ASCEND_DEVICE_ANNOTATION
from mnft_operator.planner import plan
from mnft_operator.rank_table import build_rank_table
from mnft_operator.spec import InvalidSpec, parse
from mnft_operator.types import Observed

PLACEHOLDER_UID = "00000000-0000-0000-0000-000000000000"


class RenderError(ManifestError):
    """The resource is invalid: one `error: <field>: <message>` line per problem."""


def _simulate_devices(pods: list[dict[str, Any]], devices: int) -> list[dict[str, Any]]:
    """Pods as the Ascend device plugin and kubelet would leave them: annotated, with a uid and podIP."""
    out = []
    for pod in pods:
        pod = json.loads(json.dumps(pod))
        index = int(pod["metadata"]["labels"]["finetune.mindspore.io/replica-index"])
        hi, lo = divmod(index, 250)
        info = {
            "pod_name": pod["metadata"]["name"],
            "server_id": f"10.0.{hi}.{lo + 1}",
            "devices": [
                {"device_id": str(d), "device_ip": f"192.168.{100 + d}.{index % 250 + 1}"}
                for d in range(devices)
            ],
        }
        pod["metadata"].setdefault("annotations", {})[ASCEND_DEVICE_ANNOTATION] = json.dumps(info)
        pod["metadata"]["uid"] = f"simulated-{index}"
        pod["status"] = {"phase": "Pending", "podIP": f"10.244.{hi}.{lo + 2}"}
        out.append(pod)
    return out


def render(
    job: dict[str, Any], simulate_ascend_devices: bool = False, allow_host_path: bool = False
) -> list[dict[str, Any]]:
    """Every object the operator would create for `job`; raises RenderError naming the invalid fields."""
    job = json.loads(json.dumps(job))
    job.pop("status", None)
    meta = job.setdefault("metadata", {})
    meta.setdefault("namespace", "default")
    meta.setdefault("uid", PLACEHOLDER_UID)
    try:
        parsed = parse(job, allow_host_path)
    except InvalidSpec as invalid:
        raise RenderError("\n".join(f"error: {e}" for e in invalid.errors)) from None
    observed = Observed(job, [], [], [], [], None, datetime.now(timezone.utc), allow_host_path)
    objects = [dict(o) for o in plan(observed, parsed).create]
    if simulate_ascend_devices and parsed.spec.platform == "Ascend":
        pods = [o for o in objects if o["kind"] == "Pod"]
        simulated = _simulate_devices(pods, parsed.spec.devices_per_worker)
        table = build_rank_table(simulated, parsed.spec.workers, parsed.spec.devices_per_worker)
        for obj in objects:
            if obj["kind"] == "ConfigMap":
                obj["data"] = rank_table_data(table)
        sim_iter = iter(simulated)
        objects = [next(sim_iter) if o["kind"] == "Pod" else o for o in objects]
    return objects


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mnft render", description=__doc__.splitlines()[0] if __doc__ else ""
    )
    parser.add_argument(
        "file", type=Path, help="a YAML file with one or more MobileNetFineTune resources ('-': stdin)"
    )
    parser.add_argument(
        "--simulate-ascend-devices",
        action="store_true",
        help="fill in fake Ascend device-plugin annotations so the completed rank table is shown",
    )
    parser.add_argument(
        "--allow-host-path",
        action="store_true",
        help="accept hostPath volume sources, as an operator started with --allow-host-path does",
    )
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        objects = [
            o
            for job in load_jobs(args.file)
            for o in render(job, args.simulate_ascend_devices, args.allow_host_path)
        ]
    except ManifestError as exc:
        message = str(exc)
        print(message if message.startswith("error: ") else f"error: {message}", file=sys.stderr)
        return 1
    sys.stdout.write(yaml.safe_dump_all(objects, sort_keys=False))
    return 0
