"""The Kubernetes termination message: the one writer every trainer command uses.

Kubernetes creates the container's terminationMessagePath file before the container starts, so a message
is written only when that file exists (on a laptop nothing is written). `mnft launch` gives each of its
processes its own file through `TERMINATION_MESSAGE_PATH` and writes the pod's message itself, once.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

PATH_ENV = "TERMINATION_MESSAGE_PATH"
DEFAULT_PATH = "/dev/termination-log"


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
