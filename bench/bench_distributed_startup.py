"""How long MindSpore's dynamic cluster takes to form on CPU, against a lone process in the same run.

Each trial spawns, the way `mnft launch` does (same env planning, same supervisor), a scheduler and N
workers that import MindSpore and call `init_from_env("CPU")`, and records the seconds from spawn until
every rank has joined. The baseline spawns one process doing the same with no distributed variables
(import MindSpore, set the device). Usage: `python bench/bench_distributed_startup.py [--workers 2]
[--trials 3]`.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import statistics
import sys
import time

from mnft_trainer.pod.launch import SCHEDULER_CODE, free_tcp_port, plan_processes
from mnft_trainer.pod.supervise import Child, supervise

READY_CODE = (
    "import os, time; from mnft_trainer.distributed import init_from_env; ctx = init_from_env('CPU'); "
    "print(f'ready {ctx.rank} {time.time() - float(os.environ[\"BENCH_SPAWNED\"]):.3f}', flush=True)"
)


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MNFT_", "MS_", "RANK_"))}
    return {**env, "GLOG_v": "3", "PYTHONUNBUFFERED": "1"}


def trial(workers: int) -> float:
    """Seconds from spawn until the last rank joined (the lone baseline when workers == 1)."""
    env = _base_env()
    specs = plan_processes({"MNFT_DEVICES_PER_WORKER": str(workers)}, free_port=free_tcp_port)
    env["BENCH_SPAWNED"] = repr(time.time())
    children = []
    for spec in specs:
        code = [SCHEDULER_CODE, "CPU"] if spec.rank is None else [READY_CODE]
        children.append(Child(spec.label, [sys.executable, "-c", *code], {**env, **spec.env}))
    out = io.StringIO()
    outcome = supervise(children, grace_s=5, out=out)
    if outcome.code != 0:
        raise SystemExit(f"trial failed with code {outcome.code}:\n{out.getvalue()}")
    ready = [float(m.group(1)) for m in re.finditer(r"\] ready \d+ ([0-9.]+)$", out.getvalue(), re.M)]
    if len(ready) != workers:
        raise SystemExit(f"expected {workers} ready lines:\n{out.getvalue()}")
    return max(ready)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    baseline = [trial(1) for _ in range(args.trials)]
    cluster = [trial(args.workers) for _ in range(args.trials)]
    base, dist = statistics.median(baseline), statistics.median(cluster)
    print(f"lone process, import MindSpore + set device: median {base:.2f} s ({args.trials} trials)")
    print(
        f"dynamic cluster, scheduler + {args.workers} workers until all joined: median {dist:.2f} s "
        f"(min {min(cluster):.2f}, max {max(cluster):.2f})"
    )
    print(f"cluster formation costs {dist - base:.2f} s over the lone process ({dist / base:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
