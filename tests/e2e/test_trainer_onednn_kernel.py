"""The trainer's MindSpore set-up keeps 3x3 convolutions off oneDNN's scalar reference kernel.

A fresh process (oneDNN fixes its ISA at its first primitive) runs `set_up_mindspore("CPU")` and one
3x3 convolution with ONEDNN_VERBOSE=1; oneDNN names the kernel it ran. Without the cap, on an AVX-512
CPU, that is `jit_uni_ncsp:conv+ref:any` (the second run shows the check can fail there).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = """
import sys
import numpy as np
from mnft_trainer.run import set_up_mindspore
if sys.argv[1] == "trainer":
    set_up_mindspore("CPU")
import mindspore as ms
from mindspore import nn
ms.set_device("CPU")
conv = nn.Conv2d(8, 8, 3, pad_mode="pad", padding=1)
conv(ms.Tensor(np.ones((2, 8, 16, 16), np.float32))).asnumpy()
"""


def conv_kernels(mode: str) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONEDNN_", "DNNL_", "MS_"))}
    env.update(ONEDNN_VERBOSE="1", GLOG_v="3")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return {
        line.split(",")[6]
        for line in done.stdout.splitlines()
        if line.startswith("onednn_verbose,") and ",exec,cpu,convolution," in line
    }


def avx512() -> bool:
    try:
        with open("/proc/cpuinfo") as handle:
            return " avx512f" in handle.read()
    except OSError:
        return False


def test_trainer_set_up_runs_a_vectorised_convolution_kernel():
    kernels = conv_kernels("trainer")
    assert len(kernels) == 1, kernels
    kernel = next(iter(kernels))
    assert ":" in kernel and "ref" not in kernel, kernels  # x64:gemm:jit on this machine


@pytest.mark.skipif(not avx512(), reason="the reference-kernel fallback happens on AVX-512 CPUs")
def test_without_the_cap_the_same_call_falls_back_to_the_reference_kernel():
    assert conv_kernels("bare") == {"jit_uni_ncsp:conv+ref:any"}
