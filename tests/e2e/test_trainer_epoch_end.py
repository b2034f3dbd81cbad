"""The end of an epoch, one helper for both training loops: the epoch's stats, a checkpoint when due
(oldest pruned), and the training cell back in training mode after an eval in on_epoch."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from mindspore import nn

from mnft_trainer.checkpoint import save_atomic
from mnft_trainer.config import resolve_config
from mnft_trainer.context import RunContext, RunPaths
from mnft_trainer.distributed import DistContext
from mnft_trainer.outputs import EpochStats
from mnft_trainer.training import EpochEnd

pytestmark = pytest.mark.slow  # MindSpore


def test_each_epoch_end_reports_saves_when_due_and_restores_training_mode(tmp_path: Path) -> None:
    cfg = resolve_config(
        "CPU",
        {},
        {
            "epoch_size": 3,
            "batch_size": 4,
            "save_checkpoint_epochs": 2,
            "keep_checkpoint_max": 1,
            "save_checkpoint_path": str(tmp_path),
        },
    )
    ckpt_dir = tmp_path / "ckpt_0"
    ctx = RunContext(
        cfg,
        DistContext(0, 1, None, False),
        RunPaths(str(tmp_path), ckpt_dir, str(tmp_path)),
        print,
        ("a", "b"),
    )
    cell = nn.Dense(2, 2)
    lr = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], dtype=np.float32)  # 3 epochs of 2 steps
    seen: list[EpochStats] = []
    modes: list[bool] = []

    def on_epoch(stats: EpochStats) -> None:
        seen.append(stats)
        cell.set_train(False)  # what an eval does

    end = EpochEnd(ctx, 2, lr, cell, lambda path: save_atomic(cell, path), None, on_epoch)
    results = []
    for epoch in (1, 2, 3):
        cell.set_train(True)
        results.append(end(epoch, time.monotonic(), [1.0, 2.0 * epoch]))
        modes.append(cell.training)

    assert results == [
        (1.5, None),
        (2.5, str(ckpt_dir / "mobilenetv2_2.ckpt")),
        (3.5, str(ckpt_dir / "mobilenetv2_3.ckpt")),
    ]
    assert [p.name for p in ckpt_dir.iterdir()] == ["mobilenetv2_3.ckpt"]  # keep_checkpoint_max 1
    assert [replace(s, seconds=0.0) for s in seen] == [
        EpochStats(1, 3, 2, 8, 0.0, 1.5, float(lr[1])),
        EpochStats(2, 3, 2, 8, 0.0, 2.5, float(lr[3])),
        EpochStats(3, 3, 2, 8, 0.0, 3.5, float(lr[5])),
    ]
    assert modes == [True, True, True]
