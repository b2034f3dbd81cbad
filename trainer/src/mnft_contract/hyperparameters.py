"""The recipe's hyperparameters: one table for the CRD (`spec.hyperparameters.<field>`, its schema and
CEL rules are generated from it), the operator's validation, the flags `mnft launch train` gets
(`--<key> V`) and the trainer's `--<key>` options, YAML keys and per-platform defaults.

Keys are MindSpore r1.2's `src/config.py` names (snake_case); fields are the same in camelCase. Bounds are
the CRD's; the trainer checks them too. Defaults are r1.2's per platform: CPU lr 0.03 constant (lr_end ==
lr_max), GPU 0.8 cosine, Ascend 0.4 with 4 warmup epochs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

PLATFORMS = ("CPU", "GPU", "Ascend")


@dataclasses.dataclass(frozen=True)
class Hyperparameter:
    field: str  # camelCase: spec.hyperparameters.<field>
    key: str  # snake_case: the trainer's --<key> and YAML key
    type: type  # int, float, bool or str
    description: str  # the CRD's description
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    defaults: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # platform -> the trainer's default
    in_crd: bool = True  # False: the operator renders it from another field (save_checkpoint_path)

    def bound_error(self, value: float) -> str | None:
        """Why `value` is outside the bounds ("must be at least 1, not 0"), or None."""
        if self.minimum is not None:
            if self.exclusive_minimum and value <= self.minimum:
                return f"must be greater than {_num(self.minimum)}, not {_num(value)}"
            if value < self.minimum:
                return f"must be at least {_num(self.minimum)}, not {_num(value)}"
        if self.maximum is not None:
            if self.exclusive_maximum and value >= self.maximum:
                return f"must be less than {_num(self.maximum)}, not {_num(value)}"
            if value > self.maximum:
                return f"must be at most {_num(self.maximum)}, not {_num(value)}"
        return None


def _num(value: float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _all(value: Any) -> dict[str, Any]:
    return dict.fromkeys(PLATFORMS, value)


def _per(cpu: Any, gpu: Any, ascend: Any) -> dict[str, Any]:
    return {"CPU": cpu, "GPU": gpu, "Ascend": ascend}


# In the CRD's order (also the order `mnft launch train` gets the flags in).
# fmt: off
TABLE: tuple[Hyperparameter, ...] = (
    # num_classes None: the number of class folders
    Hyperparameter("numClasses", "num_classes", int, "Number of classes of the new head (num_classes).",
                   2, 100000, defaults=_all(None)),
    Hyperparameter("imageHeight", "image_height", int, "Input image height in pixels (image_height).",
                   32, 1024, defaults=_all(224)),
    Hyperparameter("imageWidth", "image_width", int, "Input image width in pixels (image_width).",
                   32, 1024, defaults=_all(224)),
    Hyperparameter("batchSize", "batch_size", int, "Per-device batch size (batch_size).",
                   1, 4096, defaults=_per(150, 150, 256)),
    Hyperparameter("epochSize", "epoch_size", int, "Number of training epochs (epoch_size).",
                   1, 10000, defaults=_per(15, 200, 200)),
    Hyperparameter("warmupEpochs", "warmup_epochs", int,
                   "Epochs of linear learning-rate warm-up (warmup_epochs).", 0, 10000,
                   defaults=_per(0, 0, 4)),
    Hyperparameter("lrInit", "lr_init", float, "Learning rate at the start of the warm-up (lr_init).",
                   0, 100, defaults=_all(0.0)),
    Hyperparameter("lrMax", "lr_max", float, "Peak learning rate of the cosine schedule (lr_max).",
                   0, 100, exclusive_minimum=True, defaults=_per(0.03, 0.8, 0.4)),
    Hyperparameter("lrEnd", "lr_end", float, "Final learning rate of the cosine schedule (lr_end).",
                   0, 100, defaults=_per(0.03, 0.0, 0.0)),
    Hyperparameter("momentum", "momentum", float, "Momentum of the optimizer (momentum).",
                   0, 1, defaults=_all(0.9)),
    Hyperparameter("weightDecay", "weight_decay", float, "Weight decay (weight_decay).",
                   0, 1, defaults=_all(4e-5)),
    Hyperparameter("labelSmooth", "label_smooth", float, "Label smoothing factor (label_smooth).",
                   0, 1, exclusive_maximum=True, defaults=_all(0.1)),
    Hyperparameter("lossScale", "loss_scale", float, "Static loss scale (loss_scale).",
                   1, 16777216, defaults=_all(1024.0)),
    Hyperparameter("saveCheckpoint", "save_checkpoint", bool,
                   "Write checkpoints (save_checkpoint); false: only summary.json.", defaults=_all(True)),
    Hyperparameter("saveCheckpointEpochs", "save_checkpoint_epochs", int,
                   "Save a checkpoint every this many epochs (save_checkpoint_epochs).", 1, 10000,
                   defaults=_all(1)),
    Hyperparameter("keepCheckpointMax", "keep_checkpoint_max", int,
                   "Keep at most this many checkpoints per rank (keep_checkpoint_max).", 1, 10000,
                   defaults=_per(20, 200, 200)),
    # The operator renders it from spec.output (`--save_checkpoint_path /mnt/output/<path>`).
    Hyperparameter("saveCheckpointPath", "save_checkpoint_path", str, "Checkpoint directory.",
                   defaults=_all("./checkpoint"), in_crd=False),
    # The train transforms (r1.2 src/dataset.py, hard-coded there): RandomCropDecodeResize's scale and
    # ratio ranges, RandomHorizontalFlip's probability, RandomColorAdjust's brightness = contrast =
    # saturation strength. r1.2's values (ImageNet's) are the defaults.
    Hyperparameter("cropScaleMin", "crop_scale_min", float,
                   "Smallest random crop, as a fraction of the image area (crop_scale_min; r1.2: 0.08).",
                   0, 1, exclusive_minimum=True, defaults=_all(0.08)),
    Hyperparameter("cropScaleMax", "crop_scale_max", float,
                   "Largest random crop, as a fraction of the image area (crop_scale_max; r1.2: 1.0).",
                   0, 1, exclusive_minimum=True, defaults=_all(1.0)),
    Hyperparameter("cropRatioMin", "crop_ratio_min", float,
                   "Smallest aspect ratio of the random crop (crop_ratio_min; r1.2: 0.75).",
                   0, 10, exclusive_minimum=True, defaults=_all(0.75)),
    Hyperparameter("cropRatioMax", "crop_ratio_max", float,
                   "Largest aspect ratio of the random crop (crop_ratio_max; r1.2: 1.333).",
                   0, 10, exclusive_minimum=True, defaults=_all(1.333)),
    Hyperparameter("flipProb", "flip_prob", float,
                   "Probability of a horizontal flip (flip_prob; r1.2: 0.5; 0: none).", 0, 1,
                   defaults=_all(0.5)),
    Hyperparameter("colorJitter", "color_jitter", float,
                   "Brightness, contrast and saturation jitter strength (color_jitter; r1.2: 0.4; 0: none).",
                   0, 1, defaults=_all(0.4)),
)
# fmt: on

BY_FIELD: dict[str, Hyperparameter] = {h.field: h for h in TABLE}
BY_KEY: dict[str, Hyperparameter] = {h.key: h for h in TABLE}

# (low, high): when both are set, low must not exceed high (CRD CEL rules and spec validation).
ORDERED_PAIRS: tuple[tuple[str, str], ...] = (
    ("warmupEpochs", "epochSize"),
    ("lrEnd", "lrMax"),
    ("cropScaleMin", "cropScaleMax"),
    ("cropRatioMin", "cropRatioMax"),
)


def platform_defaults(platform: str) -> dict[str, Any]:
    """Every key's default on `platform` (KeyError for an unknown platform), in table order."""
    return {h.key: h.defaults[platform] for h in TABLE}


def flag_value(value: int | float | bool | str) -> str:
    """A value as `mnft launch train` gets it on the command line: `true`/`false`, else str()."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def pair_error(values: Mapping[str, Any], low: str, high: str) -> str | None:
    """`must not exceed <high>` when both fields are in `values` (camelCase) and low > high."""
    if low in values and high in values and values[low] > values[high]:
        return f"must not exceed {high}"
    return None
