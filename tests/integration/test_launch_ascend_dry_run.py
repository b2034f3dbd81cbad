"""`mnft launch --dry-run` as a real process on the operator's rendered Ascend env and rank table file.

Same cases as tests/unit/test_launch_ascend_devices.py (1x1, 1x2, 1x4 on chips 4-7, 1x8, 2x8, both
modes), through the entrypoint a pod runs: the table is read from disk and one JSON line per process
comes out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ascend_launch_cases import CASES, Case, device_view, expected_devices

LAUNCH = [sys.executable, "-m", "mnft_operator.cli", "launch", "--dry-run", "train"]


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.id)
def test_dry_run_prints_each_processes_device(c: Case, tmp_path) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MNFT_", "MS_", "RANK_", "TERMINATION"))}
    table_file = tmp_path / "hccl.json"
    if c.table is not None:
        table_file.write_text(json.dumps(c.table))
    for index, pod_env in enumerate(c.pod_envs):
        env = {**base, **pod_env}
        if c.table is not None:
            env["RANK_TABLE_FILE"] = str(table_file)
        result = subprocess.run(LAUNCH, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        workers = [line for line in lines if line["rank"] is not None]
        assert [device_view(line["env"]) for line in workers] == expected_devices(c, index)
        roles = [line.get("role") for line in lines if line["rank"] is None]
        world = c.workers * c.devices
        assert roles == (["scheduler"] if c.mode == "dynamicCluster" and index == 0 and world > 1 else [])
