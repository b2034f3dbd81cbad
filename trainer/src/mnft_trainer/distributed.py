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

from mnft_trainer import rank_table
from mnft_trainer.errors import TrainerError
from mnft_trainer.supervise import EX_TEMPFAIL

PLATFORMS = ("CPU", "GPU", "Ascend")


class DistributedError(TrainerError):
    """The cluster did not form (init failed, rank table never completed) or a collective failed; one
    line for the user. The trainer exits `exit_code`, 75: restarting the whole job may succeed."""

    exit_code = EX_TEMPFAIL


class DistributedConfigError(DistributedError):
    """A distributed variable is malformed: restarting would fail the same way (exit code 1)."""

    exit_code = 1


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
    if env.get("MS_ROLE") == "MS_WORKER" and _int(env, "MS_WORKER_NUM", 1) > 1:
        return "dynamicCluster"
    if env.get("MS_ROLE") == "MS_SCHED":
        # msrun starts the training script itself as the scheduler; `mnft launch` uses a bare one.
        return "scheduler"
    if env.get("RANK_TABLE_FILE") and _int(env, "RANK_SIZE", 1) > 1:
        return "rankTable"
    return None


def device_id_for(platform: str, env: Mapping[str, str]) -> int | None:
    """The device this process drives: None on CPU, else DEVICE_ID (launch sets it), default 0."""
    return None if platform == "CPU" else _int(env, "DEVICE_ID", 0)


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
                env["RANK_TABLE_FILE"],
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
