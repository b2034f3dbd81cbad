"""Exported models: the trained MobileNetV2 (inference mode) as MindIR or ONNX, plus `labels.json`.

MindIR keeps a dynamic batch dimension ([-1, 3, H, W]). MindSpore 2.10 exports ONNX (opset 11) only with
static shapes ("Export ONNX format model not support dynamic shape mode"), so the ONNX model takes one
image at a time ([1, 3, H, W]); `mnft predict` feeds it accordingly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mnft_trainer.errors import TrainerError

FORMATS = ("MINDIR", "ONNX")
EXTENSIONS = {"MINDIR": ".mindir", "ONNX": ".onnx"}
MODEL_STEM = "mobilenetv2"
LABELS_FILE = "labels.json"
ONNX_BATCH = 1


def parse_formats(text: str, flag: str = "--export_formats") -> tuple[str, ...]:
    """`MINDIR,ONNX` -> ("MINDIR", "ONNX"); case-insensitive, duplicates dropped, "" -> ()."""
    out: list[str] = []
    for part in (p.strip().upper() for p in text.split(",")):
        if not part:
            continue
        if part not in FORMATS:
            raise TrainerError(f"{flag}: unknown format {part!r}; use {' or '.join(FORMATS)}")
        if part not in out:
            out.append(part)
    return tuple(out)


def write_labels(path: Path, classes: Sequence[str]) -> Path:
    """labels.json: the class names as a JSON list, index = label."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    tmp.write_text(json.dumps(list(classes)) + "\n")
    os.replace(tmp, path)
    return path


def export_network(net: Any, fmt: str, output: Path, height: int, width: int) -> Path:
    """Write `net` in inference mode to `output` (any name: MindSpore's suffix is renamed away)."""
    import mindspore as ms
    import numpy as np

    net.set_train(False)
    if fmt == "MINDIR":
        example = ms.Tensor(shape=[None, 3, height, width], dtype=ms.float32)
    else:
        example = ms.Tensor(np.zeros((ONNX_BATCH, 3, height, width), np.float32))
    output.parent.mkdir(parents=True, exist_ok=True)
    stem = output.with_name(f".tmp-{os.getpid()}-{output.stem}")
    written = stem.with_name(stem.name + EXTENSIONS[fmt])
    try:
        ms.export(net, example, file_name=str(stem), file_format=fmt)
    except (RuntimeError, ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrainerError(f"exporting the model as {fmt} failed: {first}") from None
    if not written.is_file():
        raise TrainerError(f"exporting the model as {fmt} wrote no {written.name}")
    os.replace(written, output)
    return output


def export_models(
    net: Any,
    formats: Sequence[str],
    directory: str,
    height: int,
    width: int,
    classes: Sequence[str],
    log: Callable[[str], None],
) -> dict[str, str]:
    """The end of a training run (rank 0): `<directory>/mobilenetv2.<ext>` per format and labels.json.

    Returns {"MINDIR": path, ..., "labels": path of labels.json}."""
    import time

    out: dict[str, str] = {}
    for fmt in formats:
        started = time.monotonic()
        path = export_network(net, fmt, Path(directory) / f"{MODEL_STEM}{EXTENSIONS[fmt]}", height, width)
        log(f"exported {fmt} model to {path} ({time.monotonic() - started:.1f} s)")
        out[fmt] = str(path)
    if formats:
        out["labels"] = str(write_labels(Path(directory) / LABELS_FILE, classes))
    return out


def run_export(
    checkpoint: str,
    num_classes: int | None,
    fmt: str,
    output: str,
    height: int,
    width: int,
    dataset_path: str | None,
    platform: str,
) -> dict[str, str]:
    """`mnft export`: the checkpoint's network as `output`, and labels.json beside it from the dataset."""
    from mnft_trainer.data import find_splits, scan_image_folder

    classes: tuple[str, ...] | None = None
    if dataset_path is not None:
        classes = scan_image_folder(find_splits(dataset_path)[0]).classes
        if num_classes is not None and num_classes != len(classes):
            raise TrainerError(
                f"--num_classes {num_classes} but {dataset_path} has {len(classes)} class folders; "
                "drop --num_classes or fix it"
            )
        num_classes = len(classes)
    if num_classes is None:
        raise TrainerError("--num_classes is required without --dataset_path (the head's class count)")
    if num_classes < 2:
        raise TrainerError(f"--num_classes must be at least 2, got {num_classes}")
    from mnft_trainer.checkpoint import load_pretrained, read_checkpoint
    from mnft_trainer.run import set_up_mindspore

    read_checkpoint(checkpoint, flag="--checkpoint")  # a bad file named by this command's flag
    set_up_mindspore(platform)
    from mnft_trainer.network import build_network

    backbone, head, net = build_network(num_classes)
    load_pretrained(backbone, head, checkpoint, lambda m: None, require_head=True)
    out = {fmt: str(export_network(net, fmt, Path(output), height, width))}
    if classes is not None:
        out["labels"] = str(write_labels(Path(output).with_name(LABELS_FILE), classes))
    return out
