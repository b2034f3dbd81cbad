"""`mnft local FILE.yaml`: run a MobileNetFineTune on this machine through the real operator.

The embedded API, the local kubelet and the operator run in this process (each in its own thread);
the pods run as local process groups. Every rank's output is streamed as `[worker-i/rank-r] line`.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from kubernetes.client import ApiException

from mnft_local.local_cluster import ApiRejected, LocalCluster
from mnft_local.local_logs import LogFollower
from mnft_local.local_manifest import (
    ManifestError,
    check_mount_dirs,
    load_resource,
    parse_mounts,
    unmounted_claims,
    validate_spec,
)
from mnft_local.local_status import (
    FINISHED_PHASES,
    OUTPUT_FILES,
    final_summary,
    output_dir,
    output_lines,
    phase_change,
    phase_of,
)

POLL_SECONDS = 0.25
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 124
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mnft local",
        description="Run a MobileNetFineTune on this machine: embedded Kubernetes API, local kubelet and "
        "the real operator; no cluster needed.",
    )
    parser.add_argument("file", type=Path, help="the MobileNetFineTune YAML you would `kubectl apply`")
    parser.add_argument(
        "--mount",
        action="append",
        default=[],
        metavar="VOLUME=DIR",
        help="serve a pod volume (by volume name or PVC claim name) from a host directory; repeatable",
    )
    parser.add_argument(
        "--keep-api", action="store_true", help="after the job, keep the API up for kubectl until Ctrl-C"
    )
    parser.add_argument(
        "--state-dir", type=Path, help="keep pod logs and state here (default: a temporary directory)"
    )
    parser.add_argument("--timeout", type=float, help="give up after this many seconds")
    parser.add_argument(
        "--simulate-ascend-devices",
        action="store_true",
        help="the local kubelet annotates pods as the Ascend device plugin would (no NPU needed)",
    )
    return parser


def say(line: str) -> None:
    print(f"[mnft local] {line}", flush=True)


class JobGone(RuntimeError):
    """The resource disappeared while we waited (deleted by hand or by ttlSecondsAfterFinished)."""


class OperatorStopped(RuntimeError):
    """The operator's thread ended while the job was still running."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C (everything stopped) but exiting 128 + SIGTERM."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def wait_for_job(
    cluster: Any,
    name: str,
    follower: LogFollower,
    timeout: float | None,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any] | None:
    """Stream logs and phase changes until the job finishes; its final status, or None on timeout."""
    deadline = None if timeout is None else clock() + timeout
    last: dict[str, Any] | None = None
    while True:
        follower.poll()
        try:
            status = dict(cluster.get_job(name).get("status") or {})
        except ApiException as exc:
            if exc.status != 404:
                raise
            follower.poll(final=True)
            raise JobGone(f"{name} was deleted before it finished (last {phase_of(last)})") from None
        change = phase_change(last, status)
        if change is not None:
            say(change)
        last = status
        if phase_of(status) in FINISHED_PHASES:
            # Pods report their exit before the last lines are read: give the kubelet a moment to flush.
            time.sleep(POLL_SECONDS * 2)
            follower.poll(final=True)
            return status
        if not cluster.operator_alive:
            raise OperatorStopped("the operator stopped unexpectedly; its log: operator.log in the state dir")
        if deadline is not None and clock() > deadline:
            follower.poll(final=True)
            return None
        time.sleep(POLL_SECONDS)


def _wait_forever() -> None:
    while True:
        time.sleep(3600)


def _log_operator_to(path: Path) -> None:
    """The operator's and kopf's log go to a file; only errors reach the terminal."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    to_file = logging.FileHandler(path)
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    to_terminal = logging.StreamHandler(sys.stderr)
    to_terminal.setLevel(logging.ERROR)
    to_terminal.setFormatter(logging.Formatter("[mnft local] %(name)s: %(message)s"))
    root.addHandler(to_file)
    root.addHandler(to_terminal)


def run(args: argparse.Namespace) -> int:
    cwd = Path.cwd()
    try:
        job = load_resource(args.file)
        validate_spec(job, args.file)
        mounts = parse_mounts(args.mount, cwd)
        check_mount_dirs(mounts)
    except ManifestError as exc:
        print(f"mnft local: error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    name, namespace = job["metadata"]["name"], job["metadata"]["namespace"]
    temporary = args.state_dir is None
    state_dir = Path(tempfile.mkdtemp(prefix="mnft-local-")) if temporary else args.state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    _log_operator_to(state_dir / "operator.log")
    cluster = LocalCluster(
        state_dir=state_dir,
        namespace=namespace,
        mounts=mounts,
        simulate_ascend_devices=args.simulate_ascend_devices,
    )
    follower = LogFollower(cluster.log_dir, namespace, name, emit=lambda line: print(line, flush=True))
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    # Ctrl-C must stop us even when we were started with SIGINT ignored (a background job of a script,
    # some CI runners): Python then keeps it ignored, and Ctrl-C or `kill -INT` would never end the run.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    code = EXIT_INTERRUPTED
    job_finished = False
    try:
        say(f"starting the embedded API, the local kubelet and the operator (state in {state_dir})")
        for claim in unmounted_claims(job, mounts):
            say(
                f"note: claim {claim} has no --mount {claim}=DIR; it gets an empty directory in the state dir"
            )
        cluster.start()
        cluster.create_job(job)
        say(f"created {namespace}/{name}; streaming its logs")
        status = wait_for_job(cluster, name, follower, args.timeout)
        if status is None:
            say(f"timed out after {args.timeout:g} s; stopping")
            code = EXIT_TIMEOUT
        else:
            for line in final_summary(name, status):
                say(line)
            if phase_of(status) == "Succeeded":
                directory = output_dir(job, mounts)
                present = [f for f in OUTPUT_FILES if directory and (Path(directory) / f).is_file()]
                for line in output_lines(directory, present):
                    say(line)
            code = 0 if phase_of(status) == "Succeeded" else EXIT_FAILED
        job_finished = True
        if args.keep_api:
            kubeconfig = cluster.kubeconfig  # written at start, holds the API's token
            say(f"the API stays up at {cluster.url}; kubeconfig: {kubeconfig}")
            say(f"try: kubectl --kubeconfig {kubeconfig} get mft -n {namespace}")
            say("press Ctrl-C to stop")
            _wait_forever()
    except KeyboardInterrupt as exc:
        if not job_finished:  # with --keep-api, Ctrl-C after the job keeps the job's exit code
            code = EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
        say("interrupted; stopping the operator, the pods and the API")
    except ApiRejected as exc:
        print(f"mnft local: error: {exc}", file=sys.stderr)
        code = EXIT_USAGE
    except Exception as exc:  # the API, kubelet or operator could not start: one line, not a traceback
        print(f"mnft local: error: {type(exc).__name__}: {exc} (logs kept in {state_dir})", file=sys.stderr)
        code = EXIT_FAILED
        temporary = False
    finally:
        # A second Ctrl-C or SIGTERM during the shutdown must not leave pods behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            cluster.stop()
        finally:
            signal.signal(signal.SIGINT, previous_int)
            signal.signal(signal.SIGTERM, previous)
            if temporary:
                shutil.rmtree(state_dir, ignore_errors=True)
    return code


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    return run(args)
