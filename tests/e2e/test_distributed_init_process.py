"""`init_from_env` with real MindSpore in a fresh process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mnft_trainer.distributed import DistContext

pytestmark = pytest.mark.slow


def test_no_env_is_rank_0_of_1_in_a_fresh_process():
    code = (
        "import mindspore as ms; from mnft_trainer.distributed import init_from_env; "
        "print(repr(init_from_env('CPU', {}))); print(ms.get_context('device_target'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.splitlines()[-2:] == [repr(DistContext(0, 1, None, False)), "CPU"]
