"""The confusion matrix (rows: true label, columns: prediction) of a network, of the head on cached
features, or of an exported model (`mnft eval --model`), over (part of) an eval split: ranks evaluating
parts of a split sum their counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mnft_trainer.data import Sample
from mnft_trainer.features import ImageSource, iterate_images, run_batches
from mnft_trainer.metrics import confusion_matrix


def confusion_on_images(
    net: Any, samples: Sequence[Sample], height: int, width: int, batch_size: int, num_classes: int
) -> np.ndarray:
    """counts[true, predicted] of `net` with the recipe's eval transform; every image is counted."""
    net.set_train(False)
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    if not samples:
        return counts
    for images, labels in iterate_images(ImageSource(samples), height, width, batch_size):
        logits = run_batches(net, images, batch_size)
        counts += confusion_matrix(labels, np.argmax(logits, axis=1), num_classes)
    return counts


def confusion_on_features(
    pooled_head: Any, features: np.ndarray, labels: np.ndarray, batch_size: int, num_classes: int
) -> np.ndarray:
    pooled_head.set_train(False)
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    for start in range(0, features.shape[0], batch_size):
        logits = run_batches(pooled_head, features[start : start + batch_size], batch_size)
        counts += confusion_matrix(labels[start : start + batch_size], np.argmax(logits, axis=1), num_classes)
    return counts


def confusion_on_model(model: Any, samples: Sequence[Sample], num_classes: int, log: Any) -> np.ndarray:
    """counts[true, predicted] of an exported model (`predict.ExportedModel`) on its engine."""
    from mnft_trainer.errors import TrainerError
    from mnft_trainer.predict import model_logits

    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    for logits, labels in model_logits(model, samples, log):
        if logits.shape[1] != num_classes:
            raise TrainerError(
                f"--model {model.path} outputs {logits.shape[1]} classes but the eval split has "
                f"{num_classes} class folders"
            )
        counts += confusion_matrix(labels, np.argmax(logits, axis=1), num_classes)
    return counts


def run_model_eval(cfg: Any, dataset_path: str, model_path: str) -> float:
    """`mnft eval --model`: an exported model over the eval split at the model's own input size."""
    from mnft_trainer.data import find_eval_dir, scan_image_folder
    from mnft_trainer.predict import load_model
    from mnft_trainer.run import check_num_classes, report_eval

    def log(message: str) -> None:
        print(message, flush=True)

    folder = scan_image_folder(find_eval_dir(dataset_path))
    num_classes = check_num_classes(cfg, folder)
    model = load_model(model_path, cfg.platform)
    return report_eval(confusion_on_model(model, folder.samples, num_classes, log), log)
