"""The r1.2 recipe's learning-rate schedule (src/lr_generator.py get_lr): linear warmup, then cosine."""

from __future__ import annotations

import math

import numpy as np


def get_lr(
    global_step: int,
    lr_init: float,
    lr_end: float,
    lr_max: float,
    warmup_epochs: int,
    total_epochs: int,
    steps_per_epoch: int,
) -> np.ndarray:
    """One learning rate per step from `global_step` to the end (float32), as the recipe computes it."""
    total_steps = steps_per_epoch * total_epochs
    warmup_steps = steps_per_epoch * warmup_epochs
    values = []
    for i in range(total_steps):
        if i < warmup_steps:
            lr = lr_init + (lr_max - lr_init) * i / warmup_steps
        else:
            progress = (i - warmup_steps) / (total_steps - warmup_steps)
            lr = lr_end + (lr_max - lr_end) * (1.0 + math.cos(math.pi * progress)) / 2.0
        values.append(max(lr, 0.0))
    return np.array(values, dtype=np.float32)[global_step:]
