"""Run a pod's processes together: prefixed output, first failure stops the rest, signals forwarded.

Each child runs in its own session (process group) so stopping it also stops anything it spawned,
and a Ctrl-C on a terminal reaches the children only once, through us. Being outside our process group,
a child would survive a SIGKILL of launch (a local kubelet kills the pod's group), so on Linux each child
asks the kernel to SIGKILL it when launch dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import IO

from mnft_contract.exit_codes import EX_TEMPFAIL as EX_TEMPFAIL  # the operator restarts the whole job
from mnft_contract.exit_codes import killed_by

POLL_S = 0.05
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass(frozen=True)
class Child:
    label: str  # "rank-0", "scheduler": output lines are prefixed "[<label>] "
    argv: Sequence[str]
    env: Mapping[str, str]
    # Infrastructure (the cluster's scheduler): its failure is transient, launch exits EX_TEMPFAIL.
    infrastructure: bool = False
    # Output lines for which this returns True are not relayed.
    drop: Callable[[str], bool] | None = None


@dataclass(frozen=True)
class Outcome:
    code: int  # what launch exits with
    failed: str | None  # label of the first child that failed, if any
    signal: int | None  # the signal launch received and forwarded, if any


def _die_with(parent: int) -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None

    def set_parent_death_signal() -> None:  # runs in the child between fork and exec
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))
        if os.getppid() != parent:  # launch died before prctl took effect
            os._exit(killed_by(int(signal.SIGKILL)))

    return set_parent_death_signal


def exit_code(returncode: int) -> int:
    """Popen's returncode as a shell reports it: a child killed by signal N gives 128+N."""
    return killed_by(-returncode) if returncode < 0 else returncode


def _pump(
    stream: IO[bytes],
    prefix: str,
    out: IO[str],
    lock: threading.Lock,
    drop: Callable[[str], bool] | None = None,
) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if drop is not None and drop(line):
            continue
        with lock:
            try:
                out.write(f"{prefix}{line}\n")
                out.flush()
            except (BrokenPipeError, ValueError):
                pass
    stream.close()


def _signal_group(proc: subprocess.Popen[bytes], signum: int) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signum)


def _stop(procs: Sequence[subprocess.Popen[bytes]], signum: int, grace_s: float) -> None:
    """`signum` to every running child, SIGKILL to those still running after `grace_s`."""
    for proc in procs:
        _signal_group(proc, signum)
    deadline = time.monotonic() + grace_s
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        time.sleep(POLL_S)
    for proc in procs:
        _signal_group(proc, signal.SIGKILL)
        proc.wait()


def supervise(children: Sequence[Child], grace_s: float = 10.0, out: IO[str] | None = None) -> Outcome:
    """Start every child and wait. All succeed -> 0. The first that fails -> the others get SIGTERM (then
    SIGKILL after `grace_s`) and its exit code is returned (EX_TEMPFAIL for an `infrastructure` child).
    SIGTERM/SIGINT to us are forwarded the same way and give 128+signal."""
    out = sys.stdout if out is None else out
    lock = threading.Lock()
    received: list[int] = []
    previous: dict[int, object] = {}
    if threading.current_thread() is threading.main_thread():

        def on_signal(signum: int, frame: FrameType | None) -> None:
            received.append(signum)

        for forwarded in (signal.SIGTERM, signal.SIGINT):
            previous[forwarded] = signal.signal(forwarded, on_signal)

    procs: list[subprocess.Popen[bytes]] = []
    pumps: list[threading.Thread] = []
    try:
        for child in children:
            proc = subprocess.Popen(
                list(child.argv),
                env=dict(child.env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with(os.getpid()),
            )
            procs.append(proc)
            assert proc.stdout is not None
            pump = threading.Thread(
                target=_pump, args=(proc.stdout, f"[{child.label}] ", out, lock, child.drop), daemon=True
            )
            pump.start()
            pumps.append(pump)
        outcome = _wait(children, procs, received, grace_s, out, lock)
    finally:
        # Whatever happened above (even an exception), no child outlives us.
        _stop(procs, signal.SIGTERM, grace_s)
        for restored, handler in previous.items():
            signal.signal(restored, handler)  # type: ignore[arg-type]
    for pump in pumps:
        pump.join(timeout=5.0)
    return outcome


def _wait(
    children: Sequence[Child],
    procs: Sequence[subprocess.Popen[bytes]],
    received: list[int],
    grace_s: float,
    out: IO[str],
    lock: threading.Lock,
) -> Outcome:
    def say(message: str) -> None:
        with lock:
            out.write(f"launch: {message}\n")
            out.flush()

    while True:
        if received:
            signum = received[0]
            say(f"received {signal.Signals(signum).name}, stopping {len(procs)} process(es)")
            _stop(procs, signum, grace_s)
            return Outcome(killed_by(signum), None, signum)
        codes = [p.poll() for p in procs]
        for child, code in zip(children, codes, strict=True):
            if code is not None and code != 0:
                running = sum(c is None for c in codes)
                say(f"{child.label} exited with code {exit_code(code)}, stopping {running} other process(es)")
                _stop(procs, signal.SIGTERM, grace_s)
                return Outcome(EX_TEMPFAIL if child.infrastructure else exit_code(code), child.label, None)
        if all(code == 0 for code in codes):
            return Outcome(0, None, None)
        time.sleep(POLL_S)
