"""`init_from_env` in a fresh process when the rank table never completes (no MindSpore is reached)."""

from __future__ import annotations

import subprocess
import sys


def test_rank_table_never_completed_times_out_before_init(tmp_path):
    table = tmp_path / "hccl.json"
    table.write_text('{"status": "initializing"}')
    env = {"RANK_TABLE_FILE": str(table), "RANK_SIZE": "2", "RANK_ID": "0", "MNFT_RANK_TABLE_TIMEOUT": "0.2"}
    code = (
        "import sys; from mnft_trainer.distributed import init_from_env, DistributedError\n"
        "try:\n    init_from_env('CPU', dict(" + repr(env) + "))\n"
        "except DistributedError as exc:\n    print(exc); sys.exit(exc.exit_code)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 75  # transient: the operator restarts the job
    assert result.stdout.splitlines()[-1].startswith(f"rank table {table} is not completed after 0.2 s")
