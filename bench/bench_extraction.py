"""Extraction engines (issue 14): images/s at 224x224, batch 32, every variant in the same process.

Interleaved rounds of `--images` images each; medians of the rounds, and per-round ratios against the
bare MindSpore forward of the same round (so load changes hit all alike):
- `ms_bare`: the plain, unfolded PooledBackbone on ready tensors (what a user would run);
- `ms_folded`: the BatchNorm-folded backbone on MindSpore (the trainer's extraction before issue 14);
- `ort`: the folded backbone exported by MindSpore (`mindspore.onnx.export`), on ONNX Runtime as the
  trainer runs it (`engine.load`: batches of `engine.ENGINE_BATCH` on one single-threaded stream per CPU);
- `ort_one_call`: the batch-32 export on one ONNX Runtime call at a time on every core (before 2026-12-02);
- `ov_f32` / `ov_default`: the same file on OpenVINO (f32 hint / its default precision), if installed;
- `decode`: decode + eval transforms only (the data pipeline, no forward);
- `extract_ms`: end to end as before (decode + transforms + folded MindSpore forward);
- `extract_engine`: end to end as `mnft train` now runs it (decode + transforms + ONNX Runtime).
The backbone has random non-trivial BatchNorm statistics (the shared checkpoint's near-zero weights
would give denormal-sized features). Features of every engine are compared with `ms_bare`.
Run: .venv/bin/python bench/bench_extraction.py [--rounds 5] [--images 64]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_trainer import demo_data

BATCH = 32
SIZE = 224


def randomise_batchnorm(backbone: Any, seed: int) -> None:
    import mindspore as ms
    from mindspore import nn

    rng = np.random.default_rng(seed)
    for _, cell in backbone.cells_and_names():
        if isinstance(cell, nn.BatchNorm2d):
            n = cell.gamma.shape[0]
            cell.gamma.set_data(ms.Tensor(rng.uniform(0.5, 1.5, n).astype(np.float32)))
            cell.beta.set_data(ms.Tensor(rng.normal(0, 0.1, n).astype(np.float32)))
            cell.moving_mean.set_data(ms.Tensor(rng.normal(0, 0.1, n).astype(np.float32)))
            cell.moving_variance.set_data(ms.Tensor(rng.uniform(0.5, 2.0, n).astype(np.float32)))


def cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
        flags = next(line for line in text.splitlines() if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return "?"
    return " ".join(sorted(f for f in flags if f.startswith(("avx", "amx"))))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--no-openvino", action="store_true")
    args = parser.parse_args()

    from mnft_trainer.onednn import cap_onednn_isa

    cap_onednn_isa()
    import mindspore as ms

    from mnft_trainer import engine
    from mnft_trainer.data import ImageSource, scan_image_folder
    from mnft_trainer.features import extract_features, inference_cell, iterate_images, run_batches
    from mnft_trainer.network import FoldedPooledBackbone, PooledBackbone, build_network

    ms.set_context(mode=ms.GRAPH_MODE)
    np.random.seed(1)
    tmp = Path(tempfile.mkdtemp(prefix="bench-extraction-"))
    data = demo_data(tmp, "0,1,2,3,4", args.images // 5 + 1)
    samples = scan_image_folder(data / "train").samples[: args.images]
    assert len(samples) == args.images, len(samples)

    backbone, _, _ = build_network(5)
    randomise_batchnorm(backbone, 1)
    pooled = PooledBackbone(backbone)
    pooled.set_train(False)
    folded = inference_cell(pooled)
    started = time.perf_counter()
    onnx_path = engine.export_onnx(FoldedPooledBackbone(backbone), BATCH, SIZE, SIZE, tmp / "backbone.onnx")
    export_s = time.perf_counter() - started
    onnx_small = tmp / "backbone-small.onnx"
    engine.export_onnx(FoldedPooledBackbone(backbone), engine.ENGINE_BATCH, SIZE, SIZE, onnx_small)
    ort = engine.load(onnx_small)
    import onnxruntime

    one_call = onnxruntime.InferenceSession(str(onnx_path), engine.session_options(0))

    def ort_one_call(x: np.ndarray) -> np.ndarray:
        return engine.padded_batches(lambda b: one_call.run(None, {"images": b})[0], x, BATCH)

    ms_folded = engine.MindSporeExtractor(folded, BATCH, "folded")

    images = np.concatenate([b for b, _ in iterate_images(ImageSource(samples), SIZE, SIZE, BATCH)])
    variants: dict[str, Any] = {
        "ms_bare": lambda: run_batches_all(pooled, images),
        "ms_folded": lambda: ms_folded(images),
        "ort": lambda: ort(images),
        "ort_one_call": lambda: ort_one_call(images),
    }
    if not args.no_openvino:
        try:
            import openvino as ov
        except ImportError:
            pass
        else:
            core = ov.Core()
            ov_f32 = core.compile_model(str(onnx_path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
            ov_default = core.compile_model(str(onnx_path), "CPU")
            precision = ov_default.get_property("INFERENCE_PRECISION_HINT")
            print(f"openvino {ov.__version__}: default precision {precision}")
            variants["ov_f32"] = lambda: engine.padded_batches(lambda b: ov_f32(b)[0], images, BATCH)
            variants["ov_default"] = lambda: engine.padded_batches(lambda b: ov_default(b)[0], images, BATCH)
    variants["decode"] = lambda: [b for b, _ in iterate_images(ImageSource(samples), SIZE, SIZE, BATCH)]
    variants["extract_ms"] = lambda: extract_features(pooled, samples, SIZE, SIZE, BATCH, "ms", ms_folded)[0]
    variants["extract_engine"] = lambda: extract_features(pooled, samples, SIZE, SIZE, BATCH, "ort", ort)[0]

    def run_batches_all(cell: Any, x: np.ndarray) -> np.ndarray:
        return np.concatenate([run_batches(cell, x[i : i + BATCH], BATCH) for i in range(0, len(x), BATCH)])

    reference = variants["ms_bare"]()  # also warms up every variant below
    diffs = {}
    for name, run in variants.items():
        out = run()
        if name != "decode":
            diffs[name] = float(np.abs(np.asarray(out) - reference).max())
    load_before = os.getloadavg()
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, run in variants.items():
            t0 = time.perf_counter()
            run()
            rates[name].append(len(samples) / (time.perf_counter() - t0))
    load_after = os.getloadavg()
    result = {
        "machine": f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} CPUs, {cpu_flags()}",
        "mindspore": ms.__version__,
        "onnxruntime": ort.name,
        "images_per_round": len(samples),
        "rounds": args.rounds,
        "export_s": round(export_s, 2),
        "largest_feature": float(np.abs(reference).max()),
        "max_abs_diff_vs_ms_bare": diffs,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
        "median_images_per_s": {k: round(statistics.median(v), 1) for k, v in rates.items()},
        "rounds_images_per_s": {k: [round(x, 1) for x in v] for k, v in rates.items()},
        "median_ratio_vs_ms_bare": {
            k: round(statistics.median(a / b for a, b in zip(v, rates["ms_bare"], strict=True)), 2)
            for k, v in rates.items()
        },
        "median_ratio_extract_engine_vs_extract_ms": round(
            statistics.median(
                a / b for a, b in zip(rates["extract_engine"], rates["extract_ms"], strict=True)
            ),
            2,
        ),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
