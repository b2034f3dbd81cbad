"""Trainer benchmark (issue 2): frozen-backbone fast path against same-run baselines.

1. Feature extraction images/s at 224x224 (PNG decode + recipe eval transform + BatchNorm-folded backbone +
   pool, as `mnft train` runs it) against the bare network's forward pass on ready tensors (the plain,
   unfolded network as a user would run it), batch 32, in the same process, alternating 64-image rounds;
   medians of the rounds.
2. End-to-end frozen-backbone fine-tune (160 images, 10 epochs) and (1,000 images, 200 epochs): ours
   (backbone once, cached features, head epochs on the cache) against a naive variant that recomputes the
   backbone over the data every epoch. The naive variant is measured for `--naive-epochs` epochs and
   extrapolated linearly (each of its epochs does the same work); the output says so.
3. The `mnft train` command end to end (process start to exit) for the 160-image case, median of
   `--repeats` runs, against `bench/r12_frozen_reference.py` (a faithful re-implementation of the r1.2
   recipe's frozen flow) on the same data, both as shipped (oneDNN's default ISA: its scalar-kernel
   fallback on AVX-512) and with the trainer's AVX2 cap (`mnft_trainer.onednn`), interleaved run by run.

The in-process measurements (1, 2) run with the trainer's oneDNN cap, as `mnft train` does.
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
    Path(__file__).resolve().parents[1] / "tests" / "data" / "reference" / "mobilenetv2_official_layout.ckpt"
)
MNFT = str(Path(sys.executable).parent / "mnft")
R12 = str(Path(__file__).resolve().parent / "r12_frozen_reference.py")


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


def extraction_vs_bare(pooled: Any, samples: Any, rounds: int) -> dict[str, Any]:
    """Alternate bare forward passes and extraction of 64 images, so load changes hit both alike.

    The bare forward is the plain (unfolded) PooledBackbone as a user would run it; extraction runs what
    `mnft train` runs (`extract_features`: decode, eval transform, BatchNorm-folded backbone, pool). Both
    graphs are compiled before timing (the folded one's compile is reported separately).
    Rates are per round; the medians and the median of the per-round ratios are reported.
    """
    from mnft_trainer.features import extract_features, inference_cell

    count = 64
    sink = open(os.devnull, "w")  # noqa: SIM115 -- silence the progress lines

    def extract(chunk: Any) -> float:
        stdout, sys.stdout = sys.stdout, sink
        started = time.perf_counter()
        try:
            extract_features(pooled, chunk, 224, 224, 32, "bench")
        finally:
            sys.stdout = stdout
        return len(chunk) / (time.perf_counter() - started)

    bare_forward_rate(pooled, 32, 2)  # compile and warm up
    started = time.perf_counter()
    extract(samples[:32])  # compiles the folded graph
    first_extraction_s = time.perf_counter() - started
    folded_cell = inference_cell(pooled)
    bare_forward_rate(folded_cell, 32, 1)
    bare: list[float] = []
    folded: list[float] = []
    extraction: list[float] = []
    for r in range(rounds):
        bare.append(bare_forward_rate(pooled, 32, count // 32))
        folded.append(bare_forward_rate(folded_cell, 32, count // 32))
        extraction.append(extract(samples[(r * count) % len(samples) :][:count]))
    ratios = [e / b for e, b in zip(extraction, bare, strict=True)]
    return {
        "bare_forward_images_per_s": round(float(np.median(bare)), 1),
        "folded_forward_images_per_s": round(float(np.median(folded)), 1),
        "extraction_images_per_s": round(float(np.median(extraction)), 1),
        "extraction_vs_bare_forward": round(float(np.median(ratios)), 2),
        "extraction_vs_bare_rounds": [round(x, 2) for x in ratios],
        "first_extraction_of_32_s": round(first_extraction_s, 2),
    }


def ours(backbone: Any, head: Any, net: Any, samples: Any, cfg: Any, cache_dir: str, ckpt_sha: str) -> float:
    from mnft_trainer.context import RunContext, RunPaths
    from mnft_trainer.distributed import DistContext
    from mnft_trainer.features import FeatureJob, cached_features
    from mnft_trainer.network import PooledBackbone
    from mnft_trainer.training import train_head

    sink = open(os.devnull, "w")  # noqa: SIM115 -- silence the progress lines
    started = time.perf_counter()
    stdout, sys.stdout = sys.stdout, sink
    try:
        job = FeatureJob(PooledBackbone(backbone), ckpt_sha, 224, 224, 32, cache_dir, lambda m: None)
        features, labels = cached_features(job, samples, "train")
    finally:
        sys.stdout = stdout
    classes = tuple(str(label) for label in sorted(set(labels.tolist())))
    with tempfile.TemporaryDirectory() as ckpt_dir:
        paths = RunPaths(ckpt_dir, Path(ckpt_dir), cache_dir)
        ctx = RunContext(cfg, DistContext(0, 1, None, False), paths, lambda m: None, classes)
        train_head(ctx, net, head, features, labels)
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


def r12_end_to_end(data: Path, epochs: int, work: Path, capped: bool) -> float:
    """Wall seconds of the r1.2 reference flow as its own process (fresh feature files each run)."""
    out = Path(tempfile.mkdtemp(dir=work, prefix="r12-"))
    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_MAX_CPU_ISA"}
    if capped:
        env["ONEDNN_MAX_CPU_ISA"] = "AVX2"
    env.setdefault("GLOG_v", "3")
    args = [sys.executable, R12, str(data / "train"), str(REFERENCE_CKPT), str(epochs), str(out)]
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no stderr"]
        raise SystemExit(f"r1.2 reference failed with exit code {done.returncode}: {tail[0]}")
    return time.perf_counter() - started


def cli_end_to_end(data: Path, epochs: int, work: Path) -> float:
    out = Path(tempfile.mkdtemp(dir=work, prefix="cli-"))
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


def end_to_end(data: Path, epochs: int, work: Path, repeats: int) -> dict[str, Any]:
    """Median wall seconds of `mnft train` and the r1.2 reference (as shipped, and capped), interleaved."""
    times: dict[str, list[float]] = {"mnft_train": [], "r12_capped": [], "r12_as_shipped": []}
    for _ in range(repeats):
        times["mnft_train"].append(cli_end_to_end(data, epochs, work))
        times["r12_capped"].append(r12_end_to_end(data, epochs, work, capped=True))
        times["r12_as_shipped"].append(r12_end_to_end(data, epochs, work, capped=False))
    medians = {name: float(np.median(values)) for name, values in times.items()}
    return {
        **{f"{name}_runs_s": [round(v, 2) for v in values] for name, values in times.items()},
        **{f"{name}_median_s": round(v, 2) for name, v in medians.items()},
        "speedup_vs_r12_capped": round(medians["r12_capped"] / medians["mnft_train"], 2),
        "speedup_vs_r12_as_shipped": round(medians["r12_as_shipped"] / medians["mnft_train"], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script runs")
    parser.add_argument(
        "--naive-epochs", type=int, default=2, help="naive epochs measured, then extrapolated"
    )
    parser.add_argument("--repeats", type=int, default=3, help="end-to-end process runs (median)")
    args = parser.parse_args()

    from mnft_trainer.onednn import cap_onednn_isa

    isa = cap_onednn_isa()
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
        "load_average_at_start": os.getloadavg()[0],
        "onednn_max_cpu_isa_in_process": isa,
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
                results.update(extraction_vs_bare(pooled, samples, 2 if args.quick else 6))
            ours_s = ours(backbone, head, net, samples, cfg, str(work / f"cache-{label}"), ckpt_sha)
            naive_s = naive(backbone, head, samples, cfg, naive_epochs) * epochs / naive_epochs
            results[label] = {
                "ours_s": round(ours_s, 2),
                "naive_s": round(naive_s, 2),
                "naive_extrapolated_from_epochs": naive_epochs if naive_epochs != epochs else None,
                "speedup": round(naive_s / ours_s, 1),
            }
            if per_class == 40:
                results[label].update(end_to_end(data, epochs, work, args.repeats))
    results["load_average_at_end"] = os.getloadavg()[0]
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
