"""Exported models: the trained MobileNetV2 (inference mode) as MindIR or ONNX, plus `labels.json`.

MindIR keeps a dynamic batch dimension ([-1, 3, H, W]). MindSpore 2.10's `mindspore.export` refuses
ONNX with dynamic shapes ("Export ONNX format model not support dynamic shape mode"), but
`mindspore.onnx.export(..., dynamic_axes=...)` writes a batch-dynamic input ([batch, 3, H, W]) and a
graph that computes any batch; only the declared output shape keeps the example's batch (1), which
ONNX Runtime warns about on every call and stricter runtimes may refuse. `declare_dynamic_batch`
rewrites that one declaration in the file (protobuf, the fields of onnx.proto it touches), so the ONNX
model is batched (`mnft predict` runs 32 images a call) and says so.
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
ONNX_EXAMPLE_BATCH = 1  # the export's example input; the batch dimension is dynamic
BATCH_DIM = "batch"


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
    output.parent.mkdir(parents=True, exist_ok=True)
    stem = output.with_name(f".tmp-{os.getpid()}-{output.stem}")
    written = stem.with_name(stem.name + EXTENSIONS[fmt])
    try:
        if fmt == "MINDIR":
            example = ms.Tensor(shape=[None, 3, height, width], dtype=ms.float32)
            ms.export(net, example, file_name=str(stem), file_format=fmt)
        else:
            example = ms.Tensor(np.zeros((ONNX_EXAMPLE_BATCH, 3, height, width), np.float32))
            ms.onnx.export(
                net, example, file_name=str(written), input_names=["images"], output_names=["logits"],
                dynamic_axes={"images": {0: BATCH_DIM}},
            )  # fmt: skip
    except (RuntimeError, ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrainerError(f"exporting the model as {fmt} failed: {first}") from None
    if not written.is_file():
        raise TrainerError(f"exporting the model as {fmt} wrote no {written.name}")
    if fmt == "ONNX":
        written.write_bytes(declare_dynamic_batch(written.read_bytes()))
    os.replace(written, output)
    return output


def _onnx_subset() -> Any:
    """The message class for the part of onnx.proto `declare_dynamic_batch` reads and writes.

    Field numbers are onnx.proto's (ModelProto.graph 7, GraphProto.input 11 / output 12,
    ValueInfoProto.type 2, TypeProto.tensor_type 1, Tensor.shape 2, TensorShapeProto.dim 1,
    Dimension.dim_value 1 / dim_param 2); every other field is kept as protobuf's unknown fields.
    """
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    field = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(name="mnft_onnx_subset.proto", package="mnft_onnx")
    proto.syntax = "proto2"
    messages: list[tuple[str, list[tuple[str, int, int, bool, str | None]]]] = [
        ("Dimension", [("dim_value", 1, field.TYPE_INT64, False, None),
                       ("dim_param", 2, field.TYPE_STRING, False, None)]),
        ("Shape", [("dim", 1, field.TYPE_MESSAGE, True, "Dimension")]),
        ("Tensor", [("shape", 2, field.TYPE_MESSAGE, False, "Shape")]),
        ("Type", [("tensor_type", 1, field.TYPE_MESSAGE, False, "Tensor")]),
        ("ValueInfo", [("name", 1, field.TYPE_STRING, False, None),
                       ("type", 2, field.TYPE_MESSAGE, False, "Type")]),
        ("Graph", [("input", 11, field.TYPE_MESSAGE, True, "ValueInfo"),
                   ("output", 12, field.TYPE_MESSAGE, True, "ValueInfo")]),
        ("Model", [("graph", 7, field.TYPE_MESSAGE, False, "Graph")]),
    ]  # fmt: skip
    for name, fields in messages:
        message = proto.message_type.add(name=name)
        if name == "Dimension":
            message.oneof_decl.add(name="value")
        for field_name, number, kind, repeated, type_name in fields:
            added = message.field.add(name=field_name, number=number, type=kind)
            added.label = field.LABEL_REPEATED if repeated else field.LABEL_OPTIONAL
            if type_name:
                added.type_name = f".mnft_onnx.{type_name}"
            if name == "Dimension":
                added.oneof_index = 0
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("mnft_onnx.Model"))


def declare_dynamic_batch(model_bytes: bytes) -> bytes:
    """An ONNX model whose outputs' first dimension is declared as the input's dynamic batch."""
    model = _onnx_subset()()
    model.ParseFromString(model_bytes)
    for value in model.graph.output:
        dims = value.type.tensor_type.shape.dim
        if dims:
            dims[0].dim_param = BATCH_DIM
    return bytes(model.SerializeToString())


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
