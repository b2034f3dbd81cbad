"""Follow the trainer logs the local kubelet writes and re-prefix each line with its worker and rank.

`mnft launch` prefixes every line of its processes with `[rank-<r>] `; `mnft local` shows them as
`[worker-<i>/rank-<r>] `, so the ranks of every pod interleave readably on one terminal.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_RANK_PREFIX = re.compile(r"^\[(rank-\d+|scheduler)\] ?")
_HEAD_BYTES = 128
_WORKER_POD = re.compile(r"^(?P<job>.+)-worker-(?P<index>\d+)$")


def prefix_line(worker: int, line: str) -> str:
    """`[rank-3] epoch[1/2] ...` from worker 1 -> `[worker-1/rank-3] epoch[1/2] ...`.

    Launch's scheduler lines become `[worker-0/scheduler] ...`; lines without a label (launch's own
    messages) keep the worker only.
    """
    match = _RANK_PREFIX.match(line)
    if match is None:
        return f"[worker-{worker}] {line}"
    return f"[worker-{worker}/{match.group(1)}] {line[match.end() :]}"


def worker_index(job: str, pod_name: str) -> int | None:
    """The worker index of `<job>-worker-<i>`, None for any other pod."""
    match = _WORKER_POD.match(pod_name)
    if match is None or match.group("job") != job:
        return None
    return int(match.group("index"))


@dataclass
class _FileCursor:
    inode: int = -1
    offset: int = 0
    partial: bytes = b""
    head: bytes = b""


@dataclass
class LogFollower:
    """Polls `<log_dir>/<namespace>/<job>-worker-<i>/<container>.log` and emits new complete lines.

    A pod recreated under the same name (a whole-job restart) may truncate or replace its log file;
    the follower then starts that file again from the beginning.
    """

    log_dir: Path
    namespace: str
    job: str
    emit: Callable[[str], None]
    container: str = "trainer"
    _cursors: dict[Path, _FileCursor] = field(default_factory=dict)

    def _files(self) -> list[tuple[int, Path]]:
        root = self.log_dir / self.namespace
        if not root.is_dir():
            return []
        found = []
        for pod_dir in root.iterdir():
            index = worker_index(self.job, pod_dir.name)
            path = pod_dir / f"{self.container}.log"
            if index is not None and path.is_file():
                found.append((index, path))
        return sorted(found)

    def poll(self, final: bool = False) -> int:
        """Emit every complete line written since the last poll; `final` also flushes unterminated ones."""
        emitted = 0
        for index, path in self._files():
            cursor = self._cursors.setdefault(path, _FileCursor())
            try:
                with open(path, "rb") as handle:
                    stat = os.fstat(handle.fileno())
                    # Inodes are reused: a changed first line also means a new file.
                    head = handle.read(len(cursor.head))
                    if stat.st_ino != cursor.inode or stat.st_size < cursor.offset or head != cursor.head:
                        cursor.inode, cursor.offset, cursor.partial, cursor.head = stat.st_ino, 0, b"", b""
                    if stat.st_size == cursor.offset and not (final and cursor.partial):
                        continue
                    handle.seek(cursor.offset)
                    chunk = handle.read()
            except FileNotFoundError:
                continue
            if len(cursor.head) < _HEAD_BYTES:
                cursor.head = (cursor.head + chunk)[:_HEAD_BYTES]
            cursor.offset += len(chunk)
            data = cursor.partial + chunk
            *lines, cursor.partial = data.split(b"\n")
            if final and cursor.partial:
                lines.append(cursor.partial)
                cursor.partial = b""
            for raw in lines:
                self.emit(prefix_line(index, raw.decode("utf-8", errors="replace").rstrip("\r")))
                emitted += 1
        return emitted
