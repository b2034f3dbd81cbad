"""ImageFolder discovery, validation errors, sharding, eval sizing and the demo split (pure, no MindSpore)."""

import numpy as np
import pytest

from mnft_trainer.data import (
    Sample,
    decode_image,
    eval_resize,
    find_eval_dir,
    find_splits,
    scan_image_folder,
    shard_samples,
)
from mnft_trainer.demo_data import parse_classes, split_indices
from mnft_trainer.errors import TrainerError
from trainer_fixtures import write_folder, write_png


def test_splits_with_train_and_eval(tmp_path):
    write_folder(tmp_path / "train", {"a": 1, "b": 1})
    write_folder(tmp_path / "eval", {"a": 1, "b": 1})
    assert find_splits(str(tmp_path)) == (tmp_path / "train", tmp_path / "eval")
    assert find_eval_dir(str(tmp_path)) == tmp_path / "eval"


def test_a_class_folder_root_is_its_own_train_split(tmp_path):
    write_folder(tmp_path, {"a": 1, "b": 1})
    assert find_splits(str(tmp_path)) == (tmp_path, None)
    assert find_eval_dir(str(tmp_path)) == tmp_path


def test_missing_path(tmp_path):
    with pytest.raises(TrainerError, match=r"^--dataset_path .*/nope: no such directory$"):
        find_splits(str(tmp_path / "nope"))


def test_scan_lists_sorted_classes_and_images(tmp_path):
    write_folder(tmp_path, {"dog": 2, "cat": 1})
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden").mkdir()
    folder = scan_image_folder(tmp_path)
    assert folder.classes == ("cat", "dog")
    assert folder.samples == (
        Sample(str(tmp_path / "cat" / "000.png"), 0),
        Sample(str(tmp_path / "dog" / "000.png"), 1),
        Sample(str(tmp_path / "dog" / "001.png"), 1),
    )


def test_eval_labels_follow_the_training_classes(tmp_path):
    write_folder(tmp_path, {"b": 1})
    assert scan_image_folder(tmp_path, classes=("a", "b")).samples == (
        Sample(str(tmp_path / "b" / "000.png"), 1),
    )
    with pytest.raises(TrainerError, match=r"class folder\(s\) b are not among the training classes x, y"):
        scan_image_folder(tmp_path, classes=("x", "y"))


def test_no_class_folders(tmp_path):
    write_png(tmp_path / "loose.png", 1)
    with pytest.raises(TrainerError, match=r"no class folders; expected .*/<class name>/<image files>"):
        scan_image_folder(tmp_path)


def test_empty_class_is_named(tmp_path):
    write_folder(tmp_path, {"a": 2})
    (tmp_path / "empty").mkdir()
    with pytest.raises(TrainerError, match=r"/empty: class folder has no images"):
        scan_image_folder(tmp_path)


def test_unreadable_image_is_named(tmp_path):
    bad = tmp_path / "a" / "broken.png"
    bad.parent.mkdir()
    bad.write_bytes(b"\x89PNG\r\n\x1a\n but then garbage")
    with pytest.raises(
        TrainerError, match=r"broken.png: not a readable image \(.*\); replace or remove the file$"
    ):
        decode_image(str(bad))
    good = write_png(tmp_path / "a" / "good.png", 7, size=5)
    image = decode_image(str(good))
    assert image.shape == (5, 5, 3) and image.dtype == np.uint8


def test_shards_are_disjoint_interleaved_and_equal_length():
    samples = [Sample(f"{i}.png", i % 3) for i in range(7)]
    assert shard_samples(samples, 0, 2) == tuple(samples[0:6:2])
    assert shard_samples(samples, 1, 2) == tuple(samples[1:7:2])
    assert shard_samples(samples, 0, 1) == tuple(samples)
    with pytest.raises(TrainerError, match="the dataset has 1 images, fewer than the 2 ranks"):
        shard_samples(samples[:1], 1, 2)


def test_eval_resize_keeps_the_recipe_ratio():
    assert eval_resize(224, 224) == (256, 256)
    assert eval_resize(32, 64) == (37, 73)


def test_demo_split_is_deterministic_and_disjoint():
    labels = np.array([0, 1, 0, 0, 1, 2, 0, 1])
    split = split_indices(labels, ("0", "1"), 2)
    assert split == {"train": {"0": [2, 6], "1": [4]}, "eval": {"0": [0, 3], "1": [1, 7]}}
    assert parse_classes("0, 1,1") == ("0", "1")
    with pytest.raises(TrainerError, match="--classes '0,x': give at least two distinct digits"):
        parse_classes("0,x")
