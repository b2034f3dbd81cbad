"""One container as one local process group: start it, wait for it, stop it like a container runtime.

The process is a session leader (its own process group), so SIGTERM/SIGKILL reach everything it started;
when the main process exits, the rest of its group is killed, as when a container's PID 1 exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

_OOM_COUNTERS = (
    Path("/sys/fs/cgroup/memory.events"),  # cgroup v2: "oom_kill N"
    Path("/sys/fs/cgroup/memory/memory.oom_control"),  # cgroup v1 (newer kernels): "oom_kill N"
)


class StartError(Exception):
    """The command could not be started; `exit_code` is 127 (not found) or 126 (not executable)."""

    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message


@dataclass(frozen=True)
class ExitStatus:
    exit_code: int  # 128 + signal when killed by a signal, as a container runtime reports it
    signal: int | None
    oom_killed: bool
    started_at: datetime
    finished_at: datetime


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def oom_kill_count(counters: Sequence[Path] = _OOM_COUNTERS) -> int | None:
    """The OOM killer's kill count for our cgroup, None when the kernel does not tell."""
    for path in counters:
        try:
            for line in path.read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            continue
    return None


def resolve_command(argv: Sequence[str], path_var: str, cwd: Path) -> str:
    """The executable for argv[0], looked up in `path_var` like execvp; raises StartError."""
    if not argv:
        raise StartError(127, "container has no command: local mode runs command+args (there is no image)")
    exe = argv[0]
    if "/" in exe:
        candidate = Path(exe) if exe.startswith("/") else cwd / exe
        if not candidate.exists():
            raise StartError(127, f'exec: "{exe}": no such file or directory')
        if not os.access(candidate, os.X_OK) or candidate.is_dir():
            raise StartError(126, f'exec: "{exe}": permission denied')
        return str(candidate)
    found = shutil.which(exe, path=path_var)
    if found is None:
        raise StartError(127, f'exec: "{exe}": executable file not found in $PATH')
    return found


class ContainerProcess:
    def __init__(self) -> None:
        self._proc: asyncio.subprocess.Process | None = None
        self._started_at = now_utc()
        self._oom_before: int | None = None
        self._killed_by_us = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    @property
    def started_at(self) -> datetime:
        return self._started_at

    async def start(self, argv: Sequence[str], env: Mapping[str, str], cwd: Path, log_path: Path) -> int:
        cwd.mkdir(parents=True, exist_ok=True)
        exe = resolve_command(argv, env.get("PATH", os.defpath), cwd)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._oom_before = oom_kill_count()
        with open(log_path, "ab") as log:
            try:
                self._proc = await asyncio.create_subprocess_exec(
                    exe,
                    *argv[1:],
                    env=dict(env),
                    cwd=str(cwd),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log,
                    stderr=asyncio.subprocess.STDOUT,
                    start_new_session=True,
                )
            except PermissionError as exc:
                raise StartError(126, f'exec: "{argv[0]}": permission denied') from exc
            except OSError as exc:
                raise StartError(127, f'exec: "{argv[0]}": {exc.strerror or exc}') from exc
        self._started_at = now_utc()
        return self._proc.pid

    async def wait(self) -> ExitStatus:
        assert self._proc is not None, "wait() before start()"
        code = await self._proc.wait()
        finished = now_utc()
        self._kill_group(signal.SIGKILL)  # what PID 1 leaves behind dies with the container
        sig = -code if code < 0 else None
        oom = False
        if sig == signal.SIGKILL and not self._killed_by_us and self._oom_before is not None:
            after = oom_kill_count()
            oom = after is not None and after > self._oom_before
        exit_code = 128 + sig if sig is not None else code
        return ExitStatus(exit_code, sig, oom, self._started_at, finished)

    async def stop(self, grace_seconds: float) -> None:
        """SIGTERM the process group, SIGKILL it after `grace_seconds` if the main process still runs."""
        if self._proc is None:
            return
        self._killed_by_us = True
        if self._proc.returncode is None:
            self._kill_group(signal.SIGTERM)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._proc.wait()), timeout=max(grace_seconds, 0))
        self._kill_group(signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            await self._proc.wait()

    def _kill_group(self, sig: int) -> None:
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, sig)
