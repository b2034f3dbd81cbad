"""Recipe configuration: r1.2 defaults, file/CLI precedence, one-line errors; the r1.2 LR schedule."""

from typing import Any

import numpy as np
import pytest

from mnft_trainer.config import (
    PLATFORM_DEFAULTS,
    RecipeConfig,
    convert_value,
    load_config_file,
    parse_bool,
    resolve_config,
)
from mnft_trainer.errors import TrainerError
from mnft_trainer.lr_schedule import get_lr

COMMON: dict[str, Any] = {
    "num_classes": None,
    "image_height": 224,
    "image_width": 224,
    "momentum": 0.9,
    "weight_decay": 4e-5,
    "label_smooth": 0.1,
    "loss_scale": 1024.0,
    "save_checkpoint": True,
    "save_checkpoint_epochs": 1,
    "save_checkpoint_path": "./checkpoint",
    "lr_init": 0.0,
    # r1.2 src/dataset.py's train transforms
    "crop_scale_min": 0.08,
    "crop_scale_max": 1.0,
    "crop_ratio_min": 0.75,
    "crop_ratio_max": 1.333,
    "flip_prob": 0.5,
    "color_jitter": 0.4,
}


def test_platform_defaults_are_the_r12_recipe():
    assert resolve_config("CPU", {}, {}) == RecipeConfig(
        platform="CPU",
        **COMMON,
        batch_size=150,
        epoch_size=15,
        warmup_epochs=0,
        lr_end=0.03,
        lr_max=0.03,
        keep_checkpoint_max=20,
    )
    assert resolve_config("GPU", {}, {}) == RecipeConfig(
        platform="GPU",
        **COMMON,
        batch_size=150,
        epoch_size=200,
        warmup_epochs=0,
        lr_end=0.0,
        lr_max=0.8,
        keep_checkpoint_max=200,
    )
    assert resolve_config("Ascend", {}, {}) == RecipeConfig(
        platform="Ascend",
        **COMMON,
        batch_size=256,
        epoch_size=200,
        warmup_epochs=4,
        lr_end=0.0,
        lr_max=0.4,
        keep_checkpoint_max=200,
    )


def test_cli_wins_over_file_which_wins_over_defaults():
    cfg = resolve_config("CPU", {"batch_size": 16, "epoch_size": 3}, {"batch_size": 8, "num_classes": None})
    assert (cfg.batch_size, cfg.epoch_size, cfg.lr_max) == (8, 3, 0.03)


def test_config_file_values_are_converted_and_unknown_keys_named(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("batch_size: 32\nlr_max: '0.1'\nsave_checkpoint: 'false'\nplatform: CPU\n")
    assert load_config_file(str(good)) == {"batch_size": 32, "lr_max": 0.1, "save_checkpoint": False}
    bad = tmp_path / "bad.yaml"
    bad.write_text("batch_size: 32\nbatchsize: 4\n")
    with pytest.raises(TrainerError, match=r"bad.yaml: unknown key\(s\) batchsize; valid keys: num_classes"):
        load_config_file(str(bad))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- a\n- b\n", "expected a mapping of recipe keys, got list"),
        ("batch_size: [1\n", "not valid YAML at line"),
        ("batch_size: many\n", "batch_size: expected an integer, got 'many'"),
    ],
)
def test_bad_config_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "c.yaml"
    path.write_text(content)
    with pytest.raises(TrainerError, match=message):
        load_config_file(str(path))
    with pytest.raises(TrainerError, match=r"missing\.yaml: file not found"):
        load_config_file(str(tmp_path / "missing.yaml"))


def test_value_conversion():
    assert convert_value("batch_size", "32", "--") == 32
    assert convert_value("epoch_size", 3.0, "--") == 3
    assert convert_value("lr_max", "1e-3", "--") == 0.001
    assert convert_value("save_checkpoint", "False", "--") is False
    assert convert_value("save_checkpoint_path", "/out", "--") == "/out"
    with pytest.raises(TrainerError, match=r"-- batch_size: expected an integer, got '3\.5'"):
        convert_value("batch_size", "3.5", "--")
    with pytest.raises(TrainerError, match="expected true or false, got 'maybe'"):
        parse_bool("maybe", "--run_eval")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"batch_size": 0}, "batch_size: must be a positive integer, got 0"),
        ({"num_classes": 1}, "num_classes: must be at least 2"),
        ({"warmup_epochs": 20}, r"warmup_epochs: must be between 0 and epoch_size \(15\)"),
        ({"label_smooth": 1.0}, r"label_smooth: must be in \[0, 1\)"),
    ],
)
def test_out_of_range_values(values, message):
    with pytest.raises(TrainerError, match=message):
        resolve_config("CPU", {}, values)
    with pytest.raises(TrainerError, match="--platform: expected one of CPU, GPU, Ascend"):
        resolve_config("TPU", {}, {})


def test_cpu_schedule_is_constant_and_ascend_warms_up_then_cosine():
    assert get_lr(0, 0.0, 0.03, 0.03, 0, 2, 3).tolist() == pytest.approx([0.03] * 6)
    lr = get_lr(0, 0.0, 0.0, 0.4, 1, 3, 2)
    expected = [0.0, 0.2, 0.4, 0.4 * (1 + np.cos(np.pi / 4)) / 2, 0.2, 0.4 * (1 + np.cos(3 * np.pi / 4)) / 2]
    assert lr.dtype == np.float32
    assert lr.tolist() == pytest.approx(expected, rel=1e-6)
    assert get_lr(4, 0.0, 0.0, 0.4, 1, 3, 2).tolist() == pytest.approx(expected[4:], rel=1e-6)


def test_platform_defaults_table_is_not_mutated_by_resolving():
    before = {k: dict(v) for k, v in PLATFORM_DEFAULTS.items()}
    resolve_config("CPU", {"batch_size": 3}, {"epoch_size": 2})
    assert before == PLATFORM_DEFAULTS


def test_augmentation_keys_from_file_and_cli():
    cfg = resolve_config(
        "CPU",
        {"crop_scale_min": 0.6, "flip_prob": 0.0},
        {"crop_ratio_min": convert_value("crop_ratio_min", "0.85", "--"), "color_jitter": 0.0},
    )
    assert (cfg.crop_scale_min, cfg.crop_scale_max, cfg.crop_ratio_min, cfg.crop_ratio_max) == (
        0.6,
        1.0,
        0.85,
        1.333,
    )
    assert (cfg.flip_prob, cfg.color_jitter) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"crop_scale_min": 0.0},
            r"^crop_scale_min/crop_scale_max: need 0 < min <= max <= 1, got 0.0 and 1.0$",
        ),
        ({"crop_scale_min": 0.9, "crop_scale_max": 0.5}, r"got 0.9 and 0.5$"),
        ({"crop_scale_max": 1.5}, r"^crop_scale_min/crop_scale_max: .* got 0.08 and 1.5$"),
        (
            {"crop_ratio_min": 2.0},
            r"^crop_ratio_min/crop_ratio_max: need 0 < min <= max <= 10, got 2.0 and 1.333$",
        ),
        ({"flip_prob": 1.5}, r"^flip_prob: must be in \[0, 1\], got 1.5$"),
        ({"color_jitter": -0.1}, r"^color_jitter: must be in \[0, 1\] \(0: no jitter\), got -0.1$"),
    ],
)
def test_augmentation_bounds_are_one_line_naming_the_keys(values, message):
    with pytest.raises(TrainerError, match=message):
        resolve_config("CPU", {}, values)
