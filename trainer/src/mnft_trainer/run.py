"""`mnft train` and `mnft eval`, each a straight flow. Training: check the inputs (before MindSpore starts),
start (MindSpore, the ranks: the run's context), prepare (the network with its pretrained weights, this
rank's images, the eval split's evaluator), train (frozen backbone: the head on cached features; otherwise
the whole network), evaluate, write the outputs. Every stage takes the context and hands its result on."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mnft_trainer.config import RecipeConfig
from mnft_trainer.context import RunContext, RunPaths
from mnft_trainer.data import (
    ImageFolder,
    ImageSource,
    Sample,
    find_eval_dir,
    find_splits,
    scan_image_folder,
    shard_samples,
)
from mnft_trainer.errors import TrainerError
from mnft_trainer.features import EXTRACT_BATCH_MAX, FeatureJob, balanced_batch, cached_features
from mnft_trainer.outputs import EpochReporter, report_eval, total_line, write_outputs
from mnft_trainer.split_eval import FeatureEval, ImageEval, SplitEval
from mnft_trainer.training import find_resume_point, too_few_images, train_full, train_head

SEED = 1


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


@dataclass(frozen=True)
class Inputs:
    train: ImageFolder
    eval: ImageFolder | None  # None: no eval (no eval/ split, or --run_eval false)


@dataclass(frozen=True)
class Network:
    backbone: Any
    head: Any
    net: Any  # backbone + head: what the full path trains and every path checkpoints and exports


def run_training(request: TrainRequest) -> dict[str, Any]:
    started = time.monotonic()
    inputs = check_inputs(request)
    ctx = start(request, inputs)
    network, shard = prepare(ctx, request, inputs)
    evaluator: SplitEval
    if request.freeze_backbone:
        job = feature_job(ctx, network, shard, request.pretrain_ckpt)
        evaluator = FeatureEval(ctx, inputs.eval, job, network.head)
    else:
        evaluator = ImageEval(ctx, inputs.eval, network.net)
    # Made before the features are extracted: the first epoch's wall time (for the ETA) includes them.
    reporter = EpochReporter(
        ctx.log,
        ctx.dist.group_size,
        save_dir=ctx.paths.output if ctx.rank0 else None,
        evaluate=evaluator.accuracy,
        eval_every=ctx.eval_every,
    )
    if request.freeze_backbone:
        features, labels = cached_features(job, shard, "train")
        result = train_head(ctx, network.net, network.head, features, labels, on_epoch=reporter)
    else:
        result = train_full(ctx, network.net, ImageSource(shard), on_epoch=reporter)
    data = write_outputs(ctx, network.net, result, reporter.history, evaluator.confusion())
    ctx.log(total_line(time.monotonic() - started))
    return data


def check_inputs(request: TrainRequest) -> Inputs:
    """The dataset's splits and the flags that go with them, checked before MindSpore starts."""
    cfg = request.config
    train_dir, eval_dir = find_splits(request.dataset_path)
    train_folder = scan_image_folder(train_dir)
    check_num_classes(cfg, train_folder)
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
    return Inputs(train_folder, eval_folder)


def start(request: TrainRequest, inputs: Inputs) -> RunContext:
    """MindSpore and the ranks set up; the run's context."""
    from mnft_trainer.checkpoint import rank_dir

    cfg = request.config
    dist = set_up_mindspore(cfg.platform)

    def log(message: str) -> None:
        if dist.rank == 0:
            print(message, flush=True)

    output = cfg.save_checkpoint_path
    paths = RunPaths(
        output=output,
        checkpoints=rank_dir(output, dist.rank),
        feature_cache=request.feature_cache_dir or os.path.join(output, "feature_cache"),
    )
    return RunContext(
        cfg, dist, paths, log, inputs.train.classes, request.eval_every_epochs, request.export_formats
    )


def prepare(ctx: RunContext, request: TrainRequest, inputs: Inputs) -> tuple[Network, tuple[Sample, ...]]:
    """The network (pretrained weights loaded unless the run resumes) and this rank's training images."""
    from mnft_trainer.checkpoint import load_pretrained
    from mnft_trainer.network import build_network

    network = Network(*build_network(ctx.num_classes))
    shard = shard_samples(inputs.train.samples, ctx.dist.rank, ctx.dist.group_size)
    path = "frozen backbone" if request.freeze_backbone else "full network"
    ctx.log(
        f"train: {len(inputs.train.samples)} images in {ctx.num_classes} classes, {len(shard)} on each of "
        f"{ctx.dist.group_size} rank(s); path: {path}"
    )
    if request.pretrain_ckpt is not None and not _resuming(ctx, request):
        load_pretrained(
            network.backbone, network.head, request.pretrain_ckpt, ctx.log, allow_head=not request.filter_head
        )
        ctx.log(f"loaded pretrained weights from {request.pretrain_ckpt}")
    return network, shard


def _resuming(ctx: RunContext, request: TrainRequest) -> bool:
    return (
        not request.freeze_backbone
        and find_resume_point(ctx.paths.checkpoints, ctx.config.epoch_size) is not None
    )


def feature_job(
    ctx: RunContext, network: Network, shard: tuple[Sample, ...], pretrain_ckpt: str | None
) -> FeatureJob:
    """The frozen path's extraction: one batch shape for both splits (the eval split reuses the train
    split's compiled graph), cache files keyed by the pretrained checkpoint's sha256."""
    from mnft_trainer.checkpoint import file_sha256
    from mnft_trainer.network import PooledBackbone

    cfg = ctx.config
    if len(shard) < cfg.batch_size:
        raise too_few_images(len(shard), cfg.batch_size, ctx.dist.rank)
    assert pretrain_ckpt is not None  # checked in check_inputs
    return FeatureJob(
        PooledBackbone(network.backbone),
        file_sha256(pretrain_ckpt),
        cfg.image_height,
        cfg.image_width,
        balanced_batch(len(shard), min(cfg.batch_size, EXTRACT_BATCH_MAX)),
        ctx.paths.feature_cache,
        ctx.log,
        ctx.dist.rank,
        ctx.dist.group_size,
    )


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
