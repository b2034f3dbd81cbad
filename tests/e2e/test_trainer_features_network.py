"""Frozen-backbone features with real MindSpore: pooled features through the head equal the whole network."""

import numpy as np
import pytest

from mnft_trainer.data import scan_image_folder
from trainer_fixtures import write_folder

pytestmark = pytest.mark.slow


def test_pooled_features_through_the_head_equal_the_whole_network(tmp_path):
    pytest.importorskip("mindspore")
    import mindspore as ms

    from mnft_trainer.features import extract_features, run_batches
    from mnft_trainer.network import PooledBackbone, PooledHead, build_network

    ms.set_context(mode=ms.GRAPH_MODE)
    folder = scan_image_folder(write_folder(tmp_path, {"a": 3, "b": 2}, size=40))
    backbone, head, net = build_network(2)
    features, labels = extract_features(PooledBackbone(backbone), folder.samples, 32, 32, 4, "extract")
    assert features.shape == (5, 1280) and labels.tolist() == [0, 0, 0, 1, 1]
    from mnft_trainer.features import ImageSource, iterate_images

    images = np.concatenate([batch for batch, _ in iterate_images(ImageSource(folder.samples), 32, 32, 4)])
    assert images.shape == (5, 3, 32, 32)
    net.set_train(False)
    np.testing.assert_allclose(
        run_batches(PooledHead(head), features, 8), run_batches(net, images, 8), rtol=1e-4, atol=1e-5
    )
