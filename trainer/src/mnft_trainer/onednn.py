"""Keep MindSpore's CPU convolutions off oneDNN's unvectorised reference kernel.

MindSpore 2.10's CPU Conv2D gives oneDNN 3.10 plain NCHW/OIHW memory descriptors. On a CPU with
AVX-512, oneDNN answers those with its `jit_uni_ncsp` wrapper, whose inner convolution then falls back
to `ref:any`, the scalar reference kernel (`ONEDNN_VERBOSE=1` shows `jit_uni_ncsp:conv+ref:any`;
`ONEDNN_VERBOSE=dispatch` shows every vectorised kernel refusing the fixed weight layout). With the ISA
capped at AVX2 it picks `gemm:jit` for the same call: a 3x3 convolution runs 60-80x faster and the
MobileNetV2 forward at 224x224 goes from ~6 to ~55 images/s on a 2-core AVX-512 machine
(bench/bench_trainer.py). On CPUs without AVX-512 the cap changes nothing.

oneDNN reads the variable when it creates its first primitive, so call this before MindSpore runs any
CPU kernel; a value already in the environment (the user's choice) is kept.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

ISA_VARIABLE = "ONEDNN_MAX_CPU_ISA"
CAPPED_ISA = "AVX2"


def cap_onednn_isa(env: MutableMapping[str, str] | None = None) -> str:
    """Set ONEDNN_MAX_CPU_ISA=AVX2 unless it is already set; returns the value in force."""
    target = os.environ if env is None else env
    return target.setdefault(ISA_VARIABLE, CAPPED_ISA)
