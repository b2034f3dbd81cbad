"""Exit code 75 (EX_TEMPFAIL) from `mnft launch`'s supervisor, with real child processes."""

from __future__ import annotations

import io
import os
import sys

from mnft_trainer.pod.supervise import Child, Outcome, supervise

ENV = dict(os.environ, PYTHONUNBUFFERED="1")
SLEEPER = "import time; time.sleep(120)"


def test_a_dying_scheduler_makes_launch_exit_75_and_stops_the_ranks():
    out = io.StringIO()
    outcome = supervise(
        [
            Child("scheduler", [sys.executable, "-c", "import sys; sys.exit(1)"], ENV, infrastructure=True),
            Child("rank-0", [sys.executable, "-c", SLEEPER], ENV),
        ],
        grace_s=2.0,
        out=out,
    )
    assert outcome == Outcome(75, "scheduler", None)
    assert "launch: scheduler exited with code 1, stopping 1 other process(es)" in out.getvalue()


def test_a_scheduler_killed_by_a_signal_is_75_too():
    kill_self = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    outcome = supervise(
        [
            Child("scheduler", [sys.executable, "-c", kill_self], ENV, infrastructure=True),
            Child("rank-0", [sys.executable, "-c", SLEEPER], ENV),
        ],
        grace_s=2.0,
        out=io.StringIO(),
    )
    assert outcome == Outcome(75, "scheduler", None)


def test_a_rank_exiting_75_passes_through_and_other_codes_stay():
    for code in (75, 1):
        outcome = supervise(
            [
                Child("scheduler", [sys.executable, "-c", SLEEPER], ENV, infrastructure=True),
                Child("rank-0", [sys.executable, "-c", f"import sys; sys.exit({code})"], ENV),
            ],
            grace_s=2.0,
            out=io.StringIO(),
        )
        assert outcome == Outcome(code, "rank-0", None)
