"""Progress from rank 0's log tail, result from its termination message, condition helpers."""

from __future__ import annotations

from datetime import datetime, timezone

from mnft_operator.conditions import set_condition, sort_conditions
from mnft_operator.progress import parse_progress, parse_result

T1 = datetime(2026, 1, 1, tzinfo=timezone.utc)
T2 = datetime(2026, 1, 2, tzinfo=timezone.utc)


def test_progress_takes_the_last_rank0_line() -> None:
    tail = (
        "[rank-0] epoch[1/15], iter[20] cost: 1234.567 ms, per step time: 61.728 ms, avg loss: 2.5\n"
        "[rank-0] epoch[3/15], iter[20] cost: 1234.567 ms, per step time: 61.728 ms, avg loss: 1.234\n"
        "[rank-1] epoch[4/15], iter[20] cost: 1.0 ms, per step time: 1.0 ms, avg loss: 0.1\n"
        "[rank-0] total cost 12.345 s\n"
    )
    assert parse_progress(tail) == {"epoch": 3, "totalEpochs": 15, "loss": 1.234}
    assert parse_progress("epoch[2/5], iter[1] cost: 1 ms, per step time: 1 ms, avg loss: nan") == {
        "epoch": 2,
        "totalEpochs": 5,
    }
    assert parse_progress("[rank-0] loading dataset\n") is None


def test_result_from_termination_message() -> None:
    msg = '{"epochs": 15, "final_loss": 0.31, "accuracy": 0.94, "checkpoint": "/mnt/output/ckpt_0/m.ckpt"}'
    assert parse_result(msg) == {
        "accuracy": 0.94,
        "checkpoint": "/mnt/output/ckpt_0/m.ckpt",
        "finalLoss": 0.31,
    }
    assert parse_result('{"epochs": 1, "final_loss": 0.5, "accuracy": null, "checkpoint": "c"}') == {
        "checkpoint": "c",
        "finalLoss": 0.5,
    }
    assert parse_result("error: boom") is None


def test_conditions_keep_order_and_transition_time() -> None:
    conds = set_condition([], "Running", True, "AllWorkersRunning", "2 running", T1)
    conds = set_condition(conds, "Created", True, "PodsCreated", "created", T1)
    assert [c["type"] for c in conds] == ["Created", "Running"]
    same = set_condition(conds, "Running", True, "AllWorkersRunning", "new message", T2)
    assert same[1] == {
        "type": "Running",
        "status": "True",
        "reason": "AllWorkersRunning",
        "message": "new message",
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    }
    flipped = set_condition(same, "Running", False, "Restarting", "x", T2)
    assert flipped[1]["lastTransitionTime"] == "2026-01-02T00:00:00Z"
    assert [
        c["type"] for c in sort_conditions([{"type": "Failed"}, {"type": "Suspended"}, {"type": "Created"}])
    ] == [
        "Created",
        "Failed",
        "Suspended",
    ]
