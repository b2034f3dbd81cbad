"""Classification metrics of an eval: the confusion matrix and per-class precision/recall (pure numpy)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """counts[true, predicted], int64, shape (num_classes, num_classes)."""
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    predictions = np.asarray(predictions, dtype=np.int64).reshape(-1)
    if labels.shape != predictions.shape:
        raise ValueError(f"{labels.shape[0]} labels but {predictions.shape[0]} predictions")
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (labels, predictions), 1)
    return counts


def accuracy(confusion: np.ndarray) -> float:
    total = int(confusion.sum())
    return int(np.trace(confusion)) / total if total else 0.0


def per_class(confusion: np.ndarray, classes: Sequence[str]) -> list[dict[str, Any]]:
    """One entry per class in label order. A class never predicted has precision None (0/0), one with no
    eval images recall None: undefined, not 0, so a reader can tell "never right" from "never asked"."""
    if confusion.shape != (len(classes), len(classes)):
        raise ValueError(f"confusion matrix {confusion.shape} does not match {len(classes)} classes")
    out = []
    for i, name in enumerate(classes):
        hit = int(confusion[i, i])
        predicted = int(confusion[:, i].sum())
        support = int(confusion[i, :].sum())
        out.append(
            {
                "class": name,
                "precision": hit / predicted if predicted else None,
                "recall": hit / support if support else None,
                "support": support,
            }
        )
    return out


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)
