"""The trainer's distributed context, initialised from the environment `mnft launch` gives each process.

- dynamic cluster (CPU/GPU): `MS_ROLE=MS_WORKER`, `MS_WORKER_NUM` > 1, `MS_SCHED_HOST/PORT`, `MS_NODE_ID`;
- rank table (Ascend): `RANK_TABLE_FILE`, `RANK_SIZE` > 1, `RANK_ID`, `DEVICE_ID`;
- neither: rank 0 of 1 and nothing initialised.

MindSpore is imported only inside `init_from_env`, so importing this module stays cheap.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mnft_contract import env as E
from mnft_contract.exit_codes import ERROR, EX_TEMPFAIL
from mnft_trainer.errors import TrainerError
from mnft_trainer.pod import rank_table

PLATFORMS = ("CPU", "GPU", "Ascend")


class DistributedError(TrainerError):
    """The cluster did not form (init failed, rank table never completed) or a collective failed; one
    line for the user. The trainer exits `exit_code`, 75: restarting the whole job may succeed."""

    exit_code = EX_TEMPFAIL


class DistributedConfigError(DistributedError):
    """A distributed variable is malformed: restarting would fail the same way (exit code 1)."""

    exit_code = ERROR


@dataclass(frozen=True)
class DistContext:
    rank: int
    group_size: int
    device_id: int | None
    distributed: bool


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise DistributedConfigError(f"environment variable {name}={raw!r} must be an integer") from None


def detect_mode(env: Mapping[str, str]) -> str | None:
    """`dynamicCluster`, `scheduler`, `rankTable` or None when this process runs alone."""
    if env.get(E.MS_ROLE) == E.ROLE_WORKER and _int(env, E.MS_WORKER_NUM, 1) > 1:
        return "dynamicCluster"
    if env.get(E.MS_ROLE) == E.ROLE_SCHEDULER:
        # msrun starts the training script itself as the scheduler; `mnft launch` uses a bare one.
        return "scheduler"
    if env.get(E.RANK_TABLE_FILE) and _int(env, E.RANK_SIZE, 1) > 1:
        return "rankTable"
    return None


def device_id_for(platform: str, env: Mapping[str, str]) -> int | None:
    """The device this process drives: None on CPU, else DEVICE_ID (launch sets it), default 0."""
    return None if platform == "CPU" else _int(env, E.DEVICE_ID, 0)


def init_from_env(platform: str, env: Mapping[str, str] | None = None) -> DistContext:
    """Set MindSpore's device and, when the environment says so, join the job's communication group
    with data parallelism and mean gradients."""
    env = os.environ if env is None else env
    if platform not in PLATFORMS:
        raise DistributedConfigError(f"platform {platform!r} must be one of {', '.join(PLATFORMS)}")
    mode = detect_mode(env)
    device_id = device_id_for(platform, env)

    import mindspore as ms

    if device_id is None:
        ms.set_device(platform)
    else:
        ms.set_device(platform, device_id)
    if mode is None:
        return DistContext(rank=0, group_size=1, device_id=device_id, distributed=False)
    if mode == "rankTable":
        try:
            rank_table.wait_until_completed(
                env[E.RANK_TABLE_FILE],
                rank_table.timeout_from_env(env),
                log=lambda message: print(message, flush=True),
            )
        except rank_table.RankTableTimeout as exc:
            raise DistributedError(str(exc)) from None
        except rank_table.RankTableError as exc:
            raise DistributedConfigError(str(exc)) from None

    from mindspore.communication import get_group_size, get_rank, init

    started = time.monotonic()
    try:
        init()  # as the scheduler: serves the cluster, then exits the process once every worker is done
    except RuntimeError as exc:
        first = first_line(exc)
        where = (
            f"scheduler {env.get('MS_SCHED_HOST')}:{env.get('MS_SCHED_PORT')}"
            if mode != "rankTable"
            else f"rank table {env.get('RANK_TABLE_FILE')}"
        )
        raise DistributedError(f"distributed init failed ({mode}, {where}): {first}") from None
    if mode == "scheduler":
        raise SystemExit(0)
    rank, size = int(get_rank()), int(get_group_size())
    ms.set_auto_parallel_context(
        parallel_mode=ms.ParallelMode.DATA_PARALLEL, gradients_mean=True, device_num=size
    )
    print(
        f"distributed: rank {rank} of {size} joined ({mode}) in {time.monotonic() - started:.1f} s",
        flush=True,
    )
    return DistContext(rank=rank, group_size=size, device_id=device_id, distributed=True)


MOVING_STATISTICS = ("moving_mean", "moving_variance")
_SUM_CELLS: dict[str, Any] = {}


def allreduce_sum(values: np.ndarray) -> np.ndarray:
    """The element-wise sum over every rank of a float32 vector (every rank must call it, in the same
    order); a collective failure is a DistributedError (exit 75)."""
    import mindspore as ms
    from mindspore import nn, ops

    class Sum(nn.Cell):
        def __init__(self) -> None:
            super().__init__()
            self.allreduce = ops.AllReduce(ops.ReduceOp.SUM)

        def construct(self, x: Any) -> Any:
            return self.allreduce(x)

    cell = _SUM_CELLS.setdefault("sum", Sum())
    try:
        return np.asarray(cell(ms.Tensor(np.ascontiguousarray(values, dtype=np.float32))).asnumpy())
    except RuntimeError as exc:
        raise DistributedError(f"collective communication failed (all-reduce): {first_line(exc)}") from None


def average_moving_statistics(net: Any, group_size: int) -> int:
    """Replace every BatchNorm moving mean and variance by its mean over the ranks, so that every rank
    holds (and checkpoints, and evaluates with) the same network. Data parallelism keeps the trainable
    weights identical through the mean gradients, but each rank's statistics follow its own images.
    Returns how many values were averaged; one all-reduce of them all."""
    import mindspore as ms

    params = [p for p in net.get_parameters() if p.name.endswith(MOVING_STATISTICS)]
    if group_size <= 1 or not params:
        return 0
    flat = np.concatenate([p.asnumpy().astype(np.float32).ravel() for p in params])
    mean = allreduce_sum(flat) / np.float32(group_size)
    offset = 0
    for param in params:
        size = int(np.prod(param.shape))
        value = mean[offset : offset + size].reshape(param.shape)
        param.set_data(ms.Tensor(value, param.dtype))
        offset += size
    return offset


def end_of_epoch(net: Any | None, avg_loss: float, group_size: int) -> float:
    """After a distributed epoch: average the BatchNorm moving statistics of `net` (None: the frozen path,
    whose statistics do not move) and return the mean of the ranks' epoch losses, i.e. the loss over every
    rank's images, what one process would report."""
    if group_size <= 1:
        return avg_loss
    if net is not None:
        average_moving_statistics(net, group_size)
    return float(allreduce_sum(np.array([avg_loss], dtype=np.float32))[0] / group_size)


def sum_over_ranks(counts: np.ndarray, group_size: int) -> np.ndarray:
    """Integer counts (a confusion matrix) summed over the ranks; exact below 2**24 a cell."""
    if group_size <= 1:
        return counts
    total = allreduce_sum(counts.astype(np.float32).ravel())
    return np.rint(total).astype(np.int64).reshape(counts.shape)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's text that says something: MindSpore frames its messages with
    `----` rules and `- Section:` headings."""
    for line in str(exc).splitlines():
        text = line.strip()
        if any(c.isalnum() for c in text) and not (text.startswith("- ") and text.endswith(":")):
            return text
    return type(exc).__name__


def step_failure(exc: BaseException, env: Mapping[str, str] | None = None) -> TrainerError:
    """What a RuntimeError from a training step means: in a distributed job it is the gradients'
    collective communication failing (a peer died or the cluster broke: exit 75), else a one-line
    trainer error."""
    env = os.environ if env is None else env
    if detect_mode(env) in ("dynamicCluster", "rankTable"):
        return DistributedError(f"collective communication failed during a training step: {first_line(exc)}")
    return TrainerError(f"training step failed: {first_line(exc)}")
