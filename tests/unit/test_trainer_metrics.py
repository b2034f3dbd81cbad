"""Confusion matrix, per-class precision/recall and softmax of an eval (pure numpy)."""

import numpy as np
import pytest

from mnft_trainer.metrics import accuracy, confusion_matrix, per_class, softmax


def test_confusion_matrix_counts_true_rows_predicted_columns() -> None:
    labels = np.array([0, 0, 1, 1, 1, 2])
    predicted = np.array([0, 1, 1, 1, 0, 1])
    counts = confusion_matrix(labels, predicted, 3)
    assert counts.tolist() == [[1, 1, 0], [1, 2, 0], [0, 1, 0]]
    assert counts.dtype == np.int64
    assert accuracy(counts) == 3 / 6
    assert accuracy(np.zeros((2, 2), np.int64)) == 0.0
    with pytest.raises(ValueError, match="3 labels but 2 predictions"):
        confusion_matrix(np.array([0, 1, 1]), np.array([0, 1]), 2)


def test_per_class_leaves_undefined_ratios_none() -> None:
    counts = np.array([[1, 1, 0], [1, 2, 0], [0, 1, 0]])
    assert per_class(counts, ["cat", "dog", "fox"]) == [
        {"class": "cat", "precision": 0.5, "recall": 0.5, "support": 2},
        {"class": "dog", "precision": 0.5, "recall": 2 / 3, "support": 3},
        {"class": "fox", "precision": None, "recall": 0.0, "support": 1},  # never predicted
    ]
    no_images = np.array([[2, 0], [0, 0]])
    assert per_class(no_images, ["a", "b"])[1] == {
        "class": "b",
        "precision": None,
        "recall": None,
        "support": 0,
    }
    with pytest.raises(ValueError, match="does not match 3 classes"):
        per_class(no_images, ["a", "b", "c"])


def test_softmax_rows_sum_to_one_and_survive_large_logits() -> None:
    probs = softmax(np.array([[0.0, 0.0], [1000.0, 0.0]]))
    assert probs.tolist() == [[0.5, 0.5], [1.0, 0.0]]
