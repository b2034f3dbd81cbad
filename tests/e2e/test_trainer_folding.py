"""BatchNorm folded into the frozen backbone's convolutions: same pooled features, official layout kept."""

import numpy as np
import pytest

from mnft_trainer.network import fold_conv_bn

pytestmark = pytest.mark.slow


def test_fold_conv_bn_scales_weights_per_output_channel_and_shifts_the_bias():
    weight = np.ones((2, 1, 1, 1), np.float32)
    bn = {
        "gamma": np.array([2.0, 1.0], np.float32),
        "beta": np.array([0.5, -1.0], np.float32),
        "moving_mean": np.array([1.0, 3.0], np.float32),
        "moving_variance": np.array([4.0, 1.0], np.float32),
    }
    folded, bias = fold_conv_bn(weight, np.array([1.0, 0.0], np.float32), bn, eps=0.0)
    np.testing.assert_array_equal(folded.reshape(-1), [1.0, 1.0])  # gamma / sqrt(var)
    np.testing.assert_array_equal(bias, [0.5 - 1.0 + 1.0, -1.0 - 3.0])  # beta - mean*s + b*s
    folded, bias = fold_conv_bn(weight, None, bn, eps=0.0)
    np.testing.assert_array_equal(bias, [-0.5, -4.0])


def _randomise_batchnorm(backbone, seed):
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


def test_folded_backbone_matches_the_unfolded_one_and_follows_weight_changes():
    pytest.importorskip("mindspore")
    import mindspore as ms

    from mnft_trainer.features import inference_cell, run_batches
    from mnft_trainer.network import FoldedPooledBackbone, PooledBackbone, build_network

    ms.set_context(mode=ms.GRAPH_MODE)
    backbone, _, _ = build_network(2)
    names = sorted(p.name for p in backbone.get_parameters())
    _randomise_batchnorm(backbone, 1)
    pooled = PooledBackbone(backbone)
    pooled.set_train(False)
    images = np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype(np.float32)

    folded = inference_cell(pooled)
    assert isinstance(folded, FoldedPooledBackbone)
    expected = run_batches(pooled, images, 2)
    got = run_batches(folded, images, 2)
    assert np.abs(expected).max() > 1e-2  # non-trivial features, so the comparison means something
    assert np.abs(got - expected).max() < 1e-4 * np.abs(expected).max()

    _randomise_batchnorm(backbone, 2)  # changed weights: the same folded cell is refolded
    assert inference_cell(pooled) is folded
    expected = run_batches(pooled, images, 2)
    assert np.abs(run_batches(folded, images, 2) - expected).max() < 1e-4 * np.abs(expected).max()
    assert sorted(p.name for p in backbone.get_parameters()) == names  # the backbone's layout is untouched
    assert inference_cell(folded) is folded  # anything but a PooledBackbone runs as given
