"""ImageFolder data: find the splits, list and validate class folders, shard by rank, build the pipelines.

Images are decoded with Pillow inside the dataset source, so a file that cannot be decoded is reported by
name. The transforms after decoding are the r1.2 recipe's (RandomCropDecodeResize == Decode followed by
RandomResizedCrop), with its hard-coded augmentation settings as overridable defaults (`Augmentation`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mnft_trainer.errors import TrainerError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
TRAIN_SPLIT = "train"
EVAL_SPLITS = ("eval", "val", "validation")
MEAN = [0.485 * 255, 0.456 * 255, 0.406 * 255]
STD = [0.229 * 255, 0.224 * 255, 0.225 * 255]


@dataclass(frozen=True)
class Sample:
    path: str
    label: int


@dataclass(frozen=True)
class ImageFolder:
    root: str
    classes: tuple[str, ...]
    samples: tuple[Sample, ...]


def find_splits(dataset_path: str) -> tuple[Path, Path | None]:
    """(train dir, eval dir or None). A path without `train/` is itself a class-folder root."""
    root = Path(dataset_path)
    if not root.exists():
        raise TrainerError(f"--dataset_path {dataset_path}: no such directory")
    if not root.is_dir():
        raise TrainerError(f"--dataset_path {dataset_path}: not a directory")
    train = root / TRAIN_SPLIT
    evals = [root / name for name in EVAL_SPLITS if (root / name).is_dir()]
    if train.is_dir():
        return train, (evals[0] if evals else None)
    return root, None


def find_eval_dir(dataset_path: str) -> Path:
    """The directory `mnft eval` reads: `<D>/eval` (or val/validation) when present, else D itself."""
    root = Path(dataset_path)
    if not root.is_dir():
        raise TrainerError(f"--dataset_path {dataset_path}: no such directory")
    for name in EVAL_SPLITS:
        if (root / name).is_dir():
            return root / name
    return root


def _is_image(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and path.suffix.lower() in IMAGE_EXTENSIONS


def scan_image_folder(directory: Path, classes: Sequence[str] | None = None) -> ImageFolder:
    """List `directory/<class>/<image>`; labels follow the sorted class names (or the given class list)."""
    folders = sorted(p.name for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise TrainerError(
            f"{directory}: no class folders; expected {directory}/<class name>/<image files> "
            f"(or {directory}/train/<class name>/...)"
        )
    class_list = tuple(classes) if classes is not None else tuple(folders)
    index = {name: i for i, name in enumerate(class_list)}
    unknown = [name for name in folders if name not in index]
    if unknown:
        raise TrainerError(
            f"{directory}: class folder(s) {', '.join(unknown)} are not among the training classes "
            f"{', '.join(class_list)}"
        )
    samples: list[Sample] = []
    for name in folders:
        images = sorted(p for p in (directory / name).iterdir() if _is_image(p))
        if not images:
            raise TrainerError(
                f"{directory / name}: class folder has no images ({', '.join(IMAGE_EXTENSIONS)}); "
                "add images or remove the folder"
            )
        samples += [Sample(str(p), index[name]) for p in images]
    return ImageFolder(str(directory), class_list, tuple(samples))


def shard_samples(samples: Sequence[Sample], rank: int, group_size: int) -> tuple[Sample, ...]:
    """Every group_size-th sample from `rank`, all shards cut to the same length so ranks step in lockstep."""
    per_rank = len(samples) // group_size
    if per_rank == 0:
        raise TrainerError(f"the dataset has {len(samples)} images, fewer than the {group_size} ranks")
    return tuple(samples[rank::group_size][:per_rank])


def decode_image(path: str) -> np.ndarray:
    """HWC uint8 RGB, or a TrainerError naming the file."""
    from PIL import Image, UnidentifiedImageError

    try:
        data = Path(path).read_bytes()
        with Image.open(io.BytesIO(data)) as opened:
            image = np.asarray(opened.convert("RGB"), dtype=np.uint8)
    except UnidentifiedImageError:
        reason = "unknown or corrupt image format"
    except (OSError, ValueError, SyntaxError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    else:
        return image
    raise TrainerError(f"{path}: not a readable image ({reason}); replace or remove the file")


class ImageSource:
    """Random-access source for GeneratorDataset; remembers the first decoding error for the caller."""

    def __init__(self, samples: Sequence[Sample]):
        self.samples = list(samples)
        self.error: TrainerError | None = None

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        sample = self.samples[index]
        try:
            image = decode_image(sample.path)
        except TrainerError as exc:
            self.error = self.error or exc
            raise
        return image, np.array(sample.label, dtype=np.int32)


def eval_resize(height: int, width: int) -> tuple[int, int]:
    """The recipe resizes to 256 then centre-crops 224: keep that ratio for other target sizes."""
    return round(height * 256 / 224), round(width * 256 / 224)


@dataclass(frozen=True)
class Augmentation:
    """The random train transforms' settings; the defaults are r1.2's (ImageNet's)."""

    crop_scale: tuple[float, float] = (0.08, 1.0)
    crop_ratio: tuple[float, float] = (0.75, 1.333)
    flip_prob: float = 0.5
    color_jitter: float = 0.4

    @classmethod
    def from_config(cls, cfg: Any) -> Augmentation:
        return cls(
            (cfg.crop_scale_min, cfg.crop_scale_max),
            (cfg.crop_ratio_min, cfg.crop_ratio_max),
            cfg.flip_prob,
            cfg.color_jitter,
        )


def train_transforms(height: int, width: int, aug: Augmentation | None = None) -> list[Any]:
    """RandomResizedCrop, flip, colour jitter, normalise; a flip or jitter of strength 0 is left out."""
    from mindspore.dataset import vision

    aug = aug or Augmentation()
    ops: list[Any] = [vision.RandomResizedCrop((height, width), scale=aug.crop_scale, ratio=aug.crop_ratio)]
    if aug.flip_prob > 0:
        ops.append(vision.RandomHorizontalFlip(prob=aug.flip_prob))
    if aug.color_jitter > 0:
        strength = aug.color_jitter
        ops.append(vision.RandomColorAdjust(brightness=strength, contrast=strength, saturation=strength))
    return [*ops, vision.Normalize(mean=MEAN, std=STD), vision.HWC2CHW()]


def eval_transforms(height: int, width: int) -> list[Any]:
    from mindspore.dataset import vision

    return [
        vision.Resize(eval_resize(height, width)),
        vision.CenterCrop((height, width)),
        vision.Normalize(mean=MEAN, std=STD),
        vision.HWC2CHW(),
    ]


def make_dataset(
    source: ImageSource,
    height: int,
    width: int,
    batch_size: int,
    training: bool,
    workers: int = 2,
    augmentation: Augmentation | None = None,
    source_workers: int | None = None,
) -> Any:
    """Batches of (image NCHW float32, label int32); training: shuffled, random transforms, no remainder.

    `workers` threads run the transforms; the Pillow decode in the Python source runs in
    `source_workers` threads, by default one for eval: a second one only contends for the GIL
    (bench/bench_pipeline.py: same CPU per image, lower images/s with two).
    """
    import mindspore.dataset as ds

    if source_workers is None:
        source_workers = workers if training else 1
    dataset = ds.GeneratorDataset(
        source,
        column_names=["image", "label"],
        shuffle=training,
        num_parallel_workers=source_workers,
        python_multiprocessing=False,
    )
    transforms = train_transforms(height, width, augmentation) if training else eval_transforms(height, width)
    dataset = dataset.map(operations=transforms, input_columns="image", num_parallel_workers=workers)
    return dataset.batch(batch_size, drop_remainder=training)
