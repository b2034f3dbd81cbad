"""Accuracy and the confusion matrix of a network (or of the head on cached features) over an eval split."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from mnft_trainer.data import Sample
from mnft_trainer.features import ImageSource, iterate_images, run_batches
from mnft_trainer.metrics import accuracy, confusion_matrix


def _confusion(batches: Iterable[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Sum of counts[true, predicted] over (logits, labels) batches; classes = the logits' width."""
    counts: np.ndarray | None = None
    for logits, labels in batches:
        if counts is None:
            counts = np.zeros((logits.shape[1], logits.shape[1]), dtype=np.int64)
        counts += confusion_matrix(labels, np.argmax(logits, axis=1), logits.shape[1])
    return counts if counts is not None else np.zeros((0, 0), dtype=np.int64)


def confusion_on_images(
    net: Any, samples: Sequence[Sample], height: int, width: int, batch_size: int
) -> np.ndarray:
    """counts[true, predicted] of `net` with the recipe's eval transform; every image is counted."""
    net.set_train(False)
    batches = iterate_images(ImageSource(samples), height, width, batch_size)
    return _confusion((run_batches(net, images, batch_size), labels) for images, labels in batches)


def confusion_on_features(
    pooled_head: Any, features: np.ndarray, labels: np.ndarray, batch_size: int
) -> np.ndarray:
    pooled_head.set_train(False)
    return _confusion(
        (run_batches(pooled_head, features[i : i + batch_size], batch_size), labels[i : i + batch_size])
        for i in range(0, features.shape[0], batch_size)
    )


def accuracy_on_images(
    net: Any, samples: Sequence[Sample], height: int, width: int, batch_size: int
) -> float:
    """Top-1 accuracy of `net` with the recipe's eval transform; every image is counted."""
    return accuracy(confusion_on_images(net, samples, height, width, batch_size))


def accuracy_on_features(
    pooled_head: Any, features: np.ndarray, labels: np.ndarray, batch_size: int
) -> float:
    return accuracy(confusion_on_features(pooled_head, features, labels, batch_size))
