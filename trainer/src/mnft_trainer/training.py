"""The two training loops: the head on cached features (frozen backbone) and the whole network.

Both print the recipe's per-epoch line and write `ckpt_<rank>/mobilenetv2_<epoch>.ckpt`. The full path
saves the training cell, i.e. the network's entries plus the optimizer state (moments, global_step), as
MindSpore's ModelCheckpoint does, so a restarted run resumes at the next epoch with the same momentum and
learning-rate position.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mnft_trainer.checkpoint import (
    PrefixSaver,
    list_checkpoints,
    prune_checkpoints,
    read_checkpoint,
    save_atomic,
)
from mnft_trainer.config import RecipeConfig
from mnft_trainer.context import Log, RunContext
from mnft_trainer.data import Augmentation, ImageSource, make_dataset
from mnft_trainer.distributed import end_of_epoch, first_line, step_failure
from mnft_trainer.errors import TrainerError
from mnft_trainer.lr_schedule import get_lr
from mnft_trainer.outputs import EpochStats, epoch_line

OnEpoch = Callable[[EpochStats], None]


def _plain_report(log: Log) -> OnEpoch:
    return lambda s: log(epoch_line(s.epoch, s.epochs, s.steps, s.seconds * 1000, s.loss))


@dataclass(frozen=True)
class TrainResult:
    epochs: int
    final_loss: float | None
    checkpoint: str | None


def make_loss(num_classes: int, label_smooth: float) -> Any:
    import mindspore as ms
    from mindspore import nn, ops

    if label_smooth <= 0:
        return nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")

    class CrossEntropyWithLabelSmooth(nn.LossBase):  # the recipe's loss (src/models.py)
        def __init__(self) -> None:
            super().__init__()
            self.onehot = ops.OneHot()
            self.on_value = ms.Tensor(1.0 - label_smooth, ms.float32)
            self.off_value = ms.Tensor(label_smooth / (num_classes - 1), ms.float32)
            self.ce = nn.SoftmaxCrossEntropyWithLogits()
            self.mean = ops.ReduceMean(False)
            self.cast = ops.Cast()

        def construct(self, logit: Any, label: Any) -> Any:
            one_hot = self.onehot(
                self.cast(label, ms.int32), ops.shape(logit)[1], self.on_value, self.off_value
            )
            return self.mean(self.ce(logit, one_hot), 0)

    return CrossEntropyWithLabelSmooth()


def decays_weight(name: str) -> bool:
    """Which parameters get weight decay, as in r1.2: its train.py hands every trainable parameter to
    Momentum with one weight_decay, and MindSpore's optimizer then decays all but those named `beta` or
    `gamma` (BatchNorm's), so the head's bias is decayed too. MindSpore 2.10's default filter is the same."""
    return "beta" not in name and "gamma" not in name


def _should_save(cfg: RecipeConfig, epoch: int) -> bool:
    return cfg.save_checkpoint and (epoch % cfg.save_checkpoint_epochs == 0 or epoch == cfg.epoch_size)


def _save(save: Callable[[Path], None], cfg: RecipeConfig, ckpt_dir: Path, epoch: int) -> str:
    path = ckpt_dir / f"mobilenetv2_{epoch}.ckpt"
    save(path)
    prune_checkpoints(ckpt_dir, cfg.keep_checkpoint_max)
    return str(path)


@dataclass(frozen=True)
class EpochEnd:
    """What both loops do after an epoch's steps: the loss (and, given `statistics`, the BatchNorm
    statistics) averaged over the ranks, the checkpoint of `saved` when due, the epoch's stats to
    `on_epoch`, and `train_cell` back in training mode (an eval in on_epoch switched it to inference).
    `save` writes the checkpoint file at the path it is given."""

    ctx: RunContext
    steps: int
    lr: np.ndarray
    train_cell: Any
    save: Callable[[Path], None]
    statistics: Any | None
    on_epoch: OnEpoch

    def __call__(self, epoch: int, started: float, losses: Sequence[float]) -> tuple[float, str | None]:
        """(the epoch's loss over every rank's images, the checkpoint written or None)."""
        cfg = self.ctx.config
        avg_loss = end_of_epoch(self.statistics, float(np.mean(losses)), self.ctx.dist.group_size)
        seconds = time.monotonic() - started
        checkpoint = (
            _save(self.save, cfg, self.ctx.paths.checkpoints, epoch) if _should_save(cfg, epoch) else None
        )
        self.on_epoch(
            EpochStats(
                epoch,
                cfg.epoch_size,
                self.steps,
                self.steps * cfg.batch_size,
                seconds,
                avg_loss,
                float(self.lr[epoch * self.steps - 1]),
            )
        )
        self.train_cell.set_train()
        return avg_loss, checkpoint


def too_few_images(count: int, batch_size: int, rank: int) -> TrainerError:
    return TrainerError(
        f"batch_size {batch_size} is larger than the {count} training images of rank {rank}; "
        "lower --batch_size or add images"
    )


def train_head(
    ctx: RunContext,
    net: Any,
    head: Any,
    features: np.ndarray,
    labels: np.ndarray,
    on_epoch: OnEpoch | None = None,
    seed: int = 1,
) -> TrainResult:
    """Train the head on cached pooled features; `net` (backbone + head) is what gets checkpointed."""
    import mindspore as ms
    from mindspore import nn

    from mnft_trainer.network import PooledHead

    cfg = ctx.config
    count = features.shape[0]
    steps = count // cfg.batch_size
    if steps == 0:
        raise too_few_images(count, cfg.batch_size, ctx.dist.rank)
    lr = get_lr(0, cfg.lr_init, cfg.lr_end, cfg.lr_max, cfg.warmup_epochs, cfg.epoch_size, steps)
    # As the recipe's frozen path: Momentum over the head's parameters with weight decay, no loss scale.
    opt = nn.Momentum(head.trainable_params(), ms.Tensor(lr), cfg.momentum, cfg.weight_decay)
    train_cell = nn.TrainOneStepCell(
        nn.WithLossCell(PooledHead(head), make_loss(ctx.num_classes, cfg.label_smooth)), opt
    )
    train_cell.set_train()
    # The backbone is frozen: its BatchNorm statistics do not move, so only the loss is averaged, and
    # each checkpoint serializes the head only (the rest of the file is the same every epoch).
    saver = PrefixSaver(net, head, ctx.paths.checkpoints)
    report = on_epoch or _plain_report(ctx.log)
    end_epoch = EpochEnd(ctx, steps, lr, train_cell, saver.save, None, report)
    rng = np.random.default_rng(seed)
    checkpoint: str | None = None
    avg_loss: float | None = None
    for epoch in range(1, cfg.epoch_size + 1):
        started = time.monotonic()
        order = rng.permutation(count)
        losses = []
        for step in range(steps):
            index = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            try:
                loss = train_cell(ms.Tensor(features[index]), ms.Tensor(labels[index]))
                losses.append(float(loss.asnumpy()))
            except RuntimeError as exc:  # in a distributed job, the gradients' allreduce
                raise step_failure(exc) from None
        avg_loss, saved = end_epoch(epoch, started, losses)
        checkpoint = saved or checkpoint
    return TrainResult(cfg.epoch_size, avg_loss, checkpoint)


def find_resume_point(ckpt_dir: Path, epochs: int) -> tuple[int, Path] | None:
    """The newest own checkpoint whose epoch every sibling rank directory (`ckpt_<r>` on the shared output
    volume) holds too: a rank killed between two ranks' saves must not make the restarted ranks resume at
    different epochs (their collectives would no longer pair up)."""
    own = {epoch: path for epoch, path in list_checkpoints(ckpt_dir) if epoch <= epochs}
    common = set(own)
    for sibling in ckpt_dir.parent.glob("ckpt_*"):
        if sibling != ckpt_dir and sibling.is_dir():
            common &= {epoch for epoch, _ in list_checkpoints(sibling)}
    if not common:
        return None
    epoch = max(common)
    return epoch, own[epoch]


def train_full(
    ctx: RunContext, net: Any, source: ImageSource, on_epoch: OnEpoch | None = None, workers: int = 2
) -> TrainResult:
    """Whole-network training with fixed loss scale; resumes from the newest checkpoint of this rank."""
    import mindspore as ms
    from mindspore import nn

    cfg = ctx.config
    count = len(source)
    steps = count // cfg.batch_size
    if steps == 0:
        raise too_few_images(count, cfg.batch_size, ctx.dist.rank)
    lr = get_lr(0, cfg.lr_init, cfg.lr_end, cfg.lr_max, cfg.warmup_epochs, cfg.epoch_size, steps)
    # FixedLossScaleManager(drop_overflow_update=False) semantics: scale the gradients by loss_scale
    # (sens) and let the optimizer divide them back.
    params = net.trainable_params()
    opt = nn.Momentum(params, ms.Tensor(lr), cfg.momentum, cfg.weight_decay, loss_scale=cfg.loss_scale)
    if cfg.weight_decay > 0 and tuple(opt.decay_flags) != tuple(decays_weight(p.name) for p in params):
        raise TrainerError("internal error: this MindSpore's weight-decay filter differs from the recipe's")
    loss_fn = make_loss(ctx.num_classes, cfg.label_smooth)
    train_cell = nn.TrainOneStepCell(nn.WithLossCell(net, loss_fn), opt, sens=cfg.loss_scale)
    train_cell.set_train()

    start_epoch = 0
    checkpoint: str | None = None
    resume = find_resume_point(ctx.paths.checkpoints, cfg.epoch_size)
    if resume is not None:
        start_epoch, path = resume
        entries = read_checkpoint(str(path), flag="resume checkpoint")
        entries.pop("learning_rate", None)  # recomputed from the config
        not_loaded, _ = ms.load_param_into_net(train_cell, entries)
        missing = [name for name in not_loaded if name != "learning_rate"]
        if missing:
            raise TrainerError(
                f"{path}: cannot resume, it lacks {', '.join(missing[:3])}; move it away to start over"
            )
        checkpoint = str(path)
        ctx.log(f"resuming from {path} (epoch {start_epoch} of {cfg.epoch_size})")
    if start_epoch >= cfg.epoch_size:
        return TrainResult(cfg.epoch_size, None, checkpoint)

    augmentation = Augmentation.from_config(cfg)
    dataset = make_dataset(
        source, cfg.image_height, cfg.image_width, cfg.batch_size, True, workers, augmentation
    )
    iterator = dataset.create_tuple_iterator(num_epochs=cfg.epoch_size - start_epoch, output_numpy=True)
    # Every rank's BatchNorm statistics averaged before any checkpoint or eval: ranks stay identical. The
    # training cell is saved: the network's entries plus the optimizer state, for resuming.
    end_epoch = EpochEnd(
        ctx,
        steps,
        lr,
        train_cell,
        lambda path: save_atomic(train_cell, path),
        net,
        on_epoch or _plain_report(ctx.log),
    )
    avg_loss: float | None = None
    for epoch in range(start_epoch + 1, cfg.epoch_size + 1):
        started = time.monotonic()
        losses = []
        try:
            for images, labels in iterator:
                try:
                    loss = train_cell(ms.Tensor(images), ms.Tensor(labels))
                    losses.append(float(loss.asnumpy()))
                except RuntimeError as exc:  # not the images: the step (in a distributed job, allreduce)
                    raise step_failure(exc) from None
        except TrainerError:
            raise
        except RuntimeError as exc:
            if source.error is not None:
                raise source.error from None
            raise TrainerError(f"reading training images failed: {first_line(exc)}") from None
        avg_loss, saved = end_epoch(epoch, started, losses)
        checkpoint = saved or checkpoint
    return TrainResult(cfg.epoch_size, avg_loss, checkpoint)
