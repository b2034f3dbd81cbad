"""Helpers shared by the trainer tests: tiny real image folders written with Pillow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_png(path: Path, value: int, size: int = 16) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.full((size, size, 3), value, dtype=np.uint8)
    pixels[: size // 2, : size // 2] = 255 - value
    Image.fromarray(pixels).save(path)
    return path


def write_folder(root: Path, layout: dict[str, int], size: int = 16) -> Path:
    """root/<class>/<i>.png with layout {class: count}; pixel values differ per class and image."""
    for c, (name, count) in enumerate(sorted(layout.items())):
        for i in range(count):
            write_png(root / name / f"{i:03d}.png", (40 * c + 3 * i) % 256, size)
    return root
