"""Log line formats the operator parses, summary.json, the termination message and the progress display."""

import io
import json

from mnft_contract.termination import write_termination_message
from mnft_trainer import outputs
from mnft_trainer.outputs import (
    EpochReporter,
    EpochStats,
    Progress,
    epoch_line,
    eta_seconds,
    eval_due,
    result_line,
    summary,
    termination_summary,
    total_line,
    write_summary,
)


def test_recipe_log_lines_are_exact():
    assert epoch_line(3, 15, 20, 1234.5671, 1.2344) == (
        "epoch[3/15], iter[20] cost: 1234.567 ms, per step time: 61.728 ms, avg loss: 1.234"
    )
    assert total_line(12.3454) == "total cost 12.345 s"
    assert result_line(0.9375) == "result:{'acc': 0.9375}"


def test_summary_json(tmp_path):
    data = summary(15, 0.31, None, "/out/ckpt_0/mobilenetv2_15.ckpt")
    path = write_summary(str(tmp_path / "out"), data)
    assert path == tmp_path / "out" / "summary.json"
    assert json.loads(path.read_text()) == {
        "epochs": 15,
        "final_loss": 0.31,
        "accuracy": None,
        "checkpoint": "/out/ckpt_0/mobilenetv2_15.ckpt",
    }
    assert [p.name for p in path.parent.iterdir()] == ["summary.json"]


def test_termination_message_only_into_an_existing_file(tmp_path, monkeypatch):
    target = tmp_path / "termination-log"
    monkeypatch.setenv("TERMINATION_MESSAGE_PATH", str(target))
    assert write_termination_message("error: x") is False
    assert not target.exists()
    target.write_text("")
    assert write_termination_message('{"epochs": 1}') is True
    assert target.read_text() == '{"epochs": 1}'


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_and_plain_lines_in_logs(monkeypatch):
    tty = FakeTTY()
    bar = Progress("extract train", 4, stream=tty)
    bar.update(2)
    bar.update(4)
    frames = tty.getvalue().split("\r")[1:]
    assert frames[0].startswith("extract train [###############...............] 2/4 (")
    assert frames[1].startswith("extract train [##############################] 4/4 (") and frames[
        1
    ].endswith("/s)\n")

    clock = iter([0.0, 1.0, 12.0, 13.0])
    monkeypatch.setattr(outputs.time, "monotonic", lambda: next(clock))
    log = io.StringIO()
    plain = Progress("extract eval", 3, stream=log, every_s=10.0)
    plain.update(1)  # 1 s after start: too soon for a line
    plain.update(2)  # 12 s: a line
    plain.update(3)  # the end: always a line
    assert [line.split(" (")[0] for line in log.getvalue().splitlines()] == [
        "extract eval: 2/3",
        "extract eval: 3/3",
    ]


def test_epoch_line_with_lr_rate_and_eta_extends_the_recipe_line() -> None:
    line = epoch_line(
        3, 15, 20, 1234.5671, 1.2344, lr=0.0123456789, images_per_second=512.34, eta_seconds=37.4
    )
    assert line == (
        "epoch[3/15], iter[20] cost: 1234.567 ms, per step time: 61.728 ms, avg loss: 1.234, "
        "lr: 0.0123457, images/s: 512.3, eta: 37 s"
    )


def test_eta_leaves_out_the_compiling_first_epoch_once_there_are_others() -> None:
    assert eta_seconds([], 3) == 0.0
    assert eta_seconds([50.0], 4) == 200.0
    assert eta_seconds([50.0, 10.0, 12.0], 2) == 22.0
    assert [e for e in range(1, 11) if eval_due(e, 10, 3)] == [3, 6, 9]
    assert [e for e in range(1, 7) if eval_due(e, 6, 3)] == [3]  # the last epoch has the final eval
    assert not any(eval_due(e, 5, 0) for e in range(1, 6))


def stats(epoch: int, loss: float, seconds: float = 2.0) -> EpochStats:
    return EpochStats(epoch=epoch, epochs=4, steps=10, images=320, seconds=seconds, loss=loss, lr=0.01)


def test_reporter_logs_evaluates_when_due_and_keeps_the_history(tmp_path) -> None:
    clock = iter([100.0, 130.0, 140.0, 152.0, 160.0])
    lines: list[str] = []
    evaluated: list[int] = []

    def evaluate() -> float:
        evaluated.append(1)
        return 0.75

    reporter = EpochReporter(
        lines.append,
        group_size=2,
        save_dir=str(tmp_path),
        evaluate=evaluate,
        eval_every=2,
        clock=lambda: next(clock),
    )
    for epoch, loss in [(1, 2.0), (2, 1.5), (3, 1.0), (4, 0.5)]:
        reporter(stats(epoch, loss))
    assert lines == [
        "epoch[1/4], iter[10] cost: 2000.000 ms, per step time: 200.000 ms, avg loss: 2.000, lr: 0.01, "
        "images/s: 320.0, eta: 90 s",
        "epoch[2/4], iter[10] cost: 2000.000 ms, per step time: 200.000 ms, avg loss: 1.500, lr: 0.01, "
        "images/s: 320.0, eta: 20 s",
        "epoch[2/4] eval accuracy: 0.7500",
        "epoch[3/4], iter[10] cost: 2000.000 ms, per step time: 200.000 ms, avg loss: 1.000, lr: 0.01, "
        "images/s: 320.0, eta: 11 s",
        "epoch[4/4], iter[10] cost: 2000.000 ms, per step time: 200.000 ms, avg loss: 0.500, lr: 0.01, "
        "images/s: 320.0, eta: 0 s",
    ]
    assert len(evaluated) == 1
    entry = {"lr": 0.01, "images_per_second": 320.0, "seconds": 2.0}
    assert reporter.history == [
        {"epoch": 1, "loss": 2.0, **entry},
        {"epoch": 2, "loss": 1.5, **entry, "eval_accuracy": 0.75},
        {"epoch": 3, "loss": 1.0, **entry},
        {"epoch": 4, "loss": 0.5, **entry},
    ]
    assert json.loads((tmp_path / "history.json").read_text()) == reporter.history

    resumed = EpochReporter(lines.append, group_size=2, save_dir=str(tmp_path))
    resumed(stats(3, 0.9))  # a restart resumed after epoch 2: epochs 1-2 are kept, 3-4 replaced
    assert [(e["epoch"], e["loss"]) for e in resumed.history] == [(1, 2.0), (2, 1.5), (3, 0.9)]
    fresh = EpochReporter(lines.append, group_size=1, save_dir=str(tmp_path))
    fresh(stats(1, 3.0))
    assert [(e["epoch"], e["loss"]) for e in fresh.history] == [(1, 3.0)]


def test_termination_summary_keeps_the_small_keys() -> None:
    data = {
        **summary(2, 0.5, 0.9, "/c.ckpt"),
        "history": [{"epoch": 1}],
        "confusion_matrix": [[1]],
        "exported": {"MINDIR": "/m.mindir", "labels": "/labels.json"},
    }
    assert termination_summary(data) == {
        "epochs": 2,
        "final_loss": 0.5,
        "accuracy": 0.9,
        "checkpoint": "/c.ckpt",
        "exported": {"MINDIR": "/m.mindir", "labels": "/labels.json"},
    }
