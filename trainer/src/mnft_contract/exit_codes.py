"""Exit codes of the trainer's commands and `mnft launch` (docs/architecture.md, "Exit codes").

The operator fails the job on OK < code < SIGNAL_BASE except EX_TEMPFAIL, and restarts the whole job on
EX_TEMPFAIL and on a signal (SIGNAL_BASE + signal number).
"""

from __future__ import annotations

OK = 0
ERROR = 1  # a user, data or checkpoint error: one `error: ...` line, restarting would fail the same way
USAGE_ERROR = 2  # a usage error (argparse)
# sysexits.h: a transient distributed-infrastructure failure (the cluster did not form, a collective
# failed during a step, the rank table or the scheduler's DNS name never arrived): restart the job.
EX_TEMPFAIL = 75
SIGNAL_BASE = 128  # a process killed by signal N exits SIGNAL_BASE + N, as a shell reports it


def killed_by(signum: int) -> int:
    """The exit code of a process killed by `signum`."""
    return SIGNAL_BASE + signum
