"""The supervisor `mnft launch` runs its processes under, with tiny `python -c` children."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from mnft_trainer.pod.supervise import Child, Outcome, exit_code, supervise

ENV = dict(os.environ, PYTHONUNBUFFERED="1")


def child(label: str, code: str) -> Child:
    return Child(label, [sys.executable, "-c", code], ENV)


def pid_alive(pid: int) -> bool:
    """Running, not merely an unreaped zombie (an orphan's reaper may be slow inside a container)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_exit_code_of_a_signalled_child_is_128_plus_signal():
    assert exit_code(-9) == 137
    assert exit_code(-15) == 143
    assert exit_code(3) == 3


def test_all_succeed_and_every_line_is_prefixed():
    out = io.StringIO()
    outcome = supervise(
        [
            child("rank-0", "print('a'); print('b')"),
            child("rank-1", "import sys; print('c', file=sys.stderr)"),
        ],
        out=out,
    )
    assert outcome == Outcome(0, None, None)
    lines = out.getvalue().splitlines()
    assert sorted(lines) == ["[rank-0] a", "[rank-0] b", "[rank-1] c"]
    assert lines.index("[rank-0] a") < lines.index("[rank-0] b")


def _after_file(path: Path, code: str) -> str:
    """A child that waits for `path` (its sibling is up: a handshake, not a sleep), then runs `code`."""
    return f"import pathlib, time\nwhile not pathlib.Path({str(path)!r}).exists(): time.sleep(0.01)\n{code}"


def test_a_failing_child_stops_its_siblings_and_gives_its_code(tmp_path):
    pid_file = tmp_path / "sibling.pid"
    sibling = (
        f"import os, time, pathlib; pathlib.Path({str(pid_file)!r} + '.tmp').write_text(str(os.getpid())); "
        f"os.rename({str(pid_file)!r} + '.tmp', {str(pid_file)!r}); print('up', flush=True); time.sleep(600)"
    )
    failing = _after_file(pid_file, "import sys; print('boom', flush=True); sys.exit(3)")
    out = io.StringIO()
    outcome = supervise([child("rank-0", sibling), child("rank-1", failing)], grace_s=5, out=out)
    assert outcome == Outcome(3, "rank-1", None)
    # The sibling would sleep 600 s: supervise returning with it dead means it was stopped.
    assert not pid_alive(int(pid_file.read_text()))
    lines = out.getvalue().splitlines()
    assert "[rank-1] boom" in lines
    assert "launch: rank-1 exited with code 3, stopping 1 other process(es)" in lines


def test_a_sibling_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path):
    pid_file = tmp_path / "stubborn.pid"
    stubborn = (
        "import os, signal, time, pathlib; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"pathlib.Path({str(pid_file)!r} + '.tmp').write_text(str(os.getpid())); "
        f"os.rename({str(pid_file)!r} + '.tmp', {str(pid_file)!r}); time.sleep(600)"
    )
    failing = _after_file(pid_file, "import sys; sys.exit(1)")
    outcome = supervise([child("rank-0", stubborn), child("rank-1", failing)], grace_s=0.5, out=io.StringIO())
    assert outcome == Outcome(1, "rank-1", None)
    assert not pid_alive(int(pid_file.read_text()))  # SIGTERM was ignored: only SIGKILL ends it


def test_a_child_killed_by_a_signal_gives_128_plus_signal():
    killed = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    outcome = supervise([child("rank-0", killed)], out=io.StringIO())
    assert outcome == Outcome(137, "rank-0", None)


SUPERVISOR_SCRIPT = """
import os, sys
from mnft_trainer.pod.supervise import Child, supervise
code = "import os, time, pathlib; pathlib.Path(sys.argv[1]).write_text(str(os.getpid())); time.sleep(120)"
env = dict(os.environ)
children = [Child(f"rank-{r}", [sys.executable, "-c", "import sys; " + code, sys.argv[1] + str(r)], env)
            for r in range(2)]
outcome = supervise(children, grace_s=5)
sys.exit(outcome.code)
"""


def test_sigterm_to_launch_is_forwarded_and_gives_143(tmp_path: Path):
    prefix = str(tmp_path / "pid")
    proc = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR_SCRIPT, prefix], stdout=subprocess.PIPE, text=True
    )
    pid_files = [Path(prefix + "0"), Path(prefix + "1")]
    while not all(p.exists() and p.read_text() for p in pid_files):  # the children's handshake
        assert proc.poll() is None, "launch ended before its children started"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 143
    assert "launch: received SIGTERM, stopping 2 process(es)" in out
    for pid_file in pid_files:
        assert not pid_alive(int(pid_file.read_text()))


def test_children_die_with_a_sigkilled_launch(tmp_path: Path):
    prefix = str(tmp_path / "pid")
    proc = subprocess.Popen([sys.executable, "-c", SUPERVISOR_SCRIPT, prefix], stdout=subprocess.DEVNULL)
    pid_files = [Path(prefix + "0"), Path(prefix + "1")]
    while not all(p.exists() and p.read_text() for p in pid_files):  # the children's handshake
        assert proc.poll() is None, "launch ended before its children started"
        time.sleep(0.05)
    pids = [int(p.read_text()) for p in pid_files]
    proc.kill()
    proc.wait(timeout=10)
    while any(
        pid_alive(pid) for pid in pids
    ):  # they die of their parent-death signal (pytest's timeout bounds it)
        time.sleep(0.05)
