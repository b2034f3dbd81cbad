"""`mnft launch [--dry-run] <train|eval> ARGS...`: the pod entrypoint, one training process per device.

The environment the operator renders (docs/architecture.md) decides the processes:

- dynamic cluster (CPU, GPU, Ascend): node rank 0 also runs MindSpore's scheduler (`MS_ROLE=MS_SCHED`);
  every training process gets `MS_ROLE=MS_WORKER`, `MS_NODE_ID` = its global rank and the variables
  MindSpore's own launcher `msrun` sets (`RANK_ID`, `RANK_SIZE`, `MS_TOPO_TIMEOUT`, `DEVICE_ID` = its
  local rank) plus `LOCAL_RANK`.
- rank table (Ascend): wait until hccl.json is `completed`, then one process per device of
  `server_list[MNFT_WORKER_INDEX]` with its `RANK_ID`.
- Ascend `DEVICE_ID` is the container's logical device number, 0..N-1, never the table's physical
  `device_id` (docs/architecture.md, "Ascend device ids").

Planning is pure (`plan_processes`); `main` resolves the scheduler's address, supervises the children,
prefixes their output with `[rank-<r>] ` and writes the pod's one termination message.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mnft_contract import env as E
from mnft_contract import termination
from mnft_contract.exit_codes import ERROR, EX_TEMPFAIL, OK, USAGE_ERROR
from mnft_trainer.pod import rank_table
from mnft_trainer.pod.supervise import Child, Outcome, supervise

DEFAULT_SCHED_PORT = 8118
# msrun's --cluster_time_out default: how long the processes wait for the cluster to form.
DEFAULT_TOPO_TIMEOUT_S = 600
DEFAULT_GRACE_S = 10.0
COMMANDS = ("train", "eval")
USAGE = "usage: mnft launch [--dry-run] <train|eval> ARGS..."
# The scheduler runs only MindSpore's meta server: init() serves the cluster and exits the process when
# every worker has unregistered, so it never returns into the rest of this snippet.
SCHEDULER_CODE = (
    "import sys, mindspore as ms; from mindspore.communication import init; "
    "ms.set_device(sys.argv[1]); init()"
)


# MindSpore's C++ log line: `[INFO] DISTRIBUTED(pid,tid,python):time [file:line] function] message`.
_MS_LOG_LINE = re.compile(r"^\[(DEBUG|INFO)\] [A-Z_]+\(\d+,\w+,")
_MS_LEVELS = ("DEBUG", "INFO")  # MindSpore's log levels 0 and 1 (GLOG_v counts the same way)


def drops_mindspore_info(glog_v: str) -> Callable[[str], bool]:
    """Which child output lines to drop: MindSpore's DEBUG/INFO lines below the GLOG_v level.

    GLOG_v alone does not silence them all: the TCP client and server of the dynamic cluster log `Event
    base dispatch success!` with MSLOG_IF(INFO, ret == 0, ...), a macro that tests only its condition and
    never the level (mindspore/core/include/utils/log_adapter.h; MS_LOG(level) is MSLOG_IF with the level
    test as condition), so every rank printed them at GLOG_v=3. Warnings and errors always pass."""
    try:
        level = int(glog_v)
    except ValueError:
        level = 2  # MindSpore's default, WARNING
    return lambda line: (m := _MS_LOG_LINE.match(line)) is not None and _MS_LEVELS.index(m.group(1)) < level


class LaunchError(Exception):
    """Bad environment or rank table; the message is one line naming the variable or file."""

    exit_code = ERROR


class ClusterFormationError(LaunchError):
    """The cluster did not form in time (rank table never completed, scheduler name never resolved):
    transient, launch exits EX_TEMPFAIL so the operator restarts the job."""

    exit_code = EX_TEMPFAIL


@dataclass(frozen=True)
class ProcessSpec:
    rank: int | None  # global rank; None for the scheduler
    env: dict[str, str] = field(default_factory=dict)  # only the variables launch sets

    @property
    def label(self) -> str:
        return "scheduler" if self.rank is None else f"rank-{self.rank}"


def _int_env(env: Mapping[str, str], name: str, default: int | None = None, minimum: int = 0) -> int:
    raw = env.get(name, "")
    if raw == "":
        if default is None:
            raise LaunchError(
                f"environment variable {name} is not set; the operator renders it for every pod"
            )
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise LaunchError(f"environment variable {name}={raw!r} must be an integer >= {minimum}")
    return value


def comm_mode(env: Mapping[str, str]) -> str:
    """`rankTable`, `dynamicCluster` or `single` (no distributed variables at all)."""
    mode = env.get(E.MNFT_COMM_MODE, "")
    if mode in (E.RANK_TABLE, E.DYNAMIC_CLUSTER):
        return mode
    if mode:
        raise LaunchError(f"MNFT_COMM_MODE={mode!r} must be dynamicCluster or rankTable")
    if env.get(E.RANK_TABLE_FILE):
        return E.RANK_TABLE
    if env.get(E.MS_SCHED_HOST) or env.get(E.MS_WORKER_NUM):
        return E.DYNAMIC_CLUSTER
    if _int_env(env, E.MNFT_DEVICES_PER_WORKER, 1, minimum=1) > 1:
        return E.DYNAMIC_CLUSTER
    return "single"


def _gpu_env(env: Mapping[str, str], local: int) -> dict[str, str]:
    """One visible GPU per process: the local-th of those the container was given."""
    visible = [d.strip() for d in env.get(E.CUDA_VISIBLE_DEVICES, "").split(",") if d.strip()]
    if visible and local >= len(visible):
        raise LaunchError(
            f"CUDA_VISIBLE_DEVICES={env['CUDA_VISIBLE_DEVICES']!r} lists {len(visible)} GPUs but this pod "
            f"runs {local + 1} or more processes; request as many GPUs as devicesPerWorker"
        )
    return {E.CUDA_VISIBLE_DEVICES: visible[local] if visible else str(local), E.DEVICE_ID: "0"}


def _visible_ascend_count(raw: str) -> int:
    """Chips in ASCEND_VISIBLE_DEVICES as ascend-docker-runtime parses it: `0,1`, `0-3` or
    `Ascend910-0,Ascend910-1`."""
    count = 0
    for item in (part.strip() for part in raw.split(",")):
        if re.fullmatch(r"\d+-\d+", item):
            first, last = (int(x) for x in item.split("-"))
            count += max(0, last - first + 1)
        elif item:
            count += 1
    return count


def _ascend_env(env: Mapping[str, str], local: int, local_num: int) -> dict[str, str]:
    """The local-th chip of the container: ACL numbers the chips a container sees 0..N-1 (logical ids) in
    ascending physical order, whatever their /dev/davinci<N> numbers are."""
    raw = env.get(E.ASCEND_VISIBLE_DEVICES, "")
    if raw and _visible_ascend_count(raw) < local_num:
        raise LaunchError(
            f"ASCEND_VISIBLE_DEVICES={raw!r} lists {_visible_ascend_count(raw)} NPUs but this pod runs "
            f"{local_num} processes; request as many NPUs as devicesPerWorker"
        )
    return {E.DEVICE_ID: str(local), E.ASCEND_DEVICE_ID: str(local)}


def _device_env(platform: str, env: Mapping[str, str], local: int, local_num: int) -> dict[str, str]:
    if platform == "GPU":
        return _gpu_env(env, local)
    if platform == "Ascend":
        return _ascend_env(env, local, local_num)
    return {}


def topology_timeout(env: Mapping[str, str]) -> int:
    """MS_TOPO_TIMEOUT (seconds the cluster may take to form), from the pod's env or msrun's default."""
    return _int_env(env, E.MS_TOPO_TIMEOUT, DEFAULT_TOPO_TIMEOUT_S, minimum=1)


def _rank_env(rank: int, local: int, size: int) -> dict[str, str]:
    return {
        E.RANK_ID: str(rank),
        E.RANK_SIZE: str(size),
        E.LOCAL_RANK: str(local),
        E.MNFT_LOCAL_RANK: str(local),
    }


def plan_dynamic_cluster(
    env: Mapping[str, str], platform: str, free_port: Callable[[], int] | None = None
) -> list[ProcessSpec]:
    local_num = _int_env(env, E.MNFT_LOCAL_WORKER_NUM, _int_env(env, E.MNFT_DEVICES_PER_WORKER, 1, 1), 1)
    node_rank = _int_env(env, E.MNFT_NODE_RANK, _int_env(env, E.MNFT_WORKER_INDEX, 0))
    workers = _int_env(env, E.MNFT_WORKERS, 1, minimum=1)
    world = _int_env(env, E.MS_WORKER_NUM, workers * local_num, minimum=1)
    if env.get(E.MNFT_WORKERS) and env.get(E.MS_WORKER_NUM) and world != workers * local_num:
        raise LaunchError(
            f"MS_WORKER_NUM={world} but MNFT_WORKERS x MNFT_LOCAL_WORKER_NUM is {workers} x {local_num}; "
            "they must agree"
        )
    if (node_rank + 1) * local_num > world:
        raise LaunchError(
            f"MS_WORKER_NUM={world} is too small for node rank {node_rank} with {local_num} local processes; "
            "it must be workers x devicesPerWorker"
        )
    host = env.get(E.MS_SCHED_HOST, "")
    port_raw = env.get(E.MS_SCHED_PORT, "")
    if not host:
        if world > local_num:
            raise LaunchError(
                "MS_SCHED_HOST is not set; it must name worker 0 (<job>-worker-0.<job>.<ns>.svc)"
            )
        host = "127.0.0.1"  # one pod, several processes: the scheduler is local
        if not port_raw and free_port is not None:
            port_raw = str(free_port())
    port = _int_env({E.MS_SCHED_PORT: port_raw}, E.MS_SCHED_PORT, DEFAULT_SCHED_PORT, minimum=1)
    if port > 65535:
        raise LaunchError(f"MS_SCHED_PORT={port} is not a TCP port (1-65535)")
    cluster = {
        E.MS_SCHED_HOST: host,
        E.MS_SCHED_PORT: str(port),
        E.MS_WORKER_NUM: str(world),
        E.MS_TOPO_TIMEOUT: str(topology_timeout(env)),
    }
    specs = []
    if world > 1 and node_rank == 0:
        # msrun gives its scheduler RANK_ID 0 and the job's RANK_SIZE too.
        specs.append(
            ProcessSpec(
                None, {**cluster, E.MS_ROLE: E.ROLE_SCHEDULER, E.RANK_ID: "0", E.RANK_SIZE: str(world)}
            )
        )
    for local in range(local_num):
        rank = node_rank * local_num + local
        proc_env = _rank_env(rank, local, world)
        if world > 1:
            proc_env.update({**cluster, E.MS_ROLE: E.ROLE_WORKER, E.MS_NODE_ID: str(rank)})
        proc_env.update(_device_env(platform, env, local, local_num))
        specs.append(ProcessSpec(rank, proc_env))
    return specs


def plan_rank_table(env: Mapping[str, str], table: Mapping[str, Any]) -> list[ProcessSpec]:
    path = env.get(E.RANK_TABLE_FILE, "")
    index = _int_env(env, E.MNFT_WORKER_INDEX, 0)
    try:
        devices = rank_table.server_devices(table, index, path)
        total = rank_table.rank_size(table, path)
    except rank_table.RankTableError as exc:
        raise LaunchError(str(exc)) from None
    size = _int_env(env, E.RANK_SIZE, total, minimum=1)
    if size != total:
        raise LaunchError(f"RANK_SIZE={size} but rank table {path} lists {total} devices")
    per_worker = _int_env(env, E.MNFT_DEVICES_PER_WORKER, len(devices), minimum=1)
    if per_worker != len(devices):
        raise LaunchError(
            f"rank table {path} gives server_list[{index}] {len(devices)} devices "
            f"but MNFT_DEVICES_PER_WORKER is {per_worker}"
        )
    if len({d.device_id for d in devices}) != len(devices):
        raise LaunchError(f"rank table {path} lists a device_id twice in server_list[{index}]")
    # The table's device_id is the physical chip id; the process drives the chip through its logical id,
    # its position among the pod's chips in ascending physical order (how ACL numbers them).
    by_chip = sorted(devices, key=lambda d: d.device_id)
    return [
        ProcessSpec(
            d.rank_id,
            {
                E.RANK_TABLE_FILE: path,
                **_rank_env(d.rank_id, local, size),
                **_ascend_env(env, local, len(devices)),
            },
        )
        for local, d in enumerate(by_chip)
    ]


def plan_processes(
    env: Mapping[str, str],
    table: Mapping[str, Any] | None = None,
    free_port: Callable[[], int] | None = None,
) -> list[ProcessSpec]:
    """Every process this pod starts, scheduler first; `table` is the completed rank table (rankTable)."""
    platform = env.get(E.MNFT_PLATFORM, "CPU")
    if platform not in ("CPU", "GPU", "Ascend"):
        raise LaunchError(f"MNFT_PLATFORM={platform!r} must be CPU, GPU or Ascend")
    mode = comm_mode(env)
    if mode == E.RANK_TABLE:
        if not env.get(E.RANK_TABLE_FILE):
            raise LaunchError("MNFT_COMM_MODE is rankTable but RANK_TABLE_FILE is not set")
        if table is None:
            raise LaunchError("rank table mode needs the completed rank table")
        return plan_rank_table(env, table)
    if mode == E.DYNAMIC_CLUSTER:
        return plan_dynamic_cluster(env, platform, free_port)
    return [ProcessSpec(0, {**_rank_env(0, 0, 1), **_device_env(platform, env, 0, 1)})]


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def resolve_host(host: str, timeout_s: float = 300.0) -> str:
    """The scheduler's IP: MindSpore wants an address, and a headless Service's DNS name appears only
    after the pod exists, so retry until it resolves."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return str(socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_STREAM)[0][4][0])
        except OSError as exc:
            if time.monotonic() >= deadline:
                raise ClusterFormationError(
                    f"MS_SCHED_HOST {host!r} does not resolve after {timeout_s:g} s ({exc}); "
                    "check the job's headless Service"
                ) from None
            time.sleep(1.0)


def _fail(message: str, env: Mapping[str, str], code: int = ERROR) -> int:
    line = termination.error_line(message)
    print(line, file=sys.stderr, flush=True)
    termination.write_termination_message(line, env)
    return code


def pod_message(specs: Sequence[ProcessSpec], messages: Mapping[str, str], outcome: Outcome) -> str:
    """The pod's termination message from its processes' own (`messages` by label): the first failure's,
    else rank 0's result (the pod's lowest rank when rank 0 runs elsewhere)."""
    if outcome.code != 0 and outcome.failed is not None:
        said = messages.get(outcome.failed, "").strip()
        if said:
            return said
        # The child said nothing (killed by a signal, say): leave the pod status a reason.
        if outcome.failed == "scheduler":
            return termination.error_line(
                "the MindSpore scheduler failed before the workers finished (cluster formation)"
            )
        return termination.error_line(f"{outcome.failed} exited with code {outcome.code}")
    ranks = sorted(s.rank for s in specs if s.rank is not None)
    if outcome.code != 0 or not ranks:
        return ""
    return messages.get(f"rank-{ranks[0]}", "")


def _parse(argv: Sequence[str]) -> tuple[bool, str, list[str]] | None:
    args = list(argv)
    dry_run = False
    while args and args[0].startswith("-"):
        if args[0] == "--dry-run":
            dry_run = True
            args.pop(0)
        else:
            return None
    if not args or args[0] not in COMMANDS:
        return None
    return dry_run, args[0], args[1:]


def _plan_from_env(env: Mapping[str, str], dry_run: bool) -> list[ProcessSpec]:
    table = None
    if comm_mode(env) == E.RANK_TABLE and env.get(E.RANK_TABLE_FILE):
        path = env[E.RANK_TABLE_FILE]
        try:
            timeout_s = rank_table.timeout_from_env(env)
            table = rank_table.wait_until_completed(
                path, timeout_s, log=lambda m: print(f"launch: {m}", flush=True)
            )
        except rank_table.RankTableTimeout as exc:
            raise ClusterFormationError(str(exc)) from None
        except rank_table.RankTableError as exc:
            raise LaunchError(str(exc)) from None
    specs = plan_processes(env, table, free_port=free_tcp_port)
    if dry_run:
        return specs
    resolved: dict[str, str] = {}
    for spec in specs:
        host = spec.env.get(E.MS_SCHED_HOST)
        if host:
            if host not in resolved:
                resolved[host] = resolve_host(host, float(topology_timeout(env)))
            spec.env[E.MS_SCHED_HOST] = resolved[host]
    return specs


def main(argv: Sequence[str]) -> int:
    if list(argv[:1]) in (["-h"], ["--help"]):
        print(f"{USAGE}\n\nStarts one `mnft <train|eval> ARGS` process per device from the operator's env.")
        return OK
    parsed = _parse(argv)
    env = dict(os.environ)
    if parsed is None:
        print(
            f"{USAGE}\nerror: expected [--dry-run] then train or eval, got {' '.join(argv) or 'nothing'}",
            file=sys.stderr,
        )
        return USAGE_ERROR
    dry_run, command, args = parsed
    dry_run = dry_run or env.get(E.MNFT_LAUNCH_DRY_RUN, "") == "1"
    try:
        specs = _plan_from_env(env, dry_run)
        grace_s = float(env.get(E.MNFT_LAUNCH_GRACE_SECONDS, DEFAULT_GRACE_S))
    except LaunchError as exc:
        return _fail(str(exc), env, exc.exit_code)
    except ValueError:
        return _fail(f"{E.MNFT_LAUNCH_GRACE_SECONDS} must be a number of seconds", env)
    if dry_run:
        for spec in specs:
            line: dict[str, Any] = {"rank": spec.rank, "env": spec.env}
            if spec.rank is None:
                line["role"] = "scheduler"
            print(json.dumps(line, sort_keys=True), flush=True)
        return OK
    platform = env.get(E.MNFT_PLATFORM, "CPU")
    with tempfile.TemporaryDirectory(prefix="mnft-launch-") as message_dir:
        children, message_paths = [], {}
        for spec in specs:
            # Each process writes its own termination message here; the pod's is written once, below.
            message_paths[spec.label] = path = os.path.join(message_dir, f"{spec.label}.log")
            open(path, "w").close()
            child_env = {**env, **spec.env, E.PYTHONUNBUFFERED: "1", termination.PATH_ENV: path}
            # MindSpore's C++ warnings (dozens per rank while the cluster forms) would drown the progress
            # lines; errors still show. Set GLOG_v=2 in the pod's env to see them.
            child_env.setdefault(E.GLOG_v, "3")
            if spec.rank is None:
                argv_ = [sys.executable, "-c", SCHEDULER_CODE, platform]
            else:
                argv_ = [sys.executable, "-m", "mnft_trainer", command, *args]
            drop = drops_mindspore_info(child_env[E.GLOG_v])
            children.append(Child(spec.label, argv_, child_env, infrastructure=spec.rank is None, drop=drop))
        ranks = [s.rank for s in specs if s.rank is not None]
        print(
            f"launch: starting {len(ranks)} process(es), ranks {ranks}"
            + (" and the scheduler" if len(ranks) < len(specs) else ""),
            flush=True,
        )
        outcome = supervise(children, grace_s=grace_s)
        messages = {label: termination.read_termination_message(p) for label, p in message_paths.items()}
    message = pod_message(specs, messages, outcome)
    if message:
        termination.write_termination_message(message, env)
    return outcome.code
