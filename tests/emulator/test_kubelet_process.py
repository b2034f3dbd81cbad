"""Container processes as process groups: real processes, no API."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path

import pytest

from kube_emulator.kubelet.pod_process import ContainerProcess, StartError, resolve_command

ENV = {"PATH": os.environ["PATH"]}


async def test_exit_code_and_log(tmp_path: Path) -> None:
    proc = ContainerProcess()
    log = tmp_path / "c.log"
    await proc.start(["sh", "-c", "echo out; echo err >&2; exit 4"], ENV, tmp_path / "cwd", log)
    status = await proc.wait()
    assert (status.exit_code, status.signal, status.oom_killed) == (4, None, False)
    assert log.read_text() == "out\nerr\n"
    assert (tmp_path / "cwd").is_dir()


async def test_leftover_group_members_die_with_the_main_process(tmp_path: Path) -> None:
    proc = ContainerProcess()
    pid_file = tmp_path / "bg.pid"
    await proc.start(["sh", "-c", f"sleep 300 & echo $! > {pid_file}"], ENV, tmp_path, tmp_path / "log")
    status = await proc.wait()
    assert status.exit_code == 0
    background = int(pid_file.read_text())
    for _ in range(250):
        try:
            os.kill(background, 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.02)
    with pytest.raises(ProcessLookupError):
        os.kill(background, 0)


async def test_stop_sigterm_then_sigkill_after_grace(tmp_path: Path) -> None:
    proc = ContainerProcess()
    ready = tmp_path / "ready"
    await proc.start(
        ["sh", "-c", f"trap '' TERM; touch {ready}; while :; do sleep 0.05; done"],
        ENV,
        tmp_path,
        tmp_path / "log",
    )
    while not ready.exists():
        await asyncio.sleep(0.02)
    waiter = asyncio.create_task(proc.wait())
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await proc.stop(0.5)
    status = await waiter
    assert loop.time() - t0 >= 0.5
    assert (status.exit_code, status.signal) == (128 + signal.SIGKILL, signal.SIGKILL)
    assert status.oom_killed is False
    assert proc.pid is not None
    for _ in range(250):  # SIGKILL is delivered asynchronously; the group empties within moments
        if subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True).stdout == b"":
            break
        await asyncio.sleep(0.02)
    assert subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True).stdout == b""


def test_resolve_command(tmp_path: Path) -> None:
    assert (
        resolve_command(["sh"], os.environ["PATH"], tmp_path)
        == subprocess.run(["sh", "-c", "command -v sh"], capture_output=True, text=True).stdout.strip()
    )
    with pytest.raises(StartError, match='exec: "nope-xyz": executable file not found in \\$PATH') as info:
        resolve_command(["nope-xyz"], os.environ["PATH"], tmp_path)
    assert info.value.exit_code == 127
    (tmp_path / "plain").write_text("x")
    with pytest.raises(StartError, match="permission denied") as info:
        resolve_command(["./plain"], "", tmp_path)
    assert info.value.exit_code == 126
    with pytest.raises(StartError, match="has no command"):
        resolve_command([], "", tmp_path)


def test_kubelet_start_fails_with_one_line_when_the_api_is_down(tmp_path: Path) -> None:
    import socket

    from kube_emulator.kubelet.kubelet import LocalKubelet

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    kubelet = LocalKubelet(f"http://127.0.0.1:{port}", tmp_path / "state", tmp_path / "logs")
    with pytest.raises(RuntimeError) as info:
        kubelet.start()
    message = str(info.value)
    assert message.startswith(f"local kubelet: cannot start against http://127.0.0.1:{port}: ")
    assert "\n" not in message
    kubelet.stop()  # idempotent after a failed start
