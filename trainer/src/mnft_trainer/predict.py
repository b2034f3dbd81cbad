"""`mnft predict`: run an exported model on image files, on the engine extraction uses (`engine.load`):
ONNX on ONNX Runtime (CPU), MindIR on MindSpore (the `--platform` device), 32 images a call.

Images go through the same eval transform as `mnft eval` (`features.iterate_images`: resize by 256/224,
centre crop, normalise), so an exported model predicts what its checkpoint evaluates.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mnft_trainer.data import IMAGE_EXTENSIONS, Sample
from mnft_trainer.engine import DEFAULT_BATCH, FeatureExtractor
from mnft_trainer.errors import TrainerError

LOG_PREFIX = "model engine: "


@dataclass
class ExportedModel:
    path: str
    format: str  # "MINDIR" | "ONNX"
    height: int
    width: int
    batch: int  # images per call
    runner: FeatureExtractor  # engine.load's: images (N, 3, H, W) float32 -> logits (N, classes)

    def logits(self, images: np.ndarray) -> np.ndarray:
        return np.asarray(self.runner(images), dtype=np.float32)

    def describe(self) -> str:
        """The engine line: `model engine: onnxruntime 1.32.0 (CPU, fp32), batch 32: <path>`."""
        return f"{LOG_PREFIX}{self.runner.name}, batch {self.batch}: {self.path}"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def mindir_input_shape(path: str) -> list[int]:
    """The first input's dims from the MindIR protobuf, or a TrainerError when it is not one."""
    from mindspore.train import mind_ir_pb2

    model = mind_ir_pb2.ModelProto()
    try:
        model.ParseFromString(Path(path).read_bytes())
        dims = [int(d) for d in model.graph.input[0].tensor[0].dims]
    except (OSError, IndexError, ValueError, Exception) as exc:  # protobuf's DecodeError, truncated files
        raise TrainerError(f"--model {path}: not a MindIR model ({_first_line(exc)})") from None
    if len(dims) != 4 or dims[1] != 3:
        raise TrainerError(f"--model {path}: input shape {dims} is not images (N, 3, H, W)")
    return dims


def load_model(path: str, platform: str = "CPU", batch_size: int = DEFAULT_BATCH) -> ExportedModel:
    """By extension: `.mindir` (MindSpore on `platform`) or `.onnx` (ONNX Runtime, CPU); see engine.load."""
    from mnft_trainer import engine

    file = Path(path)
    if not file.is_file():
        raise TrainerError(f"--model {path}: file not found")
    suffix = file.suffix.lower()
    if suffix == ".mindir":
        dims = mindir_input_shape(path)
        from mnft_trainer.onednn import cap_onednn_isa

        cap_onednn_isa()  # before MindSpore's first CPU kernel: see onednn.py
        import mindspore as ms

        ms.set_context(device_target=platform)
        try:
            runner = engine.load(path, dims[0] if dims[0] > 0 else batch_size)
        except (RuntimeError, ValueError) as exc:
            raise TrainerError(f"--model {path}: MindSpore cannot load it ({_first_line(exc)})") from None
        return ExportedModel(path, "MINDIR", dims[2], dims[3], runner.batch_size, runner)
    if suffix == ".onnx":
        if engine.onnxruntime_version() is None:
            raise TrainerError(
                "ONNX models need onnxruntime: pip install 'mnft[onnx]' (or use the MindIR export)"
            )
        try:
            onnx_runner = engine.OnnxRuntimeExtractor(path, batch_size)
        except Exception as exc:  # onnxruntime's InvalidProtobuf, Fail, ... (pybind classes), our ValueError
            raise TrainerError(f"--model {path}: not an ONNX model ({_first_line(exc)})") from None
        shape = onnx_runner.session.get_inputs()[0].shape
        if shape[1] != 3 or not all(isinstance(d, int) for d in shape[2:]):
            raise TrainerError(f"--model {path}: input shape {shape} is not images (N, 3, H, W)")
        return ExportedModel(path, "ONNX", shape[2], shape[3], onnx_runner.batch_size, onnx_runner)
    raise TrainerError(
        f"--model {path}: unknown model type {suffix or '(none)'}; use a .mindir or .onnx file"
    )


def load_labels(path: str | None, model_path: str) -> list[str] | None:
    """`--labels`, else `labels.json` beside the model when present, else None (labels are indices)."""
    if path is None:
        beside = Path(model_path).with_name("labels.json")
        if not beside.is_file():
            return None
        path = str(beside)
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise TrainerError(f"--labels {path}: file not found") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise TrainerError(f"--labels {path}: not a JSON list of class names ({_first_line(exc)})") from None
    if not isinstance(data, list) or not all(isinstance(n, str) for n in data):
        raise TrainerError(f'--labels {path}: expected a JSON list of class names, like ["cat", "dog"]')
    return data


def image_paths(inputs: Sequence[str]) -> list[str]:
    """Files as given; directories walked recursively, images only, sorted."""
    out: list[str] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS
            )
            if not found:
                raise TrainerError(f"{item}: no images ({', '.join(IMAGE_EXTENSIONS)}) in this directory")
            out += [str(p) for p in found]
        elif path.is_file():
            out.append(str(path))
        else:
            raise TrainerError(f"{item}: no such file or directory")
    return out


def model_logits(
    model: ExportedModel, samples: Sequence[Sample], log: Callable[[str], None]
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(logits, labels) per batch of `model.batch` images in sample order; logs the engine line once,
    when the first batch is decoded (a file that cannot be read fails with its one error line)."""
    from mnft_trainer.features import ImageSource, iterate_images

    logged = False
    for images, labels in iterate_images(ImageSource(samples), model.height, model.width, model.batch):
        if not logged:
            log(model.describe())
            logged = True
        yield model.logits(images), labels


def predictions(
    model: ExportedModel,
    paths: Sequence[str],
    labels: Sequence[str] | None,
    log: Callable[[str], None] = lambda _: None,
) -> Iterator[dict[str, Any]]:
    """One {"image", "label", "score"} per path, in order; score = the top class's softmax probability."""
    from mnft_trainer.metrics import softmax

    done = 0
    for logits, _ in model_logits(model, [Sample(p, 0) for p in paths], log):
        if labels is not None and logits.shape[1] != len(labels):
            raise TrainerError(
                f"the labels list {len(labels)} classes but {model.path} outputs {logits.shape[1]}; "
                "pass the labels.json written with this model"
            )
        probs = softmax(logits.astype(np.float64))
        for row in probs:
            top = int(np.argmax(row))
            yield {
                "image": paths[done],
                "label": labels[top] if labels is not None else top,
                "score": round(float(row[top]), 6),
            }
            done += 1
