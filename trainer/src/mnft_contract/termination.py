"""The Kubernetes termination message: where it is, its format, the one writer and the reader.

Kubernetes creates the container's terminationMessagePath file before the container starts, so a message
is written only when that file exists (on a laptop nothing is written). `mnft launch` gives each of its
processes its own file through `TERMINATION_MESSAGE_PATH` and writes the pod's message itself, once.

Format: success is one JSON line with only `SUMMARY_KEYS` of summary.json (Kubernetes keeps 4 KiB);
failure is one line starting with `ERROR_PREFIX`. The operator reads the last non-empty line.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from mnft_contract.env import TERMINATION_MESSAGE_PATH

PATH_ENV = TERMINATION_MESSAGE_PATH
DEFAULT_PATH = "/dev/termination-log"  # the container's terminationMessagePath (the operator sets it)
ERROR_PREFIX = "error: "
# summary.json keys that also go into the message (Kubernetes keeps at most 4096 bytes of it).
SUMMARY_KEYS = ("epochs", "final_loss", "accuracy", "checkpoint", "exported")


def error_line(message: str) -> str:
    """The failure message: `error: <message>`."""
    return f"{ERROR_PREFIX}{message}"


def last_line(message: str) -> str:
    """The last non-empty line of a message, stripped (what the operator reports)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def path_from_env(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get(PATH_ENV) or DEFAULT_PATH


def write_termination_message(text: str, env: Mapping[str, str] | None = None) -> bool:
    """Replace the message at $TERMINATION_MESSAGE_PATH if that file exists; True when written."""
    path = path_from_env(env)
    if not os.path.isfile(path):
        return False
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError:
        return False
    return True


def read_termination_message(path: str | Path) -> str:
    """The message a process left at `path`; empty when it wrote none or the file is unreadable."""
    with contextlib.suppress(OSError, UnicodeDecodeError):
        return Path(path).read_text(encoding="utf-8")
    return ""
