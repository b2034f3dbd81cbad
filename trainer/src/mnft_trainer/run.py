"""One training or evaluation run: validate inputs, set up MindSpore and the ranks, pick the path, report."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mnft_trainer import metrics
from mnft_trainer.config import RecipeConfig
from mnft_trainer.data import (
    ImageFolder,
    Sample,
    find_eval_dir,
    find_splits,
    scan_image_folder,
    shard_samples,
)
from mnft_trainer.errors import TrainerError
from mnft_trainer.outputs import EpochReporter, result_line, summary, total_line, write_summary
from mnft_trainer.training import Log, TrainResult

SEED = 1
EXTRACT_BATCH_MAX = 64


@dataclass(frozen=True)
class TrainRequest:
    config: RecipeConfig
    dataset_path: str
    pretrain_ckpt: str | None
    freeze_backbone: bool
    filter_head: bool = False
    run_eval: bool | None = None
    feature_cache_dir: str | None = None
    eval_every_epochs: int = 0  # also evaluate after every N-th epoch (history's eval_accuracy); 0: off
    export_formats: tuple[str, ...] = ()  # "MINDIR", "ONNX": rank 0 exports the final model


def check_num_classes(cfg: RecipeConfig, folder: ImageFolder) -> int:
    found = len(folder.classes)
    if cfg.num_classes is not None and cfg.num_classes != found:
        raise TrainerError(
            f"num_classes is {cfg.num_classes} but {folder.root} has {found} class folders "
            f"({', '.join(folder.classes[:5])}{', ...' if found > 5 else ''}); fix num_classes or the data"
        )
    if found < 2:
        raise TrainerError(
            f"{folder.root}: only one class folder ({folder.classes[0]}); at least 2 are needed"
        )
    return found


def set_up_mindspore(platform: str) -> Any:
    """oneDNN's ISA cap, graph mode, recipe seed, then the distributed context from the environment."""
    from mnft_trainer.onednn import cap_onednn_isa

    cap_onednn_isa()  # before the first CPU kernel: see onednn.py
    import mindspore as ms
    import numpy as np

    from mnft_trainer.distributed import init_from_env

    ms.set_context(mode=ms.GRAPH_MODE)
    ctx = init_from_env(platform)
    ms.set_seed(SEED)
    np.random.seed(SEED)  # the network's initial weights: identical on every rank
    return ctx


def _check_pretrained_file(path: str | None) -> None:
    if path is not None and not Path(path).is_file():
        raise TrainerError(f"--pretrain_ckpt {path}: file not found")


def run_training(request: TrainRequest) -> dict[str, Any]:
    started = time.monotonic()
    cfg = request.config
    train_dir, eval_dir = find_splits(request.dataset_path)
    train_folder = scan_image_folder(train_dir)
    num_classes = check_num_classes(cfg, train_folder)
    run_eval = eval_dir is not None if request.run_eval is None else request.run_eval
    if run_eval and eval_dir is None:
        raise TrainerError(
            f"--run_eval true but {request.dataset_path} has no eval/ split; add one or pass --run_eval false"
        )
    eval_folder = scan_image_folder(eval_dir, train_folder.classes) if run_eval and eval_dir else None
    if request.freeze_backbone and request.pretrain_ckpt is None:
        raise TrainerError(
            "--freeze_layer backbone needs --pretrain_ckpt (a frozen random backbone learns nothing)"
        )
    _check_pretrained_file(request.pretrain_ckpt)

    ctx = set_up_mindspore(cfg.platform)
    rank0 = ctx.rank == 0

    def log(message: str) -> None:
        if rank0:
            print(message, flush=True)

    from mnft_trainer.checkpoint import load_pretrained, rank_dir
    from mnft_trainer.network import build_network

    backbone, head, net = build_network(num_classes)
    shard = shard_samples(train_folder.samples, ctx.rank, ctx.group_size)
    log(
        f"train: {len(train_folder.samples)} images in {num_classes} classes, {len(shard)} on each of "
        f"{ctx.group_size} rank(s); path: {'frozen backbone' if request.freeze_backbone else 'full network'}"
    )
    ckpt_dir = rank_dir(cfg.save_checkpoint_path, ctx.rank)
    if request.pretrain_ckpt is not None and not _resuming(request, cfg, ckpt_dir):
        load_pretrained(backbone, head, request.pretrain_ckpt, log, allow_head=not request.filter_head)
        log(f"loaded pretrained weights from {request.pretrain_ckpt}")

    reporter = EpochReporter(
        log,
        ctx.group_size,
        save_dir=cfg.save_checkpoint_path if rank0 else None,
        eval_every=request.eval_every_epochs,
    )
    confusion: Any
    if request.freeze_backbone:
        result, confusion = _frozen(
            request, backbone, head, net, shard, eval_folder, num_classes, ckpt_dir, ctx, log, reporter
        )
    else:
        result, confusion = _full(request, net, shard, eval_folder, num_classes, ckpt_dir, ctx, log, reporter)
    accuracy = None if confusion is None else report_eval(confusion, log)
    data = summary(result.epochs, result.final_loss, accuracy, result.checkpoint)
    if rank0:
        data.update(_final_outputs(request, net, train_folder.classes, reporter, confusion, accuracy, log))
        write_summary(cfg.save_checkpoint_path, data)
    log(total_line(time.monotonic() - started))
    return data


def _final_outputs(
    request: TrainRequest,
    net: Any,
    classes: tuple[str, ...],
    reporter: EpochReporter,
    confusion: Any,
    accuracy: float | None,
    log: Log,
) -> dict[str, Any]:
    """Rank 0's additions to summary.json: history, per-class results, pictures, exported models."""
    from mnft_trainer.export import export_models
    from mnft_trainer.plots import write_plots

    cfg = request.config
    history = reporter.history
    if history and accuracy is not None and request.eval_every_epochs > 0:
        history[-1]["eval_accuracy"] = accuracy  # the final eval stands for the last epoch's
    out: dict[str, Any] = {"classes": list(classes), "history": history}
    matrix = None if confusion is None else confusion.tolist()
    if matrix is not None:
        out["per_class"] = metrics.per_class(confusion, classes)
        out["confusion_matrix"] = matrix
    out["plots"] = write_plots(cfg.save_checkpoint_path, history, accuracy, matrix, classes, log)
    exported = export_models(
        net, request.export_formats, cfg.save_checkpoint_path, cfg.image_height, cfg.image_width, classes, log
    )
    if exported:
        out["exported"] = exported
    return out


def _resuming(request: TrainRequest, cfg: RecipeConfig, ckpt_dir: Path) -> bool:
    from mnft_trainer.training import find_resume_point

    return not request.freeze_backbone and find_resume_point(ckpt_dir, cfg.epoch_size) is not None


def _frozen(
    request: TrainRequest,
    backbone: Any,
    head: Any,
    net: Any,
    shard: tuple[Sample, ...],
    eval_folder: ImageFolder | None,
    num_classes: int,
    ckpt_dir: Path,
    ctx: Any,
    log: Log,
    reporter: EpochReporter,
) -> tuple[TrainResult, Any]:
    from mnft_trainer.checkpoint import file_sha256
    from mnft_trainer.distributed import sum_over_ranks
    from mnft_trainer.evaluate import confusion_on_features
    from mnft_trainer.features import balanced_batch, cached_features
    from mnft_trainer.network import PooledBackbone, PooledHead
    from mnft_trainer.training import too_few_images, train_head

    cfg = request.config
    if len(shard) < cfg.batch_size:
        raise too_few_images(len(shard), cfg.batch_size, ctx.rank)
    cache_dir = request.feature_cache_dir or os.path.join(cfg.save_checkpoint_path, "feature_cache")
    assert request.pretrain_ckpt is not None  # checked in run_training
    ckpt_sha = file_sha256(request.pretrain_ckpt)
    pooled = PooledBackbone(backbone)
    # One batch shape for both splits: the eval split reuses the train split's compiled graph.
    batch = balanced_batch(len(shard), min(cfg.batch_size, EXTRACT_BATCH_MAX))
    size = (cfg.image_height, cfg.image_width)
    features, labels = cached_features(
        pooled, shard, *size, batch, ckpt_sha, cache_dir, "train", ctx.rank, ctx.group_size, log
    )
    eval_split: list[Any] = []

    def evaluate() -> Any:
        """counts[true, predicted] over the whole eval split (this rank's part, summed over the ranks:
        every rank must call it), else None."""
        if eval_folder is None:
            return None
        part = eval_part(eval_folder, ctx)
        matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
        if part:
            if not eval_split:
                eval_split.extend(
                    cached_features(
                        pooled, part, *size, batch, ckpt_sha, cache_dir, "eval", ctx.rank, ctx.group_size, log
                    )
                )
            matrix = confusion_on_features(PooledHead(head), eval_split[0], eval_split[1], batch, num_classes)
        return sum_over_ranks(matrix, ctx.group_size)

    reporter.evaluate = lambda: _accuracy(evaluate())
    result = train_head(
        net,
        head,
        features,
        labels,
        cfg,
        num_classes,
        ckpt_dir,
        ctx.rank,
        log,
        on_epoch=reporter,
        group_size=ctx.group_size,
    )
    return result, evaluate()


def eval_part(folder: ImageFolder, ctx: Any) -> tuple[Sample, ...]:
    """This rank's part of the eval split: every group_size-th image, none left out (counts are summed
    over the ranks, so the accuracy is the whole split's)."""
    return folder.samples[ctx.rank :: ctx.group_size]


def _accuracy(confusion: Any) -> float | None:
    return None if confusion is None else metrics.accuracy(confusion)


def _full(
    request: TrainRequest,
    net: Any,
    shard: tuple[Sample, ...],
    eval_folder: ImageFolder | None,
    num_classes: int,
    ckpt_dir: Path,
    ctx: Any,
    log: Log,
    reporter: EpochReporter,
) -> tuple[TrainResult, Any]:
    from mnft_trainer.data import ImageSource
    from mnft_trainer.distributed import sum_over_ranks
    from mnft_trainer.evaluate import confusion_on_images
    from mnft_trainer.training import train_full

    cfg = request.config

    def evaluate() -> Any:
        """counts[true, predicted] over the whole eval split (this rank's part, summed over the ranks:
        every rank must call it), else None."""
        if eval_folder is None:
            return None
        batch = min(cfg.batch_size, EXTRACT_BATCH_MAX)
        part = eval_part(eval_folder, ctx)
        matrix = confusion_on_images(net, part, cfg.image_height, cfg.image_width, batch, num_classes)
        return sum_over_ranks(matrix, ctx.group_size)

    reporter.evaluate = lambda: _accuracy(evaluate())
    result = train_full(
        net,
        ImageSource(shard),
        cfg,
        num_classes,
        ckpt_dir,
        ctx.rank,
        log,
        on_epoch=reporter,
        group_size=ctx.group_size,
    )
    return result, evaluate()


def report_eval(matrix: Any, log: Log) -> float:
    """The whole split's accuracy from its confusion matrix, logged with the counts behind it."""
    accuracy = metrics.accuracy(matrix)
    log(f"eval: {int(matrix.sum())} images, {int(np.trace(matrix))} correct")
    log(result_line(accuracy))
    return accuracy


def run_eval(cfg: RecipeConfig, dataset_path: str, checkpoint: str) -> float:
    """`mnft eval`: the checkpoint's network (head must match the class folders) over the eval split."""
    folder = scan_image_folder(find_eval_dir(dataset_path))
    num_classes = check_num_classes(cfg, folder)
    _check_pretrained_file(checkpoint)
    set_up_mindspore(cfg.platform)

    from mnft_trainer.checkpoint import load_pretrained
    from mnft_trainer.evaluate import confusion_on_images
    from mnft_trainer.network import build_network

    backbone, head, net = build_network(num_classes)
    load_pretrained(backbone, head, checkpoint, lambda m: print(m, flush=True), require_head=True)
    batch = min(cfg.batch_size, EXTRACT_BATCH_MAX)
    matrix = confusion_on_images(net, folder.samples, cfg.image_height, cfg.image_width, batch, num_classes)
    return report_eval(matrix, lambda message: print(message, flush=True))
