"""The eval split during a training run, for either path: rank r evaluates every group_size-th image from r
and the ranks' confusion matrices are summed, so the accuracy is the whole split's. Every rank must call
`confusion` (and `accuracy`) together: the sum is an all-reduce."""

from __future__ import annotations

from typing import Any

import numpy as np

from mnft_trainer import metrics
from mnft_trainer.context import RunContext
from mnft_trainer.data import ImageFolder, Sample
from mnft_trainer.distributed import DistContext, sum_over_ranks
from mnft_trainer.features import EXTRACT_BATCH_MAX, FeatureJob, cached_features


def eval_part(folder: ImageFolder, dist: DistContext) -> tuple[Sample, ...]:
    """This rank's part of the eval split: every group_size-th image, none left out."""
    return folder.samples[dist.rank :: dist.group_size]


class SplitEval:
    """counts[true, predicted] over the whole eval split, or None when the run has no eval split."""

    def __init__(self, ctx: RunContext, folder: ImageFolder | None):
        self.ctx = ctx
        self.folder = folder

    def confusion(self) -> np.ndarray | None:
        if self.folder is None:
            return None
        return sum_over_ranks(self._counts(eval_part(self.folder, self.ctx.dist)), self.ctx.dist.group_size)

    def accuracy(self) -> float | None:
        confusion = self.confusion()
        return None if confusion is None else metrics.accuracy(confusion)

    def _counts(self, part: tuple[Sample, ...]) -> np.ndarray:
        raise NotImplementedError


class ImageEval(SplitEval):
    """The whole network on the eval images (the full path)."""

    def __init__(self, ctx: RunContext, folder: ImageFolder | None, net: Any):
        super().__init__(ctx, folder)
        self.net = net

    def _counts(self, part: tuple[Sample, ...]) -> np.ndarray:
        from mnft_trainer.evaluate import confusion_on_images

        cfg = self.ctx.config
        batch = min(cfg.batch_size, EXTRACT_BATCH_MAX)
        return confusion_on_images(
            self.net, part, cfg.image_height, cfg.image_width, batch, self.ctx.num_classes
        )


class FeatureEval(SplitEval):
    """The head on the eval split's cached features (the frozen path), extracted at the first eval."""

    def __init__(self, ctx: RunContext, folder: ImageFolder | None, job: FeatureJob, head: Any):
        super().__init__(ctx, folder)
        self.job = job
        self.head = head
        self.features: tuple[np.ndarray, np.ndarray] | None = None

    def _counts(self, part: tuple[Sample, ...]) -> np.ndarray:
        from mnft_trainer.evaluate import confusion_on_features
        from mnft_trainer.network import PooledHead

        num_classes = self.ctx.num_classes
        if not part:
            return np.zeros((num_classes, num_classes), dtype=np.int64)
        if self.features is None:
            self.features = cached_features(self.job, part, "eval")
        features, labels = self.features
        return confusion_on_features(
            PooledHead(self.head), features, labels, self.job.batch_size, num_classes
        )
