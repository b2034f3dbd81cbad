"""`mnft demo-data`: scikit-learn's bundled handwritten digits (no download) as a PNG ImageFolder.

Writes DIR/train/<digit>/<index>.png and DIR/eval/<digit>/<index>.png; every `--eval_every`-th image of a
class (in the bundled order) goes to eval, so the split is deterministic.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mnft_contract.exit_codes import ERROR
from mnft_contract.termination import error_line
from mnft_trainer.errors import TrainerError

ALL_CLASSES = tuple(str(d) for d in range(10))


def parse_classes(text: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    bad = [c for c in chosen if c not in ALL_CLASSES]
    if bad or len(chosen) < 2:
        raise TrainerError(f"--classes {text!r}: give at least two distinct digits 0-9, comma-separated")
    return chosen


def split_indices(
    labels: np.ndarray, classes: Sequence[str], eval_every: int
) -> dict[str, dict[str, list[int]]]:
    """{split: {class: [index into the digits arrays]}}, deterministic."""
    result: dict[str, dict[str, list[int]]] = {"train": {}, "eval": {}}
    for name in classes:
        indices = [int(i) for i in np.flatnonzero(labels == int(name))]
        result["eval"][name] = indices[::eval_every]
        result["train"][name] = [i for n, i in enumerate(indices) if n % eval_every != 0]
    return result


def to_png_pixels(image: np.ndarray, size: int) -> np.ndarray:
    """8x8 values 0..16 -> size x size uint8 grey, bicubic upscaling."""
    from PIL import Image

    grey = Image.fromarray(np.clip(image * (255.0 / 16.0), 0, 255).astype(np.uint8), mode="L")
    return np.asarray(grey.resize((size, size), Image.Resampling.BICUBIC))


def write_dataset(output: Path, classes: Sequence[str], size: int, eval_every: int) -> dict[str, int]:
    from PIL import Image
    from sklearn.datasets import load_digits

    for split in ("train", "eval"):
        existing = output / split
        if existing.is_dir():
            stale = sorted(p.name for p in existing.iterdir() if p.is_dir() and p.name not in classes)
            if stale:
                raise TrainerError(
                    f"--output {output}: {split}/ already holds other classes ({', '.join(stale)}); "
                    "use an empty directory"
                )
    digits = load_digits()
    counts = {"train": 0, "eval": 0}
    for split, per_class in split_indices(digits.target, classes, eval_every).items():
        for name, indices in per_class.items():
            folder = output / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for index in indices:
                Image.fromarray(to_png_pixels(digits.images[index], size), mode="L").save(
                    folder / f"{index:04d}.png"
                )
            counts[split] += len(indices)
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="mnft demo-data", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--output", required=True, help="directory to write train/ and eval/ into")
    parser.add_argument("--image_size", type=int, default=32, help="PNG width and height (default 32)")
    parser.add_argument("--classes", default=",".join(ALL_CLASSES), help="digits to include, e.g. 0,1,2,3,4")
    parser.add_argument("--eval_every", type=int, default=5, help="every N-th image of a class goes to eval")
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        if not 8 <= args.image_size <= 512:
            raise TrainerError(f"--image_size {args.image_size}: must be between 8 and 512")
        if args.eval_every < 2:
            raise TrainerError(f"--eval_every {args.eval_every}: must be at least 2")
        classes = parse_classes(args.classes)
        counts = write_dataset(Path(args.output), classes, args.image_size, args.eval_every)
    except TrainerError as exc:
        print(error_line(str(exc)), file=sys.stderr)
        return ERROR
    except OSError as exc:
        print(error_line(f"--output {args.output}: {exc.strerror or exc}"), file=sys.stderr)
        return ERROR
    print(
        f"wrote {counts['train']} train and {counts['eval']} eval images of digits {','.join(classes)} "
        f"({args.image_size}x{args.image_size} PNG) to {args.output}"
    )
    return 0
