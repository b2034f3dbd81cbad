"""`make demo` end to end, split into what the trainer reports and what local mode adds around it.

Runs scripts/demo.sh once and times each step from its output. Same-run baseline: each job's own
`total cost X s` line (rank 0's training + eval inside the trainer). The rest of a job's wall time is
local mode and start-up: embedded API, kubelet, operator, pod processes, MindSpore import and cluster
forming, checkpoint/summary writing, shutdown.

Run: .venv/bin/python bench/bench_demo.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEP = re.compile(r"^== (\d)/4 ")
STEPS = {"1": "demo-data", "2": "pretrain", "3": "finetune", "4": "finetune-full"}
TOTAL = re.compile(r"^\[worker-0/rank-0\] total cost ([0-9.]+) s$")
ACCURACY = re.compile(r"^\[mnft local\]   accuracy:   ([0-9.]+)$")


def main() -> int:
    load_before = os.getloadavg()
    started = time.monotonic()
    marks: dict[str, float] = {}
    trainer: dict[str, float] = {}
    accuracy: dict[str, str] = {}
    step = "start"
    venv = str(Path(sys.executable).parent.parent)
    proc = subprocess.Popen(
        ["bash", "scripts/demo.sh"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "VENV": venv},
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip("\n")
        if match := STEP.match(line):
            step = STEPS[match.group(1)]
            marks[step] = time.monotonic()
        elif match := TOTAL.match(line):
            trainer[step] = float(match.group(1))
        elif match := ACCURACY.match(line):
            accuracy[step] = match.group(1)
        elif line.startswith("demo: "):  # the demo's own summary lines
            print(line, flush=True)
    code = proc.wait()
    end = time.monotonic()
    if code != 0:
        print(f"demo failed with exit code {code}", file=sys.stderr)
        return code
    order = list(STEPS.values())
    bounds = [*(marks[name] for name in order), end]
    print("| step | wall s | trainer's total cost s | local mode + start-up s | accuracy |")
    print("| --- | --- | --- | --- | --- |")
    for i, name in enumerate(order):
        wall = bounds[i + 1] - bounds[i]
        inner = trainer.get(name)
        rest = "" if inner is None else f"{wall - inner:.1f}"
        shown = "" if inner is None else f"{inner:.1f}"
        print(f"| {name} | {wall:.1f} | {shown} | {rest} | {accuracy.get(name, '')} |")
    print(f"| total | {end - started:.1f} | | | |")
    loads = ", ".join(f"{x:.1f}" for x in (*load_before, *os.getloadavg()))
    print(f"load average (1, 5, 15 min) before, after: {loads}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
