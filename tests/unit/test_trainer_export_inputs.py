"""Pure parts of export and predict: format lists, labels.json, which files are images; and the pictures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from mnft_trainer.errors import TrainerError
from mnft_trainer.export import _onnx_subset, declare_dynamic_batch, parse_formats, write_labels
from mnft_trainer.plots import MISSING, write_plots
from mnft_trainer.predict import image_paths, load_labels, load_model
from trainer_fixtures import write_png


def test_formats_parse_case_insensitively_without_duplicates() -> None:
    assert parse_formats("") == ()
    assert parse_formats("mindir, ONNX,MINDIR") == ("MINDIR", "ONNX")
    with pytest.raises(
        TrainerError, match=r"^--export_formats: unknown format 'TFLITE'; use MINDIR or ONNX$"
    ):
        parse_formats("MINDIR,tflite")


def test_labels_round_trip_and_default_beside_the_model(tmp_path: Path) -> None:
    labels = write_labels(tmp_path / "out" / "labels.json", ["cat", "dog"])
    assert json.loads(labels.read_text()) == ["cat", "dog"]
    assert load_labels(str(labels), "elsewhere/m.onnx") == ["cat", "dog"]
    assert load_labels(None, str(tmp_path / "out" / "m.mindir")) == ["cat", "dog"]
    assert load_labels(None, str(tmp_path / "m.mindir")) is None  # no labels.json there: indices
    (tmp_path / "bad.json").write_text('{"cat": 0}')
    with pytest.raises(TrainerError, match=r"expected a JSON list of class names"):
        load_labels(str(tmp_path / "bad.json"), "m.onnx")
    with pytest.raises(TrainerError, match=r"^--labels .*missing.json: file not found$"):
        load_labels(str(tmp_path / "missing.json"), "m.onnx")


def test_image_paths_walk_directories_and_name_what_is_missing(tmp_path: Path) -> None:
    write_png(tmp_path / "imgs" / "b" / "2.png", 10)
    write_png(tmp_path / "imgs" / "a" / "1.png", 20)
    (tmp_path / "imgs" / "notes.txt").write_text("x")
    one = write_png(tmp_path / "one.png", 30)
    assert image_paths([str(one), str(tmp_path / "imgs")]) == [
        str(one),
        str(tmp_path / "imgs" / "a" / "1.png"),
        str(tmp_path / "imgs" / "b" / "2.png"),
    ]
    with pytest.raises(TrainerError, match=r"nope.png: no such file or directory$"):
        image_paths([str(tmp_path / "nope.png")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(TrainerError, match=r"empty: no images"):
        image_paths([str(tmp_path / "empty")])


def test_model_type_comes_from_the_extension(tmp_path: Path) -> None:
    (tmp_path / "m.pb").write_bytes(b"x")
    with pytest.raises(TrainerError, match=r"unknown model type \.pb; use a \.mindir or \.onnx file$"):
        load_model(str(tmp_path / "m.pb"))
    with pytest.raises(TrainerError, match=r"m.onnx: file not found$"):
        load_model(str(tmp_path / "m.onnx"))


def test_onnx_outputs_get_the_dynamic_batch_and_every_other_field_is_kept() -> None:
    model_class = _onnx_subset()
    model = model_class()
    for name, shape in (("logits", [1, 5]), ("features", [1, 1280])):  # as MindSpore declares them
        value = model.graph.output.add(name=name)
        for d in shape:
            value.type.tensor_type.shape.dim.add(dim_value=d)
    images = model.graph.input.add(name="images")
    images.type.tensor_type.shape.dim.add(dim_param="batch")
    images.type.tensor_type.shape.dim.add(dim_value=3)
    # Fields the subset does not know (ModelProto.ir_version 1, producer_name 2, a GraphProto node 1):
    unknown = b"\x08\x06" + b"\x12\x0bMindSpore 1"
    data = unknown + model.SerializeToString()

    fixed = model_class()
    fixed.ParseFromString(declare_dynamic_batch(data))
    dims = [[(d.WhichOneof("value"), d.dim_value or d.dim_param) for d in v.type.tensor_type.shape.dim]
            for v in (*fixed.graph.input, *fixed.graph.output)]  # fmt: skip
    assert dims == [
        [("dim_param", "batch"), ("dim_value", 3)],
        [("dim_param", "batch"), ("dim_value", 5)],
        [("dim_param", "batch"), ("dim_value", 1280)],
    ]
    assert unknown in declare_dynamic_batch(data)  # ir_version and producer survive the rewrite


HISTORY = [
    {"epoch": 1, "loss": 1.5, "lr": 0.02, "images_per_second": 100.0, "seconds": 3.0},
    {"epoch": 2, "loss": 1.0, "lr": 0.01, "images_per_second": 120.0, "seconds": 2.5, "eval_accuracy": 0.6},
    {"epoch": 3, "loss": 0.7, "lr": 0.0, "images_per_second": 120.0, "seconds": 2.5},
]


def test_plots_are_png_files(tmp_path: Path) -> None:
    lines: list[str] = []
    written = write_plots(str(tmp_path), HISTORY, 0.8, [[5, 1], [2, 4]], ["cat", "dog"], lines.append)
    assert written == {
        "training": str(tmp_path / "training.png"),
        "confusion": str(tmp_path / "confusion.png"),
    }
    for path in written.values():
        assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert lines == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["confusion.png", "training.png"]
    assert write_plots(str(tmp_path / "none"), [], None, None, [], lines.append) == {}


def test_without_matplotlib_one_line_and_no_pictures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what `import matplotlib` sees when it is absent
    lines: list[str] = []
    assert write_plots(str(tmp_path), HISTORY, 0.8, [[1]], ["a"], lines.append) == {}
    assert lines == [MISSING] == ["plots skipped: matplotlib is not installed (pip install 'mnft[plots]')"]
    assert list(tmp_path.iterdir()) == []
