"""Frozen-backbone fast path: run the backbone once, cache pooled 1280-d features on disk.

The recipe (r1.2 `extract_features`) runs the frozen backbone once with the eval transform and trains the
head on the stored outputs; we do the same but store pooled features (the head's first op is the global
average pool, so this is exact) per image, so the head can reshuffle samples every epoch.

Cache files are keyed by the shard's image bytes and labels, the checkpoint's sha256, the image size and
the rank/group size, so a changed dataset or checkpoint is never served stale features and ranks never
share a file. Writes go to a temporary file and are renamed into place.

On a cache miss the forward runs on the engine `engine.backbone_extractor` picks (ONNX Runtime on CPU
when installed, on the backbone exported once beside the cache; MindSpore otherwise).
"""

from __future__ import annotations

import hashlib
import os
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mnft_trainer.context import Log
from mnft_trainer.data import ImageSource, Sample, make_dataset
from mnft_trainer.engine import FeatureExtractor, MindSporeExtractor, backbone_extractor
from mnft_trainer.errors import TrainerError
from mnft_trainer.outputs import Progress

CACHE_FORMAT = "mnft-features-v1"
EXTRACT_BATCH_MAX = 64  # the largest batch of a forward-only pass (extraction, eval)

# PooledBackbone -> its BatchNorm-folded twin, kept so repeated extractions reuse one compiled graph.
_FOLDED: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
# PooledBackbone -> (what the extractor was made for, the extractor): one export and session per job.
_EXTRACTORS: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, ...], FeatureExtractor]] = (
    weakref.WeakKeyDictionary()
)


def cache_key(
    samples: Sequence[Sample], checkpoint_sha256: str, height: int, width: int, rank: int, group_size: int
) -> str:
    digest = hashlib.sha256(
        f"{CACHE_FORMAT}|{checkpoint_sha256}|{height}x{width}|{rank}/{group_size}".encode()
    )
    for sample in samples:
        try:
            content = Path(sample.path).read_bytes()
        except OSError as exc:
            raise TrainerError(f"{sample.path}: cannot read ({exc.strerror})") from None
        digest.update(f"|{sample.label}|{len(content)}|".encode())
        digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest()


def cache_path(cache_dir: str, split: str, key: str, rank: int) -> Path:
    return Path(cache_dir) / f"{split}-rank{rank}-{key[:32]}.npz"


def load_cached(path: Path, count: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached (features, labels), or None when absent or unusable (then it is recomputed)."""
    if not path.is_file():
        return None
    try:
        with np.load(path) as data:
            features, labels = data["features"], data["labels"]
    except (OSError, ValueError, KeyError):
        return None
    if features.shape[0] != count or labels.shape[0] != count:
        return None
    return features, labels


def save_cached(path: Path, features: np.ndarray, labels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    with open(tmp, "wb") as handle:
        np.savez(handle, features=features, labels=labels)
    os.replace(tmp, path)


def balanced_batch(count: int, limit: int) -> int:
    """The smallest batch that covers `count` images in as few batches as `limit` allows.

    Extraction pads its last batch to one shape (one graph compile), so 160 images at a limit of 64 run
    as 3 x 54 (162 forwards) instead of 3 x 64 (192).
    """
    if count <= 0 or limit <= 0:
        return max(limit, 1)
    batches = -(-count // limit)
    return -(-count // batches)


def run_batches(cell: Any, images: np.ndarray, batch_size: int) -> np.ndarray:
    """Run `cell` on a batch padded to `batch_size`, so graph mode compiles one shape only."""
    import mindspore as ms

    count = images.shape[0]
    if count < batch_size:
        pad = np.repeat(images[-1:], batch_size - count, axis=0)
        images = np.concatenate([images, pad])
    return np.asarray(cell(ms.Tensor(images)).asnumpy())[:count]


def iterate_images(source: ImageSource, height: int, width: int, batch_size: int, workers: int = 2) -> Any:
    """(images NCHW float32, labels) batches in sample order with the eval transform; names a bad file."""
    dataset = make_dataset(source, height, width, batch_size, training=False, workers=workers)
    try:
        yield from dataset.create_tuple_iterator(num_epochs=1, output_numpy=True)
    except TrainerError:
        raise
    except Exception as exc:
        if source.error is not None:
            raise source.error from None
        raise TrainerError(f"reading images failed: {str(exc).strip().splitlines()[0]}") from None


def inference_cell(pooled_backbone: Any) -> Any:
    """What extraction runs: for a PooledBackbone, its BatchNorm-folded twin with the current weights.

    Folding (eval-mode BatchNorm into the convolution) computes the same features with fewer kernels;
    the weights are refolded on every call, so a backbone changed since the last extraction is honoured.
    """
    from mnft_trainer.network import FoldedPooledBackbone, PooledBackbone

    if not isinstance(pooled_backbone, PooledBackbone):
        return pooled_backbone
    folded = _FOLDED.get(pooled_backbone)
    if folded is None:
        folded = _FOLDED[pooled_backbone] = FoldedPooledBackbone(pooled_backbone.backbone)
    else:
        folded.load_from(pooled_backbone.backbone)
    folded.set_train(False)
    return folded


def extract_features(
    pooled_backbone: Any,
    samples: Sequence[Sample],
    height: int,
    width: int,
    batch_size: int,
    label: str,
    extractor: FeatureExtractor | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pooled backbone features (N, 1280) float32 and labels (N,) int32, in sample order.

    The forward runs on `extractor` (by default MindSpore on the folded backbone).
    """
    pooled_backbone.set_train(False)
    if extractor is None:
        extractor = MindSporeExtractor(inference_cell(pooled_backbone), batch_size, "default")
    source = ImageSource(samples)
    progress = Progress(label, len(samples))
    features: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    done = 0
    for images, batch_labels in iterate_images(source, height, width, batch_size):
        features.append(extractor(images))
        labels.append(batch_labels.astype(np.int32))
        done += images.shape[0]
        progress.update(done)
    return np.concatenate(features), np.concatenate(labels)


@dataclass(frozen=True)
class FeatureJob:
    """One job's backbone features: what its cache files are keyed by, where they go, how batches run."""

    pooled_backbone: Any
    checkpoint_sha256: str
    height: int
    width: int
    batch_size: int
    cache_dir: str
    log: Log
    rank: int = 0
    group_size: int = 1


def cached_features(job: FeatureJob, samples: Sequence[Sample], split: str) -> tuple[np.ndarray, np.ndarray]:
    key = cache_key(samples, job.checkpoint_sha256, job.height, job.width, job.rank, job.group_size)
    path = cache_path(job.cache_dir, split, key, job.rank)
    hit = load_cached(path, len(samples))
    if hit is not None:
        job.log(f"{split} features: {len(samples)} images from cache {path}")
        return hit
    features, labels = extract_features(
        job.pooled_backbone,
        samples,
        job.height,
        job.width,
        job.batch_size,
        f"extract {split}",
        job_extractor(job),
    )
    save_cached(path, features, labels)
    return features, labels


def job_extractor(job: FeatureJob) -> FeatureExtractor:
    """The engine for this backbone, made (and logged) once for all splits of a job."""
    made_for = (job.checkpoint_sha256, job.height, job.width, job.batch_size, job.cache_dir)
    known = _EXTRACTORS.get(job.pooled_backbone)
    if known is not None and known[0] == made_for:
        return known[1]
    from mnft_trainer.network import FoldedPooledBackbone

    def make_cell() -> Any:  # a new cell each time: MindSpore cannot export one cell twice
        cell = FoldedPooledBackbone(job.pooled_backbone.backbone)
        cell.set_train(False)
        return cell

    extractor = backbone_extractor(
        make_cell, job.checkpoint_sha256, job.height, job.width, job.batch_size, job.cache_dir, job.log
    )
    _EXTRACTORS[job.pooled_backbone] = (made_for, extractor)
    return extractor
