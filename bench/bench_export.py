"""Exported models (issue 11): export time, and agreement of MindIR/ONNX predictions with the checkpoint.

1. Trains a real model as tests/e2e/test_trainer_export.py does (whole network 2 epochs from scratch on
   digits 0-2 at 32x32, then a new head on the frozen backbone), unless --checkpoint/--dataset are given.
2. For each image size (32x32, the trained size; 224x224, the recipe's size: same weights, the digits
   upscaled by the eval transform) and format: the export's wall time, against a same-run baseline, one
   forward pass of the checkpoint's network over the eval split; then the exported model's logits over the
   eval split against the checkpoint's (top-1 agreement, max absolute logit difference) and its
   throughput against the checkpoint network's (images/s, same batches).
Run: .venv/bin/python bench/bench_export.py   (numbers go to docs/benchmarks.md)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

MNFT = str(Path(sys.executable).parent / "mnft")
SMALL = ["--platform", "CPU", "--image_height", "32", "--image_width", "32", "--batch_size", "16"]


def run(*args: str) -> None:
    done = subprocess.run([MNFT, *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"mnft {args[0]} failed:\n{done.stderr[-2000:]}")


def train(root: Path) -> tuple[str, Path]:
    data = root / "digits012"
    run("demo-data", "--output", str(data), "--classes", "0,1,2")
    scratch = ["--lr_max", "0.02", "--lr_end", "0", "--warmup_epochs", "1", "--run_eval", "false"]
    run("train", *SMALL, *scratch, "--dataset_path", str(data), "--epoch_size", "2",
        "--save_checkpoint_path", str(root / "backbone"))  # fmt: skip
    run("train", *SMALL, "--dataset_path", str(data), "--epoch_size", "10", "--freeze_layer", "backbone",
        "--pretrain_ckpt", str(root / "backbone" / "ckpt_0" / "mobilenetv2_2.ckpt"),
        "--save_checkpoint_path", str(root / "head"))  # fmt: skip
    return str(root / "head" / "ckpt_0" / "mobilenetv2_10.ckpt"), data


def measure(checkpoint: str, data: Path, size: int, work: Path) -> list[dict[str, Any]]:
    from mnft_trainer.checkpoint import load_pretrained
    from mnft_trainer.data import scan_image_folder
    from mnft_trainer.export import export_network
    from mnft_trainer.features import ImageSource, iterate_images, run_batches
    from mnft_trainer.network import build_network
    from mnft_trainer.predict import load_model

    folder = scan_image_folder(data / "eval")
    batch = 32  # = predict.MINDIR_BATCH, so no run pads its batches
    batches = [images for images, _ in iterate_images(ImageSource(folder.samples), size, size, batch)]
    count = sum(b.shape[0] for b in batches)
    backbone, head, net = build_network(len(folder.classes))
    load_pretrained(backbone, head, checkpoint, lambda _: None, require_head=True)
    net.set_train(False)
    run_batches(net, batches[0], batch)  # compile outside the timings
    started = time.monotonic()
    reference = np.concatenate([run_batches(net, b, batch) for b in batches])
    forward_s = time.monotonic() - started
    rows = []
    for fmt in ("MINDIR", "ONNX"):
        target = work / f"m{size}.{fmt.lower()}"
        started = time.monotonic()
        export_network(net, fmt, target, size, size)
        export_s = time.monotonic() - started
        model = load_model(str(target))
        model.logits(batches[0])  # warm up
        started = time.monotonic()
        logits = np.concatenate([model.logits(b) for b in batches])
        run_s = time.monotonic() - started
        rows.append(
            {
                "size": size,
                "format": fmt,
                "images": count,
                "export_s": round(export_s, 2),
                "checkpoint_forward_s": round(forward_s, 3),
                "export_vs_forward": round(export_s / forward_s, 1),
                "agreement": float(np.mean(logits.argmax(1) == reference.argmax(1))),
                "classes_predicted": len(set(reference.argmax(1).tolist())),
                "max_logit_diff": float(np.max(np.abs(logits - reference))),
                "max_abs_logit": float(np.max(np.abs(reference))),
                "exported_images_per_s": round(count / run_s, 1),
                "checkpoint_images_per_s": round(count / forward_s, 1),
                "file_mib": round(target.stat().st_size / 2**20, 2),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="a trained 3-class checkpoint (default: train one)")
    parser.add_argument("--dataset", type=Path, help="its dataset (with eval/)")
    args = parser.parse_args()
    os.environ.setdefault("GLOG_v", "3")
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        work = Path(tmp)
        started = time.monotonic()
        if args.checkpoint and args.dataset:
            checkpoint, data = args.checkpoint, args.dataset
        else:
            checkpoint, data = train(work)
        train_s = time.monotonic() - started
        import mindspore as ms

        from mnft_trainer.onednn import cap_onednn_isa

        cap_onednn_isa()
        ms.set_context(mode=ms.GRAPH_MODE)
        rows = measure(checkpoint, data, 32, work) + measure(checkpoint, data, 224, work)
    print(json.dumps({"load_average": os.getloadavg(), "train_s": round(train_s, 1), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
