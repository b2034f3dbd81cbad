"""Where the frozen backbone's forward runs: ONNX Runtime on CPU when it is installed, else MindSpore.

MindSpore 2.10's CPU forward reaches ~25% of this machine's sgemm rate (depthwise convolutions and
BatchNorm through oneDNN's capped kernels; docs/benchmarks.md, issue 14); ONNX Runtime runs the same
network, exported by MindSpore itself (`mindspore.export(..., file_format="ONNX")`) from the
BatchNorm-folded pooled backbone, ~4x faster with fp32 results equal to MindSpore's. On GPU and Ascend
MindSpore stays the engine. The export is cached beside the feature cache, keyed by the checkpoint's
content, the image size and the batch, so a job exports once and a re-run reuses the file.

The interface other code uses: a `FeatureExtractor` is a callable `(images NCHW float32) -> ndarray`
with a `name` for the log line; `load(path)` opens an exported file as one: ONNX on ONNX Runtime (CPU),
MindIR on MindSpore (any device). `mnft predict` and `mnft eval --model` run exported models this way.
`MNFT_FEATURE_ENGINE=mindspore` forces MindSpore (the benchmark baseline; a way out if the engine
misbehaves).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from mnft_contract.env import MNFT_FEATURE_ENGINE

ENGINE_VARIABLE = MNFT_FEATURE_ENGINE
ENGINE_CHOICES = ("auto", "mindspore", "onnxruntime")
ONNX_FORMAT = "mnft-backbone-onnx-v1"
LOG_PREFIX = "feature extraction: "
DEFAULT_BATCH = 32  # images per call for models with a dynamic batch (and MindIR's padded batch)
# ONNX Runtime runs small batches on several single-threaded streams at once: MobileNetV2's depthwise
# convolutions split badly over intra-op threads. On 2 cores at 224x224, 2 streams of 8 images ran
# 226-229 images/s against 177 for one call of 32 on 2 intra-op threads (docs/benchmarks.md, issue 14).
ENGINE_BATCH = 8  # images per ONNX Runtime call (and the backbone export's fixed batch)
MAX_STREAMS = 4


class FeatureExtractor(Protocol):
    """Pooled features (N, C) float32 for a batch of N images (N, 3, H, W) float32; any N."""

    name: str
    batch_size: int  # images per engine call

    def __call__(self, images: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class EngineChoice:
    engine: str  # "onnxruntime" or "mindspore"
    why: str  # for the log line: "CPU, fp32", "onnxruntime not installed", ...


def choose_engine(platform: str, requested: str, onnxruntime_version: str | None) -> EngineChoice:
    """The engine for extraction on `platform` given `MNFT_FEATURE_ENGINE` and the installed runtime."""
    if requested not in ENGINE_CHOICES:
        raise ValueError(f"{ENGINE_VARIABLE}={requested!r}: expected one of {', '.join(ENGINE_CHOICES)}")
    if platform != "CPU":
        return EngineChoice("mindspore", platform)
    if requested == "mindspore":
        return EngineChoice("mindspore", f"CPU, {ENGINE_VARIABLE}=mindspore")
    if onnxruntime_version is None:
        if requested == "onnxruntime":
            raise ValueError(
                f"{ENGINE_VARIABLE}=onnxruntime but onnxruntime is not installed; "
                "install mnft[onnx] or unset the variable"
            )
        return EngineChoice("mindspore", "CPU, onnxruntime not installed")
    return EngineChoice("onnxruntime", "CPU, fp32")


def requested_engine(env: Mapping[str, str] | None = None) -> str:
    value = (os.environ if env is None else env).get(ENGINE_VARIABLE, "auto").strip().lower()
    return value or "auto"


def onnxruntime_version() -> str | None:
    """The installed onnxruntime's version, or None when it cannot be imported."""
    try:
        import onnxruntime
    except ImportError:
        return None
    return str(onnxruntime.__version__)


def model_key(
    checkpoint_sha256: str, height: int, width: int, batch_size: int, mindspore_version: str
) -> str:
    """The exported file's key: what the features are keyed by (checkpoint, size) plus its fixed batch."""
    text = f"{ONNX_FORMAT}|{checkpoint_sha256}|{height}x{width}|batch{batch_size}|ms {mindspore_version}"
    return hashlib.sha256(text.encode()).hexdigest()


def model_path(cache_dir: str, key: str) -> Path:
    return Path(cache_dir) / f"backbone-{key[:32]}.onnx"


Mapper = Callable[[Callable[[np.ndarray], np.ndarray], Sequence[np.ndarray]], Iterable[np.ndarray]]


def padded_batches(
    run: Callable[[np.ndarray], np.ndarray], images: np.ndarray, batch_size: int, mapper: Mapper = map
) -> np.ndarray:
    """`run` over fixed-size batches (the last one padded by repeating its last image), trimmed;
    `mapper` (e.g. a thread pool's `map`) applies it to the list of batches, results in order."""
    count = images.shape[0]
    batches, sizes = [], []
    for start in range(0, max(count, 1), batch_size):
        chunk = images[start : start + batch_size]
        size = chunk.shape[0]
        if size < batch_size:
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], batch_size - size, axis=0)])
        batches.append(chunk)
        sizes.append(size)
    outputs = mapper(run, batches)
    return np.concatenate([np.asarray(out)[:size] for out, size in zip(outputs, sizes, strict=True)])


def chunked(
    run: Callable[[np.ndarray], np.ndarray], images: np.ndarray, batch_size: int, mapper: Mapper = map
) -> np.ndarray:
    """`run` over batches of at most `batch_size` images (a model with a dynamic batch: no padding)."""
    batches = [images[i : i + batch_size] for i in range(0, images.shape[0], batch_size)]
    if not batches:
        return np.asarray(run(images))
    return np.concatenate([np.asarray(out) for out in mapper(run, batches)])


def cpu_streams(cpus: int | None = None) -> tuple[int, int]:
    """(concurrent ONNX Runtime calls, intra-op threads of each) for `cpus` usable CPUs (default: this
    process's CPU affinity)."""
    count = cpus if cpus is not None else len(os.sched_getaffinity(0))
    streams = max(1, min(count, MAX_STREAMS))
    return streams, max(1, count // streams)


def session_options(threads: int = 0) -> Any:
    """ONNX Runtime's CPU session options for sharing the cores with the data pipeline; `threads`
    intra-op threads per call (0: ONNX Runtime's default, one per physical core).

    Its intra-op threads spin between kernels by default; while the decode threads need a core
    that spinning takes CPU from them and from the other processes on the node: ~3 of the forward's
    ~14 CPU ms per image at 224x224 (bench/bench_pipeline.py, docs/benchmarks.md issue 14).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.intra_op_num_threads = threads
    return options


class OnnxRuntimeExtractor:
    """An exported model on ONNX Runtime's CPU provider: fixed batch (padded) or dynamic (chunked into
    ENGINE_BATCH images), the batches of a call run `streams` at a time on one session (its `run` is
    thread-safe and releases the GIL)."""

    def __init__(
        self, path: str | os.PathLike[str], batch_size: int = DEFAULT_BATCH, cpus: int | None = None
    ):
        import onnxruntime as ort

        self.streams, threads = cpu_streams(cpus)
        self.session = ort.InferenceSession(
            str(path), session_options(threads), providers=["CPUExecutionProvider"]
        )
        self._pool = ThreadPoolExecutor(self.streams, thread_name_prefix="onnxruntime")
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise ValueError(f"{path}: expected one input (N, 3, H, W), got {inputs}")
        self.input_name = inputs[0].name
        fixed = inputs[0].shape[0]
        self.fixed_batch = isinstance(fixed, int) and fixed > 0
        self.batch_size = int(fixed) if self.fixed_batch else batch_size
        self.name = f"onnxruntime {ort.__version__} (CPU, fp32)"

    def _run(self, batch: np.ndarray) -> np.ndarray:
        return np.asarray(self.session.run(None, {self.input_name: batch})[0])

    def __call__(self, images: np.ndarray) -> np.ndarray:
        images = np.ascontiguousarray(images, dtype=np.float32)
        if self.fixed_batch:
            out = padded_batches(self._run, images, self.batch_size, self._pool.map)
        else:
            out = chunked(self._run, images, ENGINE_BATCH, self._pool.map)
        return out.astype(np.float32, copy=False)


class MindSporeExtractor:
    """A MindSpore cell run in fixed-size batches (graph mode compiles one shape only)."""

    def __init__(self, cell: Any, batch_size: int, why: str):
        import mindspore as ms

        self.cell = cell
        self.batch_size = batch_size
        self.name = f"MindSpore {ms.__version__} ({why})"

    def _run(self, batch: np.ndarray) -> np.ndarray:
        import mindspore as ms

        return np.asarray(self.cell(ms.Tensor(batch)).asnumpy())

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return padded_batches(self._run, images, self.batch_size).astype(np.float32, copy=False)


class MindIRModel(MindSporeExtractor):
    """A MindIR export (`mindspore.load` + GraphCell) on the device MindSpore is set to; padded batches
    (a dynamic-batch graph compiles once per shape)."""

    def __init__(self, path: str | os.PathLike[str], batch_size: int = DEFAULT_BATCH):
        import mindspore as ms

        cell = ms.nn.GraphCell(ms.load(str(path)))
        super().__init__(cell, batch_size, f"MINDIR, {ms.get_context('device_target')}")


def load(path: str | os.PathLike[str], batch_size: int = DEFAULT_BATCH) -> FeatureExtractor:
    """An exported model by its suffix: `.mindir` on MindSpore, else ONNX on ONNX Runtime (CPU).

    `batch_size`: images per call where the model's batch is dynamic (MindIR: padded to it).
    Call `onednn.cap_onednn_isa()` before MindSpore runs a CPU kernel (MindIR on CPU).
    """
    if Path(path).suffix.lower() == ".mindir":
        return MindIRModel(path, batch_size)
    return OnnxRuntimeExtractor(path, batch_size)


def export_onnx(cell: Any, batch_size: int, height: int, width: int, path: Path) -> Path:
    """MindSpore's own ONNX export of `cell` for (batch, 3, H, W) float32 input; atomic rename.

    `cell` must not have been exported before in this process: MindSpore 2.10 fails a second export
    of the same cell object (`RuntimeError: i: 3 out of range: 3, cnode: ... BiasAdd`), so callers
    pass a freshly built one.
    """
    import mindspore as ms

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    sample = ms.Tensor(np.zeros((batch_size, 3, height, width), np.float32))
    ms.onnx.export(cell, sample, file_name=str(tmp), input_names=["images"], output_names=["features"])
    if not tmp.is_file():  # MindSpore logs a failed write and returns
        raise OSError(f"{path}: the ONNX export wrote no file")
    os.replace(tmp, path)
    return path


def backbone_extractor(
    make_cell: Callable[[], Any],
    checkpoint_sha256: str,
    height: int,
    width: int,
    batch_size: int,
    cache_dir: str,
    log: Callable[[str], None],
    env: Mapping[str, str] | None = None,
) -> FeatureExtractor:
    """The extractor for the inference cell `make_cell()` (a new folded, pooled backbone) on this device.

    On CPU with onnxruntime: the cell exported once to `cache_dir` (reused when present and loadable).
    Logs one line naming the engine, and one for the export or its reuse.
    """
    import mindspore as ms

    platform = str(ms.get_context("device_target"))
    choice = choose_engine(platform, requested_engine(env), onnxruntime_version())
    if choice.engine == "mindspore":
        extractor: FeatureExtractor = MindSporeExtractor(make_cell(), batch_size, choice.why)
    else:
        # Exported for ENGINE_BATCH images a call whatever the job's batch: the streams want small ones.
        key = model_key(checkpoint_sha256, height, width, ENGINE_BATCH, ms.__version__)
        extractor = _cached_onnx(make_cell, key, height, width, ENGINE_BATCH, cache_dir, log)
    log(LOG_PREFIX + extractor.name)
    return extractor


def _cached_onnx(
    make_cell: Callable[[], Any],
    key: str,
    height: int,
    width: int,
    batch_size: int,
    cache_dir: str,
    log: Callable[[str], None],
) -> OnnxRuntimeExtractor:
    path = model_path(cache_dir, key)
    if path.is_file():
        try:
            extractor = OnnxRuntimeExtractor(path)
        except Exception as exc:  # a torn or foreign file: export it again
            log(f"backbone ONNX model {path} unusable ({_first_line(exc)}); exporting again")
        else:
            log(f"backbone ONNX model from cache {path}")
            return extractor
    started = time.monotonic()
    export_onnx(make_cell(), batch_size, height, width, path)
    log(f"backbone exported to ONNX in {time.monotonic() - started:.1f} s: {path}")
    return OnnxRuntimeExtractor(path)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
