"""Images/s and ETA: parsed from the trainer's extended epoch line, shown in the status, and the export and
per-epoch eval settings rendered into the trainer's arguments."""

from __future__ import annotations

import json
from typing import Any

from reconcile_world import World

from mnft_operator.builders.pods import train_command
from mnft_operator.progress import parse_progress, parse_result
from mnft_operator.spec import parse, validate

LINE = (
    "[rank-0] epoch[2/3], iter[4] cost: 1000.000 ms, per step time: 250.000 ms, avg loss: 0.432, "
    "lr: 0.0157, images/s: 256.04, eta: 41 s\n"
)


def test_extended_line_gives_rate_and_eta_and_the_recipe_line_still_parses() -> None:
    assert parse_progress(LINE) == {
        "epoch": 2,
        "totalEpochs": 3,
        "loss": 0.432,
        "imagesPerSecond": 256.0,
        "etaSeconds": 41,
    }
    recipe = "epoch[1/3], iter[4] cost: 1.0 ms, per step time: 0.25 ms, avg loss: 0.5\n"
    assert parse_progress(recipe) == {"epoch": 1, "totalEpochs": 3, "loss": 0.5}
    eval_line = "[rank-0] epoch[2/3] eval accuracy: 0.9000\n"  # not a progress line: the one before wins
    assert parse_progress(LINE + eval_line) == parse_progress(LINE)


def test_result_lists_the_exported_files() -> None:
    message = json.dumps(
        {
            "epochs": 3,
            "final_loss": 0.2,
            "accuracy": 0.9,
            "checkpoint": "/mnt/output/checkpoint/ckpt_0/mobilenetv2_3.ckpt",
            "exported": {"MINDIR": "/mnt/output/checkpoint/mobilenetv2.mindir", "labels": "/x/labels.json"},
        }
    )
    assert parse_result(message) == {
        "accuracy": 0.9,
        "checkpoint": "/mnt/output/checkpoint/ckpt_0/mobilenetv2_3.ckpt",
        "finalLoss": 0.2,
        "exported": {"MINDIR": "/mnt/output/checkpoint/mobilenetv2.mindir", "labels": "/x/labels.json"},
    }


def test_status_shows_rate_and_eta_while_running_and_eta_zero_when_done() -> None:
    w = World({"platform": "CPU", "image": "mnft:0.1", "workers": 1, "dataset": {"path": "/data"}})
    w.step()
    w.run(0)
    w.log_tail = LINE
    w.step()
    assert w.status()["progress"] == {
        "epoch": 2,
        "totalEpochs": 3,
        "loss": 0.432,
        "imagesPerSecond": 256.0,
        "etaSeconds": 41,
    }
    assert w.status()["message"] == "1/1 workers ready, epoch 2/3, loss 0.432, 256.0 images/s, ETA 41 s"
    w.exit(0, 0, message='{"epochs": 3, "final_loss": 0.3, "accuracy": null, "checkpoint": "c"}')
    w.step()
    assert w.status()["progress"] == {
        "epoch": 3,
        "totalEpochs": 3,
        "loss": 0.432,
        "imagesPerSecond": 256.0,
        "etaSeconds": 0,
    }


def job(**spec: Any) -> dict[str, Any]:
    base = {"platform": "CPU", "image": "i", "dataset": {"path": "/d"}}
    return {"metadata": {"name": "flowers", "namespace": "ml"}, "spec": {**base, **spec}}


def test_export_formats_and_eval_every_epochs_become_trainer_arguments() -> None:
    cmd = train_command(parse(job(export={"formats": ["MINDIR", "ONNX"]}, eval={"everyEpochs": 2})))
    assert cmd[cmd.index("--run_eval") :] == [
        *("--run_eval", "true", "--eval_every_epochs", "2", "--export_formats", "MINDIR,ONNX"),
    ]
    plain = train_command(parse(job()))
    assert plain[plain.index("--run_eval") :] == ["--run_eval", "true"]
    no_eval = train_command(parse(job(eval={"enabled": False, "everyEpochs": 2})))
    assert no_eval[no_eval.index("--run_eval") :] == ["--run_eval", "false"]


def test_bad_export_format_names_the_field() -> None:
    errors = [str(e) for e in validate(job(export={"formats": ["TFLITE"]}))]
    assert len(errors) == 1 and errors[0].startswith("spec.export.formats[0]: ")
    assert "MINDIR" in errors[0] and "ONNX" in errors[0]
