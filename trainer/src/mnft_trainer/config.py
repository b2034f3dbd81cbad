"""Recipe configuration: r1.2 per-platform defaults, overridden by a YAML file, overridden by the CLI.

Keys, types, bounds and defaults come from the contract's table (`mnft_contract.hyperparameters`).

Pure functions only; `cli.py` does the argument parsing and calls `resolve_config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mnft_contract import hyperparameters
from mnft_trainer.errors import TrainerError

PLATFORMS = hyperparameters.PLATFORMS

# Recipe key -> type, in the contract's table order (mnft_contract.hyperparameters, shared with the CRD).
RECIPE_KEYS: dict[str, type] = {h.key: h.type for h in hyperparameters.TABLE}

# r1.2 src/config.py's defaults per platform (num_classes None: the number of class folders).
PLATFORM_DEFAULTS: dict[str, dict[str, Any]] = {p: hyperparameters.platform_defaults(p) for p in PLATFORMS}

_POSITIVE = (
    "image_height",
    "image_width",
    "batch_size",
    "epoch_size",
    "save_checkpoint_epochs",
    "keep_checkpoint_max",
)


@dataclass(frozen=True)
class RecipeConfig:
    platform: str
    num_classes: int | None
    image_height: int
    image_width: int
    batch_size: int
    epoch_size: int
    warmup_epochs: int
    lr_init: float
    lr_end: float
    lr_max: float
    momentum: float
    weight_decay: float
    label_smooth: float
    loss_scale: float
    save_checkpoint: bool
    save_checkpoint_epochs: int
    keep_checkpoint_max: int
    save_checkpoint_path: str
    crop_scale_min: float
    crop_scale_max: float
    crop_ratio_min: float
    crop_ratio_max: float
    flip_prob: float
    color_jitter: float


def parse_bool(text: str, field: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise TrainerError(f"{field}: expected true or false, got {text!r}")


def convert_value(key: str, value: Any, source: str) -> Any:
    """Convert one recipe value (CLI text or YAML scalar) to the key's type, or raise naming the key."""
    kind = RECIPE_KEYS[key]
    field = f"{source} {key}"
    if value is None:
        if key == "num_classes":
            return None
        raise TrainerError(f"{field}: a value is required")
    if kind is bool:
        if isinstance(value, bool):
            return value
        return parse_bool(str(value), field)
    if kind is str:
        if not isinstance(value, str | int | float) or isinstance(value, bool) or str(value) == "":
            raise TrainerError(f"{field}: expected a path, got {value!r}")
        return str(value)
    try:
        if isinstance(value, bool):
            raise ValueError
        if kind is int:
            as_float = float(value)
            if not as_float.is_integer():
                raise ValueError
            return int(as_float)
        return float(value)
    except (TypeError, ValueError):
        raise TrainerError(
            f"{field}: expected {'an integer' if kind is int else 'a number'}, got {value!r}"
        ) from None


def load_config_file(path: str) -> dict[str, Any]:
    """Read a recipe YAML file: a mapping of r1.2 keys (unknown keys are an error naming them)."""
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text())
    except FileNotFoundError:
        raise TrainerError(f"--config {path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TrainerError(f"--config {path}: cannot read it ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise TrainerError(f"--config {path}: not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TrainerError(f"--config {path}: expected a mapping of recipe keys, got {type(data).__name__}")
    ignored = {"platform", "dataset_path", "pretrain_ckpt", "freeze_layer", "run_eval", "feature_cache_dir"}
    unknown = sorted(str(k) for k in data if k not in RECIPE_KEYS and k not in ignored)
    if unknown:
        raise TrainerError(
            f"--config {path}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(RECIPE_KEYS)}"
        )
    return {k: convert_value(k, v, f"--config {path}:") for k, v in data.items() if k in RECIPE_KEYS}


def resolve_config(
    platform: str, file_values: Mapping[str, Any], cli_values: Mapping[str, Any]
) -> RecipeConfig:
    """Platform defaults < config file < command line. Values must already be converted."""
    if platform not in PLATFORMS:
        raise TrainerError(f"--platform: expected one of {', '.join(PLATFORMS)}, got {platform!r}")
    merged = dict(PLATFORM_DEFAULTS[platform])
    merged.update(file_values)
    merged.update({k: v for k, v in cli_values.items() if v is not None})
    for key in _POSITIVE:
        if merged[key] <= 0:
            raise TrainerError(f"{key}: must be a positive integer, got {merged[key]}")
    if merged["num_classes"] is not None and merged["num_classes"] < 2:
        raise TrainerError(f"num_classes: must be at least 2, got {merged['num_classes']}")
    if merged["warmup_epochs"] < 0 or merged["warmup_epochs"] > merged["epoch_size"]:
        raise TrainerError(f"warmup_epochs: must be between 0 and epoch_size ({merged['epoch_size']})")
    if not 0 <= merged["label_smooth"] < 1:
        raise TrainerError(f"label_smooth: must be in [0, 1), got {merged['label_smooth']}")
    if merged["loss_scale"] <= 0:
        raise TrainerError(f"loss_scale: must be positive, got {merged['loss_scale']}")
    for message in augmentation_errors(merged) + bound_errors(merged):
        raise TrainerError(message)
    return RecipeConfig(platform=platform, **merged)


def bound_errors(values: Mapping[str, Any]) -> list[str]:
    """The contract's bounds (the CRD's), for values that reach the trainer without the CRD."""
    out = []
    for key, value in values.items():
        h = hyperparameters.BY_KEY[key]
        problem = None if value is None or h.type not in (int, float) else h.bound_error(value)
        if problem is not None:
            out.append(f"{key}: {problem}")
    return out


def augmentation_errors(values: Mapping[str, Any]) -> list[str]:
    """The bounds of the augmentation keys (MindSpore's RandomResizedCrop, RandomHorizontalFlip and
    RandomColorAdjust reject the rest with multi-line text)."""
    out = []
    lo, hi = values["crop_scale_min"], values["crop_scale_max"]
    if not 0 < lo <= hi <= 1:
        out.append(f"crop_scale_min/crop_scale_max: need 0 < min <= max <= 1, got {lo} and {hi}")
    lo, hi = values["crop_ratio_min"], values["crop_ratio_max"]
    if not 0 < lo <= hi <= 10:
        out.append(f"crop_ratio_min/crop_ratio_max: need 0 < min <= max <= 10, got {lo} and {hi}")
    if not 0 <= values["flip_prob"] <= 1:
        out.append(f"flip_prob: must be in [0, 1], got {values['flip_prob']}")
    if not 0 <= values["color_jitter"] <= 1:
        out.append(f"color_jitter: must be in [0, 1] (0: no jitter), got {values['color_jitter']}")
    return out
