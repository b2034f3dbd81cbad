"""Feature cache: keys follow data, checkpoint, size and rank; cached features equal the network's."""

import numpy as np

from mnft_trainer.data import Sample, scan_image_folder
from mnft_trainer.features import cache_key, cache_path, load_cached, save_cached
from trainer_fixtures import write_folder, write_png


def test_key_changes_with_content_checkpoint_size_and_rank(tmp_path):
    folder = scan_image_folder(write_folder(tmp_path, {"a": 2, "b": 2}))
    samples = folder.samples
    base = cache_key(samples, "ck", 32, 32, 0, 1)
    assert cache_key(samples, "ck", 32, 32, 0, 1) == base
    variants = {
        cache_key(samples, "other", 32, 32, 0, 1),
        cache_key(samples, "ck", 64, 32, 0, 1),
        cache_key(samples, "ck", 32, 32, 1, 2),
        cache_key(samples[:3], "ck", 32, 32, 0, 1),
        cache_key((*samples[:3], Sample(samples[3].path, 0)), "ck", 32, 32, 0, 1),
    }
    write_png(tmp_path / "b" / "001.png", 99)  # same name, new pixels
    variants.add(cache_key(samples, "ck", 32, 32, 0, 1))
    assert base not in variants and len(variants) == 6
    assert cache_path("/c", "train", base, 1).name == f"train-rank1-{base[:32]}.npz"


def test_cache_roundtrip_is_atomic_and_rejects_wrong_counts(tmp_path):
    path = tmp_path / "sub" / "train-rank0-x.npz"
    features = np.arange(6, dtype=np.float32).reshape(2, 3)
    labels = np.array([1, 0], dtype=np.int32)
    assert load_cached(path, 2) is None
    save_cached(path, features, labels)
    assert sorted(p.name for p in path.parent.iterdir()) == ["train-rank0-x.npz"]
    cached = load_cached(path, 2)
    assert cached is not None
    got_features, got_labels = cached
    np.testing.assert_array_equal(got_features, features)
    np.testing.assert_array_equal(got_labels, labels)
    assert load_cached(path, 3) is None
    path.write_bytes(b"torn")
    assert load_cached(path, 2) is None


def test_balanced_batch_covers_the_images_in_the_fewest_batches_with_least_padding():
    from mnft_trainer.features import balanced_batch

    assert balanced_batch(160, 64) == 54  # 3 batches: 54 + 54 + 52 (2 padded) instead of 3 x 64
    assert balanced_batch(128, 64) == 64
    assert balanced_batch(129, 64) == 43
    assert balanced_batch(10, 64) == 10
    assert balanced_batch(1000, 64) == 63  # 16 batches
    assert balanced_batch(1, 64) == 1
    assert balanced_batch(0, 64) == 64
