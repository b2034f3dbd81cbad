"""Real `mnft train` (real MindSpore) exits 75 (EX_TEMPFAIL) when the cluster does not form."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TRAIN = [sys.executable, "-m", "mnft_trainer", "train", "--platform", "CPU"]


def tiny_dataset(root: Path) -> Path:
    from PIL import Image

    for cls in ("a", "b"):
        folder = root / "data" / "train" / cls
        folder.mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(folder / "0.png")
    return root / "data"


def clean_env(**extra: str) -> dict[str, str]:
    prefixes = ("MNFT_", "MS_", "RANK_", "TERMINATION", "GLOG")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(prefixes)}, **extra}


def test_mnft_train_exits_75_when_no_scheduler_answers(tmp_path: Path):
    """Real `mnft train` and MindSpore: a worker whose scheduler never answers ("not successfully spawned")
    after MindSpore's cluster-join timeout (MS_TOPO_TIMEOUT, shortened to 3 s)."""
    data = tiny_dataset(tmp_path)
    env = clean_env(
        MS_ROLE="MS_WORKER",
        MS_WORKER_NUM="2",
        MS_NODE_ID="1",
        MS_SCHED_HOST="127.0.0.1",
        MS_SCHED_PORT="1",  # nothing listens there
        MS_TOPO_TIMEOUT="3",
        GLOG_v="3",
    )
    result = subprocess.run(
        [*TRAIN, "--dataset_path", str(data), "--save_checkpoint_path", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 75, result.stderr[-2000:]
    last = result.stderr.splitlines()[-1]
    assert last.startswith("error: distributed init failed (dynamicCluster, scheduler 127.0.0.1:1): ")


def test_mnft_train_exits_75_when_the_rank_table_never_completes(tmp_path: Path):
    """Real `mnft train` process: the rank table stays `initializing` past a 0.3 s timeout."""
    tiny_dataset(tmp_path)
    table = tmp_path / "hccl.json"
    table.write_text('{"status": "initializing"}')
    termination = tmp_path / "termination-log"
    termination.write_text("")
    env = clean_env(
        RANK_TABLE_FILE=str(table),
        RANK_SIZE="2",
        RANK_ID="0",
        MNFT_RANK_TABLE_TIMEOUT="0.3",
        TERMINATION_MESSAGE_PATH=str(termination),
    )
    result = subprocess.run(
        [*TRAIN, "--dataset_path", str(tmp_path / "data"), "--save_checkpoint_path", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    expected = f"error: rank table {table} is not completed after 0.3 s"
    assert result.returncode == 75, result.stderr[-2000:]
    assert result.stderr.splitlines()[-1].startswith(expected)
    assert termination.read_text().startswith(expected)
