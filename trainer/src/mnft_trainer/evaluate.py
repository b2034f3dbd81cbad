"""Accuracy of a network (or of the head on cached features) over an eval split, as a confusion matrix
(rows: true label, columns: prediction) so that ranks evaluating parts of a split can sum their counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mnft_trainer.data import Sample
from mnft_trainer.features import ImageSource, iterate_images, run_batches


def confusion(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (labels.astype(np.int64), predictions.astype(np.int64)), 1)
    return matrix


def accuracy_of(matrix: np.ndarray) -> float:
    total = int(matrix.sum())
    return int(np.trace(matrix)) / total if total else 0.0


def confusion_on_images(
    net: Any, samples: Sequence[Sample], height: int, width: int, batch_size: int, num_classes: int
) -> np.ndarray:
    """Top-1 predictions of `net` with the recipe's eval transform; every image is counted."""
    net.set_train(False)
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    if not samples:
        return matrix
    for images, labels in iterate_images(ImageSource(samples), height, width, batch_size):
        logits = run_batches(net, images, batch_size)
        matrix += confusion(labels, np.argmax(logits, axis=1), num_classes)
    return matrix


def confusion_on_features(
    pooled_head: Any, features: np.ndarray, labels: np.ndarray, batch_size: int, num_classes: int
) -> np.ndarray:
    pooled_head.set_train(False)
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    for start in range(0, features.shape[0], batch_size):
        logits = run_batches(pooled_head, features[start : start + batch_size], batch_size)
        matrix += confusion(labels[start : start + batch_size], np.argmax(logits, axis=1), num_classes)
    return matrix


def accuracy_on_images(
    net: Any, samples: Sequence[Sample], height: int, width: int, batch_size: int, num_classes: int
) -> float:
    return accuracy_of(confusion_on_images(net, samples, height, width, batch_size, num_classes))
