"""The extraction engine's pure parts: which engine runs where, the export's cache key, fixed batches."""

import sys

import numpy as np
import pytest

from mnft_trainer.engine import (
    EngineChoice,
    choose_engine,
    chunked,
    cpu_streams,
    model_key,
    model_path,
    onnxruntime_version,
    padded_batches,
    requested_engine,
)


def test_onnxruntime_on_cpu_when_installed_mindspore_elsewhere_or_when_absent_or_forced():
    assert choose_engine("CPU", "auto", "1.32.0") == EngineChoice("onnxruntime", "CPU, fp32")
    assert choose_engine("CPU", "onnxruntime", "1.32.0") == EngineChoice("onnxruntime", "CPU, fp32")
    assert choose_engine("CPU", "auto", None) == EngineChoice("mindspore", "CPU, onnxruntime not installed")
    assert choose_engine("CPU", "mindspore", "1.32.0") == EngineChoice(
        "mindspore", "CPU, MNFT_FEATURE_ENGINE=mindspore"
    )
    assert choose_engine("GPU", "auto", "1.32.0") == EngineChoice("mindspore", "GPU")
    assert choose_engine("Ascend", "onnxruntime", "1.32.0") == EngineChoice("mindspore", "Ascend")


def test_bad_or_unsatisfiable_engine_requests_name_the_variable_and_the_fix():
    with pytest.raises(ValueError, match=r"MNFT_FEATURE_ENGINE='openvino': expected one of auto, mindspore"):
        choose_engine("CPU", "openvino", "1.32.0")
    with pytest.raises(ValueError, match=r"onnxruntime is not installed; install mnft\[onnx\]"):
        choose_engine("CPU", "onnxruntime", None)
    assert requested_engine({}) == "auto"
    assert requested_engine({"MNFT_FEATURE_ENGINE": " MindSpore "}) == "mindspore"
    assert requested_engine({"MNFT_FEATURE_ENGINE": ""}) == "auto"


def test_an_absent_onnxruntime_reads_as_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` raises ImportError
    assert onnxruntime_version() is None


def test_model_key_follows_checkpoint_size_batch_and_mindspore_version():
    base = model_key("ck", 224, 224, 32, "2.10.0")
    assert model_key("ck", 224, 224, 32, "2.10.0") == base
    variants = {
        model_key("other", 224, 224, 32, "2.10.0"),
        model_key("ck", 256, 224, 32, "2.10.0"),
        model_key("ck", 224, 256, 32, "2.10.0"),
        model_key("ck", 224, 224, 54, "2.10.0"),
        model_key("ck", 224, 224, 32, "2.11.0"),
    }
    assert base not in variants and len(variants) == 5
    assert model_path("/c", base).as_posix() == f"/c/backbone-{base[:32]}.onnx"


def test_padded_batches_runs_fixed_size_batches_and_trims_the_padding():
    seen: list[int] = []

    def run(batch: np.ndarray) -> np.ndarray:
        seen.append(batch.shape[0])
        return batch.reshape(batch.shape[0], -1).sum(axis=1, keepdims=True)

    images = np.arange(7 * 2, dtype=np.float32).reshape(7, 1, 1, 2)
    got = padded_batches(run, images, 3)
    assert seen == [3, 3, 3]
    np.testing.assert_array_equal(got[:, 0], images.reshape(7, 2).sum(axis=1))
    seen.clear()
    assert padded_batches(run, images[:3], 3).shape == (3, 1) and seen == [3]


def test_chunked_runs_a_dynamic_batch_model_in_batches_without_padding():
    seen: list[int] = []

    def run(batch: np.ndarray) -> np.ndarray:
        seen.append(batch.shape[0])
        return batch.reshape(batch.shape[0], -1).sum(axis=1, keepdims=True)

    images = np.arange(7 * 2, dtype=np.float32).reshape(7, 1, 1, 2)
    np.testing.assert_array_equal(chunked(run, images, 3)[:, 0], images.reshape(7, 2).sum(axis=1))
    assert seen == [3, 3, 1]


def test_cpu_streams_run_small_batches_side_by_side_up_to_four():
    assert [cpu_streams(n) for n in (1, 2, 3, 4, 8, 64)] == [(1, 1), (2, 1), (3, 1), (4, 1), (4, 2), (4, 16)]


def test_batches_go_through_the_mapper_in_order():
    images = np.arange(7, dtype=np.float32).reshape(7, 1, 1, 1)
    mapped: list[int] = []

    def mapper(run, batches):
        mapped.append(len(batches))
        return [run(b) for b in reversed(batches)][::-1]  # computed out of order, returned in order

    def run(batch):
        return batch.reshape(len(batch), 1) * 10

    np.testing.assert_array_equal(padded_batches(run, images, 3, mapper)[:, 0], np.arange(7) * 10)
    np.testing.assert_array_equal(chunked(run, images, 3, mapper)[:, 0], np.arange(7) * 10)
    assert mapped == [3, 3]
