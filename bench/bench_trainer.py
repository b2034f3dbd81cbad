"""Trainer benchmark (issue 2): frozen-backbone fast path against same-run baselines.

1. Feature extraction images/s at 224x224 (PNG decode + recipe eval transform + backbone + pool) against the
   bare network's forward pass on ready tensors, batch 32, in the same process, alternating 64-image rounds.
2. End-to-end frozen-backbone fine-tune (160 images, 10 epochs) and (1,000 images, 200 epochs): ours
   (backbone once, cached features, head epochs on the cache) against a naive variant that recomputes the
   backbone over the data every epoch. The naive variant is measured for `--naive-epochs` epochs and
   extrapolated linearly (each of its epochs does the same work); the output says so.
3. The `mnft train` command end to end (process start to exit) for the 160-image case.

Run: .venv/bin/python bench/bench_trainer.py [--quick]   (numbers go to docs/benchmarks.md)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REFERENCE_CKPT = (
    Path(__file__).resolve().parents[2] / "shared" / "reference" / "mobilenetv2_official_layout.ckpt"
)
MNFT = str(Path(sys.executable).parent / "mnft")


def demo_data(root: Path, classes: str, per_class: int) -> Path:
    """Digits at 224x224 PNG, the first `per_class` training images of each class kept."""
    out = root / f"digits-{classes.replace(',', '')}-{per_class}"
    subprocess.run(
        [MNFT, "demo-data", "--output", str(out), "--classes", classes, "--image_size", "224"],
        check=True,
        capture_output=True,
    )
    for folder in (out / "train").iterdir():
        for extra in sorted(folder.iterdir())[per_class:]:
            extra.unlink()
    return out


def bare_forward_rate(pooled: Any, batch: int, repeats: int) -> float:
    import mindspore as ms

    images = ms.Tensor(np.random.default_rng(0).standard_normal((batch, 3, 224, 224)).astype(np.float32))
    started = time.perf_counter()
    for _ in range(repeats):
        pooled(images).asnumpy()
    return batch * repeats / (time.perf_counter() - started)


def extraction_vs_bare(pooled: Any, samples: Any, rounds: int) -> tuple[float, float]:
    """Alternate bare forward passes and extraction of 64 images, so load changes hit both alike."""
    from mnft_trainer.features import extract_features

    bare_s = extract_s = 0.0
    count = 64
    bare_forward_rate(pooled, 32, 1)  # compile
    sink = open(os.devnull, "w")  # noqa: SIM115 -- silence the progress lines
    for r in range(rounds):
        bare_s += count / bare_forward_rate(pooled, 32, count // 32)
        chunk = samples[(r * count) % len(samples) :][:count]
        stdout, sys.stdout = sys.stdout, sink
        started = time.perf_counter()
        try:
            extract_features(pooled, chunk, 224, 224, 32, "bench")
        finally:
            sys.stdout = stdout
        extract_s += time.perf_counter() - started
    return rounds * count / bare_s, rounds * count / extract_s


def ours(backbone: Any, head: Any, net: Any, samples: Any, cfg: Any, cache_dir: str, ckpt_sha: str) -> float:
    from mnft_trainer.features import cached_features
    from mnft_trainer.network import PooledBackbone
    from mnft_trainer.training import train_head

    started = time.perf_counter()
    features, labels = cached_features(
        PooledBackbone(backbone), samples, 224, 224, 32, ckpt_sha, cache_dir, "train", 0, 1, lambda m: None
    )
    with tempfile.TemporaryDirectory() as ckpt_dir:
        train_head(
            net, head, features, labels, cfg, len(set(labels.tolist())), Path(ckpt_dir), 0, lambda m: None
        )
    return time.perf_counter() - started


def naive(backbone: Any, head: Any, samples: Any, cfg: Any, epochs: int) -> float:
    """The backbone over every image every epoch (no cache), then that epoch's head steps."""
    import mindspore as ms
    from mindspore import nn

    from mnft_trainer.features import extract_features
    from mnft_trainer.lr_schedule import get_lr
    from mnft_trainer.network import PooledBackbone, PooledHead
    from mnft_trainer.training import make_loss

    pooled = PooledBackbone(backbone)
    steps = len(samples) // cfg.batch_size
    lr = get_lr(0, cfg.lr_init, cfg.lr_end, cfg.lr_max, 0, cfg.epoch_size, steps)
    opt = nn.Momentum(head.trainable_params(), ms.Tensor(lr), cfg.momentum, cfg.weight_decay)
    num_classes = len({s.label for s in samples})
    cell = nn.TrainOneStepCell(
        nn.WithLossCell(PooledHead(head), make_loss(num_classes, cfg.label_smooth)), opt
    )
    cell.set_train()
    rng = np.random.default_rng(1)
    sink = open(os.devnull, "w")  # noqa: SIM115 -- silence the progress lines
    bare_forward_rate(pooled, 32, 1)  # compile outside the timing: it is not repeated per epoch
    started = time.perf_counter()
    for _ in range(epochs):
        stdout, sys.stdout = sys.stdout, sink
        try:
            features, labels = extract_features(pooled, samples, 224, 224, 32, "naive")
        finally:
            sys.stdout = stdout
        order = rng.permutation(len(samples))
        for step in range(steps):
            index = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            cell(ms.Tensor(features[index]), ms.Tensor(labels[index])).asnumpy()
    return time.perf_counter() - started


def cli_end_to_end(data: Path, epochs: int, work: Path) -> float:
    out = work / f"cli-{data.name}"
    args = [
        MNFT, "train", "--platform", "CPU", "--dataset_path", str(data), "--freeze_layer", "backbone",
        "--pretrain_ckpt", str(REFERENCE_CKPT), "--epoch_size", str(epochs), "--run_eval", "false",
        "--save_checkpoint_path", str(out),
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no stderr"]
        raise SystemExit(f"mnft train failed with exit code {done.returncode}: {tail[0]}")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script runs")
    parser.add_argument(
        "--naive-epochs", type=int, default=2, help="naive epochs measured, then extrapolated"
    )
    args = parser.parse_args()

    import mindspore as ms

    from mnft_trainer.checkpoint import file_sha256, load_pretrained
    from mnft_trainer.config import resolve_config
    from mnft_trainer.data import scan_image_folder
    from mnft_trainer.network import PooledBackbone, build_network

    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_device("CPU")
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"MindSpore {ms.__version__}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    cases = [("4,5,6,7", 40, 10, min(args.naive_epochs, 10))]
    if not args.quick:
        cases.append(("0,1,2,3,4,5,6,7,8,9", 100, 200, min(args.naive_epochs, 200)))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ckpt_sha = file_sha256(str(REFERENCE_CKPT))
        for classes, per_class, epochs, naive_epochs in cases:
            data = demo_data(work, classes, per_class)
            samples = scan_image_folder(data / "train").samples
            n_classes = len(classes.split(","))
            cfg = resolve_config("CPU", {}, {"epoch_size": epochs})
            backbone, head, net = build_network(n_classes)
            load_pretrained(backbone, head, str(REFERENCE_CKPT), lambda m: None)
            label = f"{len(samples)} images, {epochs} epochs"
            if "bare_forward_images_per_s" not in results:
                pooled = PooledBackbone(backbone)  # one compiled graph for both measurements
                bare, extraction = extraction_vs_bare(pooled, samples, 2 if args.quick else 4)
                results["bare_forward_images_per_s"] = bare
                results["extraction_images_per_s"] = extraction
            ours_s = ours(backbone, head, net, samples, cfg, str(work / f"cache-{label}"), ckpt_sha)
            naive_s = naive(backbone, head, samples, cfg, naive_epochs) * epochs / naive_epochs
            results[label] = {
                "ours_s": round(ours_s, 2),
                "naive_s": round(naive_s, 2),
                "naive_extrapolated_from_epochs": naive_epochs if naive_epochs != epochs else None,
                "speedup": round(naive_s / ours_s, 1),
            }
            if per_class == 40:
                results[label]["mnft_train_cli_s"] = round(cli_end_to_end(data, epochs, work), 2)
    results["extraction_vs_bare_forward"] = round(
        results["extraction_images_per_s"] / results["bare_forward_images_per_s"], 2
    )
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
