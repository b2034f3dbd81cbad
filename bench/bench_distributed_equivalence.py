"""Distributed training against one process: 2 ranks x batch B against 1 process x batch 2B.

Both train MobileNetV2 from scratch on the same data with the same seed and recipe (by default the demo's
pre-training: digits 0-4 at 32x32, 6 epochs, lr 0.02 with 1 warm-up epoch then cosine to 0, mild crops,
no flip, no jitter), then evaluate. The 2 ranks run through `mnft launch` (one pod, 2 devices: the
MindSpore dynamic cluster on loopback) as the operator starts them; the lone process is `mnft train`.
It prints both runs' per-epoch loss (the 2-rank loss is the mean over both ranks), the final accuracies,
whether the two ranks' final checkpoints are identical, the sharded eval's counts against `mnft eval` of
rank 0's checkpoint in one process, and the wall times with the load average.

Usage: `python bench/bench_distributed_equivalence.py [--data DIR] [--batch 16] [--epochs 6]`
(without --data it writes the digits 0-4 with `mnft demo-data` to a temporary directory).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MNFT = str(Path(sys.executable).parent / "mnft")
# mnft appends ", lr: ..., images/s: ..., eta: ..." to the recipe's line
EPOCH = re.compile(r"epoch\[(\d+)/\d+\], iter\[\d+\] .* avg loss: (\d+\.\d+)(,|$)")
EVAL = re.compile(r"eval: (\d+) images, (\d+) correct$")


def recipe(epochs: int, batch: int) -> list[str]:
    return [
        "--platform", "CPU", "--image_height", "32", "--image_width", "32",
        "--batch_size", str(batch), "--epoch_size", str(epochs),
        "--warmup_epochs", "1", "--lr_max", "0.02", "--lr_end", "0",
        "--crop_scale_min", "0.6", "--crop_ratio_min", "0.85", "--crop_ratio_max", "1.18",
        "--flip_prob", "0", "--color_jitter", "0",
    ]  # fmt: skip


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MNFT_", "MS_", "RANK_", "GLOG"))}
    return {**env, **extra}


def two_ranks_env() -> dict[str, str]:
    from mnft_trainer.pod.launch import free_tcp_port

    return clean_env(
        MNFT_JOB_NAME="bench", MNFT_NAMESPACE="default", MNFT_PLATFORM="CPU", MNFT_WORKER_INDEX="0",
        MNFT_WORKERS="1", MNFT_DEVICES_PER_WORKER="2", MNFT_COMM_MODE="dynamicCluster",
        MS_SCHED_HOST="localhost", MS_SCHED_PORT=str(free_tcp_port()), MS_WORKER_NUM="2",
        MNFT_NODE_RANK="0", MNFT_LOCAL_WORKER_NUM="2",
    )  # fmt: skip


def run(argv: list[str], env: dict[str, str]) -> tuple[str, float]:
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=3600)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout, seconds


def parse(stdout: str) -> tuple[list[float], tuple[int, int]]:
    losses = [float(m.group(2)) for line in stdout.splitlines() if (m := EPOCH.search(line))]
    counts = [(int(m.group(1)), int(m.group(2))) for line in stdout.splitlines() if (m := EVAL.search(line))]
    return losses, counts[-1]


def identical(a: Path, b: Path) -> bool:
    import mindspore as ms
    import numpy as np

    left, right = ms.load_checkpoint(str(a)), ms.load_checkpoint(str(b))
    return sorted(left) == sorted(right) and all(
        np.array_equal(left[k].asnumpy(), right[k].asnumpy()) for k in left
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", help="ImageFolder root with train/ and eval/ (default: digits 0-4)")
    parser.add_argument("--batch", type=int, default=16, help="per-rank batch B (the lone process: 2B)")
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-equivalence-"))
    data = Path(args.data) if args.data else work / "digits-0-4"
    if not args.data:
        run([MNFT, "demo-data", "--classes", "0,1,2,3,4", "--output", str(data)], clean_env())
    load_before = os.getloadavg()
    common = ["--dataset_path", str(data), "--run_eval", "true"]
    two_out, two_s = run(
        [MNFT, "launch", "train", *recipe(args.epochs, args.batch), *common,
         "--save_checkpoint_path", str(work / "two")],
        two_ranks_env(),
    )  # fmt: skip
    one_out, one_s = run(
        [MNFT, "train", *recipe(args.epochs, 2 * args.batch), *common,
         "--save_checkpoint_path", str(work / "one")],
        clean_env(GLOG_v="3"),
    )  # fmt: skip
    final = f"mobilenetv2_{args.epochs}.ckpt"
    eval_out, _ = run(
        [MNFT, "eval", *recipe(args.epochs, args.batch), "--dataset_path", str(data),
         "--pretrain_ckpt", str(work / "two" / "ckpt_0" / final)],
        clean_env(GLOG_v="3"),
    )  # fmt: skip
    two_losses, two_counts = parse(two_out)
    one_losses, one_counts = parse(one_out)
    _, eval_counts = parse(eval_out)
    result = {
        "epochs": args.epochs,
        "batch": {"two_ranks": args.batch, "one_process": 2 * args.batch},
        "loss_two_ranks": two_losses,
        "loss_one_process": one_losses,
        "max_abs_loss_difference": round(
            max(abs(a - b) for a, b in zip(two_losses, one_losses, strict=True)), 3
        ),
        "accuracy_two_ranks": two_counts[1] / two_counts[0],
        "accuracy_one_process": one_counts[1] / one_counts[0],
        "sharded_eval_counts": two_counts,
        "mnft_eval_counts": eval_counts,
        "rank_checkpoints_identical": identical(
            work / "two" / "ckpt_0" / final, work / "two" / "ckpt_1" / final
        ),
        "info_lines_in_rank_logs": sum(1 for line in two_out.splitlines() if "[INFO]" in line),
        "seconds": {"two_ranks": round(two_s, 1), "one_process": round(one_s, 1)},
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
