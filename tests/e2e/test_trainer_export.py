"""Exported models (MindIR, ONNX) of a really trained network predict what its checkpoint evaluates;
`mnft export` / `mnft predict` as real processes, and their one-line errors.

The weights: 2 epochs of the whole network from scratch on digits 0-2 (BatchNorm statistics trained too),
then a new head trained on that frozen backbone, exported at the end of its run (32x32 images).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.slow

MNFT = str(Path(sys.executable).parent / "mnft")
SMALL = ["--platform", "CPU", "--image_height", "32", "--image_width", "32", "--batch_size", "16"]


def mnft(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MNFT, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("export")
    data = root / "digits012"
    made = mnft("demo-data", "--output", str(data), "--classes", "0,1,2")
    assert made.returncode == 0, made.stderr
    backbone = mnft(
        "train", *SMALL, "--dataset_path", str(data), "--epoch_size", "2", "--lr_max", "0.02",
        "--lr_end", "0", "--warmup_epochs", "1", "--run_eval", "false",
        "--save_checkpoint_path", str(root / "backbone"),
    )  # fmt: skip
    assert backbone.returncode == 0, backbone.stderr[-3000:]
    out = root / "head"
    head = mnft(
        "train", *SMALL, "--dataset_path", str(data), "--epoch_size", "10", "--freeze_layer", "backbone",
        "--pretrain_ckpt", str(root / "backbone" / "ckpt_0" / "mobilenetv2_2.ckpt"),
        "--save_checkpoint_path", str(out), "--eval_every_epochs", "4", "--export_formats", "MINDIR,ONNX",
    )  # fmt: skip
    assert head.returncode == 0, head.stderr[-3000:]
    return {
        "data": data,
        "out": out,
        "stdout": head.stdout,
        "summary": json.loads((out / "summary.json").read_text()),
    }


def eval_batches(data: Path) -> tuple[list[str], list[np.ndarray], np.ndarray]:
    """The eval split through the shared eval transform: paths, image batches, labels."""
    from mnft_trainer.data import scan_image_folder
    from mnft_trainer.features import ImageSource, iterate_images

    folder = scan_image_folder(data / "eval")
    batches, labels = [], []
    for images, batch_labels in iterate_images(ImageSource(folder.samples), 32, 32, 16):
        batches.append(images)
        labels.append(batch_labels)
    return [s.path for s in folder.samples], batches, np.concatenate(labels)


def checkpoint_logits(checkpoint: str, batches: list[np.ndarray]) -> np.ndarray:
    import mindspore as ms

    from mnft_trainer.checkpoint import load_pretrained
    from mnft_trainer.features import run_batches
    from mnft_trainer.network import build_network

    ms.set_context(mode=ms.GRAPH_MODE)
    backbone, head, net = build_network(3)
    load_pretrained(backbone, head, checkpoint, lambda _: None, require_head=True)
    net.set_train(False)
    return np.concatenate([run_batches(net, b, 16) for b in batches])


def test_training_writes_models_labels_history_and_pictures(trained: dict[str, Any]) -> None:
    out, summary = trained["out"], trained["summary"]
    assert summary["exported"] == {
        "MINDIR": str(out / "mobilenetv2.mindir"),
        "ONNX": str(out / "mobilenetv2.onnx"),
        "labels": str(out / "labels.json"),
    }
    assert json.loads((out / "labels.json").read_text()) == ["0", "1", "2"]
    assert re.search(
        r"^exported MINDIR model to .*mobilenetv2\.mindir \(\d+\.\d s\)$", trained["stdout"], re.M
    )
    assert [h["epoch"] for h in summary["history"] if "eval_accuracy" in h] == [4, 8, 10]
    assert summary["history"][-1]["eval_accuracy"] == summary["accuracy"]
    assert re.search(r"^epoch\[4/10\] eval accuracy: \d\.\d{4}$", trained["stdout"], re.M)
    assert sorted(summary["plots"]) == ["confusion", "training"]


def test_exported_models_predict_what_the_checkpoint_evaluates(trained: dict[str, Any]) -> None:
    from mnft_trainer.metrics import accuracy, confusion_matrix
    from mnft_trainer.predict import load_model

    out, summary = trained["out"], trained["summary"]
    _, batches, labels = eval_batches(trained["data"])
    reference = checkpoint_logits(summary["checkpoint"], batches)
    predicted = reference.argmax(axis=1)
    assert len(set(predicted.tolist())) >= 2, "trivial weights: every eval image gets one class"
    assert accuracy(confusion_matrix(labels, predicted, 3)) == pytest.approx(summary["accuracy"])
    images = np.concatenate(batches)
    for name, engine in (("mobilenetv2.mindir", "MindSpore "), ("mobilenetv2.onnx", "onnxruntime ")):
        model = load_model(str(out / name))
        assert (model.height, model.width, model.batch) == (32, 32, 32)
        assert model.runner.name.startswith(engine)
        logits = model.logits(images)  # the engine's batches of 32 (the ONNX model's batch is dynamic)
        np.testing.assert_allclose(model.logits(images[:3]), logits[:3], rtol=0, atol=1e-5)
        agreement = float(np.mean(logits.argmax(axis=1) == predicted))
        max_diff = float(np.max(np.abs(logits - reference)))
        print(f"{name}: agreement {agreement:.4f} of {len(labels)}, max logit difference {max_diff:.2e}")
        assert agreement >= 0.99 and max_diff < 1e-4, (name, agreement, max_diff)


def test_predict_cli_prints_one_json_line_per_image(trained: dict[str, Any]) -> None:
    out = trained["out"]
    paths, batches, _ = eval_batches(trained["data"])
    expected = checkpoint_logits(trained["summary"]["checkpoint"], batches).argmax(axis=1)
    for model, engine in (("mobilenetv2.mindir", "MindSpore 2.10.0 (MINDIR, CPU)"),
                          ("mobilenetv2.onnx", "onnxruntime 1.32.0 (CPU, fp32)")):  # fmt: skip
        done = mnft("predict", "--model", str(out / model), "--labels", str(out / "labels.json"),
                    str(trained["data"] / "eval"))  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stderr.splitlines() == [f"model engine: {engine}, batch 32: {out / model}"]
        lines = [json.loads(line) for line in done.stdout.splitlines()]
        assert [sorted(line) for line in lines] == [["image", "label", "score"]] * len(paths)
        assert [line["image"] for line in lines] == paths  # sorted walk == the eval split's order
        assert all(0 < line["score"] <= 1 for line in lines)
        agreement = np.mean([line["label"] == str(e) for line, e in zip(lines, expected, strict=True)])
        assert agreement >= 0.99, (model, agreement)


def test_eval_of_an_exported_model_counts_what_the_checkpoint_counted(trained: dict[str, Any]) -> None:
    out, summary = trained["out"], trained["summary"]
    counted = re.findall(r"^eval: \d+ images, \d+ correct$", trained["stdout"], re.M)
    assert counted, trained["stdout"][-2000:]  # the last one: the final eval of the exported weights
    for model in ("mobilenetv2.mindir", "mobilenetv2.onnx"):
        done = mnft("eval", "--platform", "CPU", "--dataset_path", str(trained["data"]),
                    "--model", str(out / model))  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        assert counted[-1] in done.stdout.splitlines()
        assert "model engine: " in done.stdout and f"batch 32: {out / model}" in done.stdout
    both = mnft("eval", "--platform", "CPU", "--dataset_path", str(trained["data"]),
                "--model", str(out / "mobilenetv2.onnx"),
                "--pretrain_ckpt", summary["checkpoint"])  # fmt: skip
    assert both.returncode == 2 and "not allowed with argument" in both.stderr


def test_offline_export_writes_the_same_model_and_labels_beside_it(
    trained: dict[str, Any], tmp_path: Path
) -> None:
    from mnft_trainer.predict import load_model

    target = tmp_path / "offline" / "digits.onnx"
    done = mnft("export", "--checkpoint", trained["summary"]["checkpoint"], "--format", "onnx",
                "--output", str(target), "--image_height", "32", "--image_width", "32",
                "--dataset_path", str(trained["data"]))  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == {
        "ONNX": str(target),
        "labels": str(tmp_path / "offline" / "labels.json"),
    }
    assert json.loads((tmp_path / "offline" / "labels.json").read_text()) == ["0", "1", "2"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["digits.onnx", "labels.json"]
    _, batches, _ = eval_batches(trained["data"])
    ours = load_model(str(target))
    theirs = load_model(str(trained["out"] / "mobilenetv2.onnx"))
    assert np.array_equal(ours.logits(batches[0]), theirs.logits(batches[0]))

    wrong = mnft("export", "--checkpoint", trained["summary"]["checkpoint"], "--num_classes", "5",
                 "--output", str(tmp_path / "m.mindir"))  # fmt: skip
    assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
    assert wrong.stderr.strip().splitlines()[-1].startswith("error: ")


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_bad_model_files_and_images_get_one_readable_line(trained: dict[str, Any], tmp_path: Path) -> None:
    image = sorted((trained["data"] / "eval" / "0").iterdir())[0]
    for name in ("broken.mindir", "broken.onnx"):
        (tmp_path / name).write_bytes(b"not a model\n" * 10)
    assert one_error_line(mnft("predict", "--model", str(tmp_path / "broken.mindir"), str(image))) == (
        f"error: --model {tmp_path / 'broken.mindir'}: not a MindIR model (Wrong wire type in tag.)"
    )
    line = one_error_line(mnft("predict", "--model", str(tmp_path / "broken.onnx"), str(image)))
    assert line.startswith(f"error: --model {tmp_path / 'broken.onnx'}: not an ONNX model (")
    truncated = tmp_path / "truncated.mindir"
    truncated.write_bytes((trained["out"] / "mobilenetv2.mindir").read_bytes()[:5000])
    assert one_error_line(mnft("predict", "--model", str(truncated), str(image))).startswith(
        f"error: --model {truncated}: not a MindIR model ("
    )
    bad_image = tmp_path / "bad.png"
    bad_image.write_bytes(b"\x89PNG not really")
    done = mnft("predict", "--model", str(trained["out"] / "mobilenetv2.mindir"), str(bad_image))
    assert one_error_line(done) == (
        f"error: {bad_image}: not a readable image (unknown or corrupt image format); "
        "replace or remove the file"
    )
    not_ckpt = mnft("export", "--checkpoint", str(tmp_path / "broken.onnx"), "--num_classes", "3",
                    "--output", str(tmp_path / "x.mindir"))  # fmt: skip
    assert one_error_line(not_ckpt) == (
        f"error: --checkpoint {tmp_path / 'broken.onnx'}: not a MindSpore checkpoint (cannot be parsed)"
    )
    assert not (tmp_path / "x.mindir").exists()
