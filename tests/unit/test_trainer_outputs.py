"""Log line formats the operator parses, summary.json, the termination message and the progress display."""

import io
import json

from mnft_trainer import outputs
from mnft_trainer.outputs import Progress, epoch_line, result_line, summary, total_line, write_summary


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
    assert outputs.write_termination_message("error: x") is False
    assert not target.exists()
    target.write_text("")
    assert outputs.write_termination_message('{"epochs": 1}') is True
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
