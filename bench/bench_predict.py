"""`mnft predict` images/s on its engines (issue 14 items 3 and 5), 224x224, same run, interleaved.

A MobileNetV2 of 5 classes with random non-trivial BatchNorm statistics, exported by `export.export_network`
as ONNX (dynamic batch, now) and MindIR, plus an ONNX export with the fixed batch of 1 that `mnft predict`
fed one image at a time before; every variant runs `predict.predictions` (decode + eval transform +
model + softmax) over the same `--images` demo PNGs, in interleaved rounds; medians and per-round ratios
against the MindSpore MindIR model of the same round. The logits of every variant are compared with the
checkpoint network's on MindSpore (`features.run_batches`). Then `mnft predict` as a process (start to
exit) once per model. Run: .venv/bin/python bench/bench_predict.py [--rounds 3] [--images 128]
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
from bench_extraction import randomise_batchnorm
from bench_trainer import MNFT, demo_data

SIZE = 224


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--images", type=int, default=128)
    args = parser.parse_args()

    from mnft_trainer.onednn import cap_onednn_isa

    cap_onednn_isa()
    import mindspore as ms

    from mnft_trainer.data import ImageSource, scan_image_folder
    from mnft_trainer.export import export_network
    from mnft_trainer.features import iterate_images, run_batches
    from mnft_trainer.network import build_network
    from mnft_trainer.predict import load_model, predictions

    ms.set_context(mode=ms.GRAPH_MODE)
    tmp = Path(tempfile.mkdtemp(prefix="bench-predict-"))
    data = demo_data(tmp, "0,1,2,3,4", args.images // 5 + 1)
    samples = scan_image_folder(data / "train").samples[: args.images]
    paths = [s.path for s in samples]
    backbone, _, net = build_network(5)
    randomise_batchnorm(backbone, 1)
    exports = {}
    for name, fmt in (("onnx", "ONNX"), ("mindir", "MINDIR")):
        started = time.perf_counter()
        export_network(net, fmt, tmp / f"model.{name}", SIZE, SIZE)
        exports[name] = round(time.perf_counter() - started, 1)
    _, _, old_net = build_network(5)  # a fresh cell: MindSpore 2.10 cannot export one cell twice
    ms.load_param_into_net(old_net, {p.name: p for p in net.get_parameters()})
    old_net.set_train(False)
    ms.export(
        old_net,
        ms.Tensor(np.zeros((1, 3, SIZE, SIZE), np.float32)),
        file_name=str(tmp / "b1"),
        file_format="ONNX",
    )

    images = np.concatenate([b for b, _ in iterate_images(ImageSource(samples), SIZE, SIZE, 32)])
    net.set_train(False)
    reference = np.concatenate([run_batches(net, images[i : i + 32], 32) for i in range(0, len(images), 32)])
    models = {
        "onnxruntime, batch 32 (now)": load_model(str(tmp / "model.onnx")),
        "MindSpore MindIR, batch 32": load_model(str(tmp / "model.mindir")),
        "onnxruntime, batch 1 (before)": load_model(str(tmp / "b1.onnx")),
    }
    checks: dict[str, Any] = {}
    for name, model in models.items():
        logits = model.logits(images)
        checks[name] = {
            "engine": model.describe(),
            "top1_agreement": float(np.mean(logits.argmax(1) == reference.argmax(1))),
            "max_logit_diff": float(np.abs(logits - reference).max()),
        }
    load_before = [round(x, 2) for x in os.getloadavg()]
    rates: dict[str, list[float]] = {name: [] for name in models}
    for model in models.values():
        list(predictions(model, paths, None))  # warm-up
    for _ in range(args.rounds):
        for name, model in models.items():
            started = time.perf_counter()
            assert len(list(predictions(model, paths, None))) == len(paths)
            rates[name].append(len(paths) / (time.perf_counter() - started))
    load_after = [round(x, 2) for x in os.getloadavg()]
    base = "MindSpore MindIR, batch 32"
    processes = {}
    for name in ("model.onnx", "model.mindir"):
        started = time.perf_counter()
        done = subprocess.run(
            [MNFT, "predict", "--model", str(tmp / name), str(data / "train")], capture_output=True, text=True
        )
        processes[name] = {
            "wall_s": round(time.perf_counter() - started, 1),
            "images": len(done.stdout.splitlines()),
            "stderr": done.stderr.strip().splitlines()[-1:],
        }
    print(
        json.dumps(
            {
                "images": len(paths),
                "export_s": exports,
                "largest_logit": float(np.abs(reference).max()),
                "checks_vs_checkpoint_on_mindspore": checks,
                "load_before": load_before,
                "load_after": load_after,
                "median_images_per_s": {k: round(statistics.median(v), 1) for k, v in rates.items()},
                "rounds_images_per_s": {k: [round(x, 1) for x in v] for k, v in rates.items()},
                f"median_ratio_vs_{base}": {
                    k: round(statistics.median(a / b for a, b in zip(v, rates[base], strict=True)), 2)
                    for k, v in rates.items()
                },
                "mnft_predict_processes": processes,
                "load_end": [round(x, 2) for x in os.getloadavg()],
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
