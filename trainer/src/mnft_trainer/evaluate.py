"""Accuracy of a network (or of the head on cached features) over an eval split."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mnft_trainer.data import Sample
from mnft_trainer.features import ImageSource, iterate_images, run_batches


def accuracy_on_images(
    net: Any, samples: Sequence[Sample], height: int, width: int, batch_size: int
) -> float:
    """Top-1 accuracy of `net` with the recipe's eval transform; every image is counted."""
    net.set_train(False)
    correct = 0
    total = 0
    for images, labels in iterate_images(ImageSource(samples), height, width, batch_size):
        logits = run_batches(net, images, batch_size)
        correct += int(np.sum(np.argmax(logits, axis=1) == labels))
        total += int(labels.shape[0])
    return correct / total if total else 0.0


def accuracy_on_features(
    pooled_head: Any, features: np.ndarray, labels: np.ndarray, batch_size: int
) -> float:
    pooled_head.set_train(False)
    correct = 0
    for start in range(0, features.shape[0], batch_size):
        logits = run_batches(pooled_head, features[start : start + batch_size], batch_size)
        correct += int(np.sum(np.argmax(logits, axis=1) == labels[start : start + batch_size]))
    return correct / features.shape[0] if features.shape[0] else 0.0
