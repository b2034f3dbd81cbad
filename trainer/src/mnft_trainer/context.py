"""What every stage of a training run shares: the resolved recipe config and run options, this process's
place among the ranks, where the outputs go, and the log (rank 0 prints, the other ranks stay quiet)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: importing the context costs nothing (no numpy, no MindSpore)
    from mnft_trainer.config import RecipeConfig
    from mnft_trainer.distributed import DistContext

Log = Callable[[str], None]


@dataclass(frozen=True)
class RunPaths:
    output: str  # save_checkpoint_path: summary.json, history.json, plots, exported models
    checkpoints: Path  # this rank's ckpt_<rank>/mobilenetv2_<epoch>.ckpt
    feature_cache: str  # the frozen path's cached features (and the backbone's ONNX export)


@dataclass(frozen=True)
class RunContext:
    config: RecipeConfig
    dist: DistContext
    paths: RunPaths
    log: Log
    classes: tuple[str, ...]  # the training split's class folders, index = label
    eval_every: int = 0  # also evaluate after every N-th epoch but the last; 0: off
    export_formats: tuple[str, ...] = ()  # rank 0 exports the final model in these

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def rank0(self) -> bool:
        return self.dist.rank == 0
