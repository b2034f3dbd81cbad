"""The extraction's data pipeline against its engine (issue 14 item 2), 224x224, batch 32, one process.

1. Split per image, one thread, CPU seconds (`time.thread_time`, so other processes' load does not
   count) and wall: read + Pillow decode (`data.decode_image`), the eval transforms as MindSpore's C++
   ops (Resize 256, CenterCrop 224, Normalize, HWC2CHW), MindSpore's own C++ `vision.Decode` for
   comparison; and the forward on ONNX Runtime (batch 32; CPU of the whole process).
2. Pipeline rates, interleaved rounds of `--images` images, medians: the eval dataset (`data.make_dataset`)
   with the decode source in 1 or 2 threads and the transforms in 1 or 2; the forward alone (ONNX
   Runtime, spinning threads as before / not spinning as now); end to end (pipeline + forward, as
   `features.extract_features` runs it) as before (2 source threads, spinning) and as now.
Two kinds of images: the demo's 224x224 grey digits PNGs and 500x375 RGB JPEGs (photo-sized).
Run: .venv/bin/python bench/bench_pipeline.py [--rounds 5] [--images 128] [--kinds png,jpeg]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_extraction import randomise_batchnorm
from bench_trainer import demo_data

BATCH = 32
SIZE = 224


def jpeg_folder(root: Path, count: int) -> Path:
    """`count` 500x375 RGB JPEGs (quality 90) of smooth random content, in one class folder."""
    from PIL import Image

    rng = np.random.default_rng(0)
    folder = root / "jpeg" / "train" / "a"
    folder.mkdir(parents=True)
    for i in range(count):
        base = rng.integers(0, 256, (47, 63, 3), dtype=np.uint8)
        Image.fromarray(base).resize((500, 375), Image.Resampling.BICUBIC).save(
            folder / f"{i}.jpg", quality=90
        )
    return root / "jpeg"


def per_image(run: Callable[[Any], Any], items: list[Any]) -> dict[str, float]:
    """ms per item, CPU of this thread and wall, after one warm-up call."""
    run(items[0])
    cpu, wall = time.thread_time(), time.perf_counter()
    for item in items:
        run(item)
    return {
        "cpu_ms": round(1000 * (time.thread_time() - cpu) / len(items), 3),
        "wall_ms": round(1000 * (time.perf_counter() - wall) / len(items), 3),
    }


def split(samples: list[Any], ort_session: Any) -> dict[str, Any]:
    from mindspore.dataset import vision

    from mnft_trainer.data import MEAN, STD, decode_image, eval_resize

    paths = [s.path for s in samples]
    resize = vision.Resize(eval_resize(SIZE, SIZE))
    crop, normalize, chw = (
        vision.CenterCrop((SIZE, SIZE)),
        vision.Normalize(mean=MEAN, std=STD),
        vision.HWC2CHW(),
    )
    decoded = [decode_image(p) for p in paths]
    ms_decode = vision.Decode()
    raw = [np.frombuffer(Path(p).read_bytes(), np.uint8) for p in paths]
    images = np.random.default_rng(0).standard_normal((BATCH, 3, SIZE, SIZE)).astype(np.float32)
    name = ort_session.get_inputs()[0].name
    ort_session.run(None, {name: images})
    cpu, wall = time.process_time(), time.perf_counter()
    repeats = max(1, len(samples) // BATCH)
    for _ in range(repeats):
        ort_session.run(None, {name: images})
    forward = {
        "cpu_ms": round(1000 * (time.process_time() - cpu) / (repeats * BATCH), 3),
        "wall_ms": round(1000 * (time.perf_counter() - wall) / (repeats * BATCH), 3),
    }
    return {
        "decode (read + Pillow)": per_image(decode_image, paths),
        "decode (MindSpore C++ vision.Decode, for comparison)": per_image(ms_decode, raw),
        "transform (Resize + CenterCrop + Normalize + HWC2CHW)": per_image(
            lambda image: chw(normalize(crop(resize(image)))), decoded
        ),
        "forward (ONNX Runtime, batch 32, all threads)": forward,
    }


def measure(
    samples: list[Any], spinning_run: Callable[[np.ndarray], Any], now: Any, spinning: Any, rounds: int
) -> dict[str, Any]:
    """Split and interleaved rates for one kind of images."""
    from mnft_trainer.data import ImageSource, make_dataset

    def pipeline(source_workers: int, workers: int, forward: Callable[[np.ndarray], Any] | None = None):
        def run() -> None:
            dataset = make_dataset(
                ImageSource(samples),
                SIZE,
                SIZE,
                BATCH,
                False,
                workers=workers,
                source_workers=source_workers,
            )
            for images, _ in dataset.create_tuple_iterator(num_epochs=1, output_numpy=True):
                if forward is not None:
                    forward(images)

        return run

    block = np.random.default_rng(0).standard_normal((len(samples), 3, SIZE, SIZE)).astype(np.float32)
    variants: dict[str, Callable[[], None]] = {
        "pipeline s2 m2 (before)": pipeline(2, 2),
        "pipeline s1 m2 (now)": pipeline(1, 2),
        "pipeline s1 m1": pipeline(1, 1),
        "pipeline s2 m1": pipeline(2, 1),
        "forward, spinning (before)": lambda: spinning_run(block),
        "forward, no spinning (now)": lambda: now(block),
        "end to end before (s2 m2, spinning)": pipeline(2, 2, spinning_run),
        "end to end s1 m2, spinning": pipeline(1, 2, spinning_run),
        "end to end s2 m2, no spinning": pipeline(2, 2, now),
        "end to end now (s1 m2, no spinning)": pipeline(1, 2, now),
    }
    for run in variants.values():
        run()  # warm-up
    rates: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, run in variants.items():
            c0, w0 = time.process_time(), time.perf_counter()
            run()
            rates[name].append(len(samples) / (time.perf_counter() - w0))
            cpu[name].append(1000 * (time.process_time() - c0) / len(samples))
    base = "end to end before (s2 m2, spinning)"
    return {
        "images": len(samples),
        "split_ms_per_image": split(samples, spinning),
        "median_images_per_s": {k: round(statistics.median(v), 1) for k, v in rates.items()},
        "rounds_images_per_s": {k: [round(x, 1) for x in v] for k, v in rates.items()},
        "median_process_cpu_ms_per_image": {k: round(statistics.median(v), 2) for k, v in cpu.items()},
        f"median_ratio_vs_{base}": {
            k: round(statistics.median(a / b for a, b in zip(v, rates[base], strict=True)), 2)
            for k, v in rates.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--images", type=int, default=128)
    parser.add_argument("--kinds", default="png,jpeg")
    args = parser.parse_args()

    from mnft_trainer.onednn import cap_onednn_isa

    cap_onednn_isa()
    import mindspore as ms
    import onnxruntime as ort

    from mnft_trainer import engine
    from mnft_trainer.data import scan_image_folder
    from mnft_trainer.network import FoldedPooledBackbone, build_network

    ms.set_context(mode=ms.GRAPH_MODE)
    tmp = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    backbone, _, _ = build_network(5)
    randomise_batchnorm(backbone, 1)
    onnx_path = engine.export_onnx(FoldedPooledBackbone(backbone), BATCH, SIZE, SIZE, tmp / "backbone.onnx")
    spinning_options = ort.SessionOptions()
    spinning_options.log_severity_level = 3
    spinning = ort.InferenceSession(str(onnx_path), spinning_options, providers=["CPUExecutionProvider"])
    now = engine.OnnxRuntimeExtractor(onnx_path)  # as the trainer runs it: no spinning
    input_name = spinning.get_inputs()[0].name

    def spinning_run(images: np.ndarray) -> np.ndarray:
        return engine.padded_batches(lambda b: spinning.run(None, {input_name: b})[0], images, BATCH)

    result: dict[str, Any] = {"load_before": [round(x, 2) for x in os.getloadavg()], "kinds": {}}
    for kind in args.kinds.split(","):
        folder = (
            demo_data(tmp, "0,1,2,3,4", args.images // 5 + 1)
            if kind == "png"
            else jpeg_folder(tmp, args.images)
        )
        samples = list(scan_image_folder(folder / "train").samples[: args.images])

        result["kinds"][kind] = measure(samples, spinning_run, now, spinning, args.rounds)
        print(json.dumps({kind: result["kinds"][kind]}, indent=1), flush=True)
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps({k: v for k, v in result.items() if k != "kinds"}))


if __name__ == "__main__":
    main()
