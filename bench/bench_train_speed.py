"""Training speed on CPU (issue 14), every comparison against a same-run baseline, interleaved.

`frozen`: `mnft train --freeze_layer backbone` as a process, start to exit, on 224x224 digits PNGs
  (`--images` training images, `--epochs` epochs, recipe CPU defaults otherwise), with the extraction
  engine (ONNX Runtime) against the trainer's MindSpore extraction (`MNFT_FEATURE_ENGINE=mindspore`),
  alternating run by run, each run with a fresh feature cache (so each one extracts and exports).
`full`: full-network training steps (forward + backward + Momentum, 224x224, `--batch`, `--classes`),
  images/s of the timed steps after warm-up, one process per variant per round, variants alternating:
  MindSpore (GRAPH_MODE, as `mnft train` runs it) with the settings tried for issue 14 item 4, and
  PyTorch eager channels_last (and NCHW) on a MobileNetV2 written here (torchvision does not import
  beside the on-disk torch 2.13 build). PyTorch is a benchmark-only dependency:
  `.venv/bin/pip install torch==2.13.0` (the CPU file on disk; never add it to pyproject).
Run: .venv/bin/python bench/bench_train_speed.py frozen|full [options]; load averages are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_trainer import MNFT, demo_data

MS_VARIANTS: dict[str, dict[str, Any]] = {
    "ms_default": {},
    "ms_threads2": {"context": {"runtime_num_threads": 2}},
    "ms_jit_O1": {"context": {"jit_config": {"jit_level": "O1"}}},
    "ms_no_isa_cap": {"env": {"ONEDNN_MAX_CPU_ISA": "ALL"}},
    "ms_omp2": {"env": {"OMP_NUM_THREADS": "2"}},
}
TORCH_VARIANTS = ("torch_channels_last", "torch_nchw")


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---- frozen: `mnft train --freeze_layer backbone` with and without the engine ----


def trained_checkpoint(path: Path, classes: int) -> Path:
    """A checkpoint whose backbone has non-trivial BatchNorm statistics (realistic feature magnitudes)."""
    code = (
        "import sys, numpy as np, mindspore as ms; from mindspore import nn;"
        "from mnft_trainer.network import build_network;"
        f"b, _, net = build_network({classes}); rng = np.random.default_rng(1)\n"
        "for _, c in b.cells_and_names():\n"
        "    if isinstance(c, nn.BatchNorm2d):\n"
        "        n = c.gamma.shape[0]\n"
        "        c.gamma.set_data(ms.Tensor(rng.uniform(0.5, 1.5, n).astype(np.float32)))\n"
        "        c.beta.set_data(ms.Tensor(rng.normal(0, 0.1, n).astype(np.float32)))\n"
        "        c.moving_mean.set_data(ms.Tensor(rng.normal(0, 0.1, n).astype(np.float32)))\n"
        "        c.moving_variance.set_data(ms.Tensor(rng.uniform(0.5, 2.0, n).astype(np.float32)))\n"
        f"ms.save_checkpoint(net, {str(path)!r})\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return path


def frozen_run(data: Path, ckpt: Path, epochs: int, engine: str, out: Path) -> tuple[float, str]:
    env = {**os.environ, "MNFT_FEATURE_ENGINE": engine}
    command = [
        MNFT, "train", "--platform", "CPU", "--dataset_path", str(data), "--pretrain_ckpt", str(ckpt),
        "--freeze_layer", "backbone", "--epoch_size", str(epochs), "--save_checkpoint_path", str(out),
    ]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"mnft train failed ({engine}):\n{done.stderr[-3000:]}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("feature extraction: "))
    return wall, line


def frozen(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-frozen-"))
    classes = 5 if args.images <= 5 * 140 else 10  # the digits have ~144 training images a class
    data = demo_data(tmp, ",".join(str(c) for c in range(classes)), args.images // classes)
    ckpt = trained_checkpoint(tmp / "trained.ckpt", classes)
    walls: dict[str, list[float]] = {"onnxruntime": [], "mindspore": []}
    lines: dict[str, str] = {}
    load_before = load()
    for r in range(args.repeats):
        for engine in ("onnxruntime", "mindspore"):
            wall, lines[engine] = frozen_run(data, ckpt, args.epochs, engine, tmp / f"out-{engine}-{r}")
            walls[engine].append(round(wall, 2))
            print(f"round {r}: {engine} {wall:.1f} s  load {load()}", flush=True)
    ratios = [m / o for m, o in zip(walls["mindspore"], walls["onnxruntime"], strict=True)]
    return {
        "images": args.images,
        "classes": classes,
        "epochs": args.epochs,
        "engine_lines": lines,
        "wall_s": walls,
        "median_wall_s": {k: statistics.median(v) for k, v in walls.items()},
        "speedup_per_round": [round(x, 2) for x in ratios],
        "median_speedup": round(statistics.median(ratios), 2),
        "load_before": load_before,
        "load_after": load(),
    }


# ---- full: training steps, MindSpore variants against PyTorch ----


def ms_worker(variant: str, batch: int, classes: int, steps: int, warmup: int) -> float:
    settings = MS_VARIANTS[variant]
    os.environ.update(settings.get("env", {}))
    from mnft_trainer.onednn import cap_onednn_isa

    cap_onednn_isa()  # as the trainer does (a variant's own value wins)
    import mindspore as ms
    from mindspore import nn

    from mnft_trainer.network import build_network

    ms.set_context(mode=ms.GRAPH_MODE, **settings.get("context", {}))
    ms.set_seed(1)
    np.random.seed(1)
    _, _, net = build_network(classes)
    loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
    opt = nn.Momentum(net.trainable_params(), 0.01, 0.9, weight_decay=4e-5)
    step = nn.TrainOneStepCell(nn.WithLossCell(net, loss), opt)
    step.set_train(True)
    rng = np.random.default_rng(0)
    x = ms.Tensor(rng.standard_normal((batch, 3, 224, 224)).astype(np.float32))
    y = ms.Tensor(rng.integers(0, classes, batch).astype(np.int32))
    for _ in range(warmup):
        step(x, y).asnumpy()
    started = time.perf_counter()
    for _ in range(steps):
        step(x, y).asnumpy()
    return batch * steps / (time.perf_counter() - started)


def torch_mobilenet_v2(classes: int) -> Any:
    import torch
    from torch import nn

    def conv_bn(inp: int, oup: int, k: int, s: int, groups: int = 1, relu: bool = True) -> list[Any]:
        layers = [nn.Conv2d(inp, oup, k, s, (k - 1) // 2, groups=groups, bias=False), nn.BatchNorm2d(oup)]
        return [*layers, nn.ReLU6(inplace=True)] if relu else layers

    class Block(nn.Module):
        def __init__(self, inp: int, oup: int, stride: int, t: int):
            super().__init__()
            hidden = inp * t
            layers = conv_bn(inp, hidden, 1, 1) if t != 1 else []
            layers += conv_bn(hidden, hidden, 3, stride, groups=hidden)
            layers += conv_bn(hidden, oup, 1, 1, relu=False)
            self.conv = nn.Sequential(*layers)
            self.res = stride == 1 and inp == oup

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.conv(x) if self.res else self.conv(x)

    from mnft_trainer.network import INVERTED_RESIDUAL_SETTING

    layers: list[Any] = conv_bn(3, 32, 3, 2)
    inp = 32
    for t, c, n, s in INVERTED_RESIDUAL_SETTING:
        for i in range(n):
            layers.append(Block(inp, c, s if i == 0 else 1, t))
            inp = c
    layers += [*conv_bn(inp, 1280, 1, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1280, classes)]
    return nn.Sequential(*layers)


def torch_worker(variant: str, batch: int, classes: int, steps: int, warmup: int) -> float:
    import torch

    torch.manual_seed(1)
    net = torch_mobilenet_v2(classes)
    fmt = torch.channels_last if variant == "torch_channels_last" else torch.contiguous_format
    net = net.to(memory_format=fmt).train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=4e-5)
    x = torch.randn(batch, 3, 224, 224).to(memory_format=fmt)
    y = torch.randint(0, classes, (batch,))

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()

    for _ in range(warmup):
        step()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return batch * steps / (time.perf_counter() - started)


def full(args: argparse.Namespace) -> dict[str, Any]:
    variants = args.variants.split(",")
    rates: dict[str, list[float]] = {v: [] for v in variants}
    load_before = load()
    for r in range(args.repeats):
        for variant in variants:
            command = [
                sys.executable, __file__, "worker", variant, "--batch", str(args.batch),
                "--classes", str(args.classes), "--steps", str(args.steps), "--warmup", str(args.warmup),
            ]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{variant}: failed: {done.stderr.strip().splitlines()[-1:]}", flush=True)
                rates[variant].append(float("nan"))
                continue
            rate = float(done.stdout.strip().splitlines()[-1])
            rates[variant].append(round(rate, 2))
            print(f"round {r}: {variant} {rate:.2f} images/s  load {load()}", flush=True)
    base = args.baseline
    return {
        "batch": args.batch,
        "classes": args.classes,
        "timed_steps": args.steps,
        "images_per_s": rates,
        "median_images_per_s": {k: statistics.median(v) for k, v in rates.items()},
        f"median_ratio_vs_{base}": {
            k: round(statistics.median(a / b for a, b in zip(v, rates[base], strict=True)), 2)
            for k, v in rates.items()
        },
        "load_before": load_before,
        "load_after": load(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    f = sub.add_parser("frozen")
    f.add_argument("--images", type=int, default=160)
    f.add_argument("--epochs", type=int, default=10)
    f.add_argument("--repeats", type=int, default=3)
    u = sub.add_parser("full")
    u.add_argument("--variants", default="ms_default,torch_channels_last,ms_threads2,ms_jit_O1,torch_nchw")
    u.add_argument("--baseline", default="torch_channels_last")
    w = sub.add_parser("worker")
    w.add_argument("variant")
    for p in (u, w):
        p.add_argument("--batch", type=int, default=32)
        p.add_argument("--classes", type=int, default=5)
        p.add_argument("--steps", type=int, default=3)
        p.add_argument("--warmup", type=int, default=1)
    u.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if args.mode == "worker":
        worker = torch_worker if args.variant.startswith("torch") else ms_worker
        print(worker(args.variant, args.batch, args.classes, args.steps, args.warmup))
        return
    print(json.dumps(frozen(args) if args.mode == "frozen" else full(args), indent=1))


if __name__ == "__main__":
    main()
