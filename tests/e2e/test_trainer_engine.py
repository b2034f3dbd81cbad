"""Frozen-backbone extraction on ONNX Runtime, with real MindSpore, its ONNX export and real processes.

The backbone has non-trivial weights (random BatchNorm statistics and affine parameters on top of the
random convolutions), so equal features mean the export and the engine compute the same network; the
shared reference checkpoint's near-zero weights would prove nothing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trainer_fixtures import write_folder

pytestmark = pytest.mark.slow
pytest.importorskip("mindspore")
pytest.importorskip("onnxruntime")

SIZE = ["--image_height", "64", "--image_width", "64", "--batch_size", "16", "--epoch_size", "2"]
BLOCK_ONNXRUNTIME = (
    "import sys; sys.modules['onnxruntime'] = None; "  # `import onnxruntime` now raises ImportError
    "from mnft_trainer.__main__ import main; sys.exit(main())"
)


def _randomise(backbone, seed: int) -> None:
    import mindspore as ms
    from mindspore import nn

    rng = np.random.default_rng(seed)
    for _, cell in backbone.cells_and_names():
        if isinstance(cell, nn.BatchNorm2d):
            n = cell.gamma.shape[0]
            cell.gamma.set_data(ms.Tensor(rng.uniform(0.5, 1.5, n).astype(np.float32)))
            cell.beta.set_data(ms.Tensor(rng.normal(0, 0.1, n).astype(np.float32)))
            cell.moving_mean.set_data(ms.Tensor(rng.normal(0, 0.1, n).astype(np.float32)))
            cell.moving_variance.set_data(ms.Tensor(rng.uniform(0.5, 2.0, n).astype(np.float32)))


def _close(got: np.ndarray, expected: np.ndarray) -> None:
    largest = float(np.abs(expected).max())
    assert largest > 1e-2  # non-trivial features, so the comparison means something
    assert got.shape == expected.shape
    assert float(np.abs(got - expected).max()) < 1e-4 * largest


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A 2-class train/eval folder and a checkpoint of a non-trivial network in the official layout."""
    import mindspore as ms

    from mnft_trainer.network import build_network

    root = tmp_path_factory.mktemp("engine")
    write_folder(root / "data" / "train", {"a": 9, "b": 8}, size=72)
    write_folder(root / "data" / "eval", {"a": 3, "b": 2}, size=72)
    backbone, _, net = build_network(2)
    _randomise(backbone, 7)
    ms.save_checkpoint(net, str(root / "trained.ckpt"))
    return {"data": root / "data", "ckpt": root / "trained.ckpt", "root": root}


def test_engine_features_equal_mindspore_and_the_export_is_reused(job, tmp_path, monkeypatch):
    import mindspore as ms

    from mnft_trainer import engine
    from mnft_trainer.checkpoint import file_sha256, load_pretrained
    from mnft_trainer.data import ImageSource, scan_image_folder
    from mnft_trainer.features import FeatureJob, cached_features, iterate_images, run_batches
    from mnft_trainer.network import FoldedPooledBackbone, PooledBackbone, build_network

    ms.set_context(mode=ms.GRAPH_MODE)
    backbone, head, _ = build_network(2)
    load_pretrained(backbone, head, str(job["ckpt"]), lambda _: None)
    pooled = PooledBackbone(backbone)
    pooled.set_train(False)
    samples = scan_image_folder(job["data"] / "train").samples  # 17 images: the last batch is padded
    images = np.concatenate([b for b, _ in iterate_images(ImageSource(samples), 64, 64, 8)])
    expected = run_batches(pooled, images, 8)  # MindSpore, unfolded, as the network is trained

    exports: list[Path] = []
    real_export = engine.export_onnx

    def counting_export(*args, **kwargs):
        exports.append(real_export(*args, **kwargs))
        return exports[-1]

    monkeypatch.setattr(engine, "export_onnx", counting_export)
    lines: list[str] = []
    sha = file_sha256(str(job["ckpt"]))
    cache = str(tmp_path / "cache")
    features_job = FeatureJob(pooled, sha, 64, 64, 8, cache, lines.append)
    features, labels = cached_features(features_job, samples, "train")
    _close(features, expected)
    assert labels.tolist() == [s.label for s in samples]
    assert "feature extraction: onnxruntime " in lines[-1] and lines[-1].endswith(" (CPU, fp32)")
    assert len(exports) == 1 and exports[0].parent == tmp_path / "cache"

    # Another split of the same job: the same engine, no second export, no second log line.
    eval_samples = scan_image_folder(job["data"] / "eval").samples
    count = len(lines)
    cached_features(features_job, eval_samples, "eval")
    assert len(exports) == 1 and len(lines) == count

    # A new job (new process, same checkpoint and size): the exported file is reused.
    lines.clear()
    extractor = engine.backbone_extractor(
        lambda: FoldedPooledBackbone(backbone), sha, 64, 64, 8, cache, lines.append
    )
    assert len(exports) == 1 and lines[0] == f"backbone ONNX model from cache {exports[0]}"
    _close(extractor(images), expected)

    # A torn file is exported again rather than failing the job.
    exports[0].write_bytes(b"torn")
    lines.clear()
    extractor = engine.backbone_extractor(
        lambda: FoldedPooledBackbone(backbone), sha, 64, 64, 8, cache, lines.append
    )
    assert len(exports) == 2 and "unusable" in lines[0]
    _close(extractor(images), expected)


def _train(job: dict[str, Path], out: Path, block_onnxruntime: bool) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", BLOCK_ONNXRUNTIME] if block_onnxruntime else [
        sys.executable, "-m", "mnft_trainer",
    ]  # fmt: skip
    command += [
        "train", "--platform", "CPU", *SIZE, "--dataset_path", str(job["data"]),
        "--pretrain_ckpt", str(job["ckpt"]), "--freeze_layer", "backbone",
        "--save_checkpoint_path", str(out),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _engine_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("feature extraction: ")]


def test_train_falls_back_to_mindspore_without_onnxruntime_with_the_same_features(job, tmp_path):
    import mindspore as ms

    fallback = _train(job, tmp_path / "fallback", block_onnxruntime=True)
    assert _engine_lines(fallback.stdout) == [
        f"feature extraction: MindSpore {ms.__version__} (CPU, onnxruntime not installed)"
    ]
    assert not list((tmp_path / "fallback" / "feature_cache").glob("*.onnx"))

    engine_run = _train(job, tmp_path / "engine", block_onnxruntime=False)
    (line,) = _engine_lines(engine_run.stdout)
    assert line.startswith("feature extraction: onnxruntime ") and line.endswith(" (CPU, fp32)")
    assert len(list((tmp_path / "engine" / "feature_cache").glob("backbone-*.onnx"))) == 1

    for split in ("train", "eval"):
        (ms_file,) = (tmp_path / "fallback" / "feature_cache").glob(f"{split}-rank0-*.npz")
        (ort_file,) = (tmp_path / "engine" / "feature_cache").glob(f"{split}-rank0-*.npz")
        assert ms_file.name == ort_file.name  # same key: the engine does not change what is cached
        with np.load(ms_file) as ms_data, np.load(ort_file) as ort_data:
            _close(ort_data["features"], ms_data["features"])
            np.testing.assert_array_equal(ort_data["labels"], ms_data["labels"])
