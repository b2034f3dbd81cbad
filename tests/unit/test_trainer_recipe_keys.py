"""Every r1.2 recipe key reaches the trainer from the CRD; augmentation, weight decay and the pure parts
of distributed eval (confusion counts, eval shards) and of the rank-log filter."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest

from mnft_operator.builders.pods import train_command
from mnft_operator.crd_spec import HYPERPARAMETERS
from mnft_operator.spec import SpecError, parse, validate
from mnft_trainer.config import RECIPE_KEYS, resolve_config
from mnft_trainer.data import Augmentation, ImageFolder, Sample
from mnft_trainer.distributed import DistContext, end_of_epoch, sum_over_ranks
from mnft_trainer.metrics import accuracy as accuracy_of
from mnft_trainer.metrics import confusion_matrix as confusion
from mnft_trainer.pod.launch import drops_mindspore_info
from mnft_trainer.split_eval import eval_part
from mnft_trainer.training import decays_weight

# The operator sets the output path itself; every other key is a hyperparameter.
OPERATOR_SET = {"save_checkpoint_path"}


def camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


def job(hp: Mapping[str, object]) -> dict[str, object]:
    spec = {"platform": "CPU", "image": "i", "dataset": {"path": "/d"}, "hyperparameters": hp}
    return {"metadata": {"name": "j", "namespace": "ml", "uid": "u"}, "spec": spec}


def test_every_recipe_key_is_a_crd_hyperparameter_and_nothing_else_is():
    assert {camel(k) for k in RECIPE_KEYS if k not in OPERATOR_SET} == set(HYPERPARAMETERS)


def test_new_keys_render_as_the_trainer_flags_and_parse_back():
    hp = {
        "lrInit": 0.001,
        "saveCheckpoint": False,
        "cropScaleMin": 0.6,
        "cropScaleMax": 1,
        "cropRatioMin": 0.85,
        "cropRatioMax": 1.18,
        "flipProb": 0,
        "colorJitter": 0.2,
    }
    cmd = train_command(parse(job(hp)))
    rendered = cmd[cmd.index("/mnt/output/checkpoint") + 1 : -2]
    assert rendered == [
        *("--lr_init", "0.001", "--save_checkpoint", "false", "--crop_scale_min", "0.6"),
        *("--crop_scale_max", "1", "--crop_ratio_min", "0.85", "--crop_ratio_max", "1.18"),
        *("--flip_prob", "0", "--color_jitter", "0.2"),
    ]
    from mnft_trainer.cli import config_from_args, train_parser

    args = train_parser().parse_args(cmd[cmd.index("train") + 1 :])
    cfg = config_from_args(args)
    assert (cfg.lr_init, cfg.save_checkpoint, cfg.flip_prob, cfg.color_jitter) == (0.001, False, 0.0, 0.2)
    assert Augmentation.from_config(cfg) == Augmentation((0.6, 1.0), (0.85, 1.18), 0.0, 0.2)


@pytest.mark.parametrize(
    ("hp", "error"),
    [
        (
            {"cropScaleMin": 0},
            SpecError("spec.hyperparameters.cropScaleMin", "must be greater than 0, not 0"),
        ),
        ({"cropScaleMax": 1.5}, SpecError("spec.hyperparameters.cropScaleMax", "must be at most 1, not 1.5")),
        ({"flipProb": -0.5}, SpecError("spec.hyperparameters.flipProb", "must be at least 0, not -0.5")),
        ({"colorJitter": 2}, SpecError("spec.hyperparameters.colorJitter", "must be at most 1, not 2")),
        (
            {"cropScaleMin": 0.9, "cropScaleMax": 0.5},
            SpecError("spec.hyperparameters.cropScaleMin", "must not exceed cropScaleMax"),
        ),
        (
            {"cropRatioMin": 2, "cropRatioMax": 1.5},
            SpecError("spec.hyperparameters.cropRatioMin", "must not exceed cropRatioMax"),
        ),
    ],
)
def test_augmentation_bounds_in_the_spec(hp, error):
    assert validate(job(hp)) == [error]


def test_defaults_keep_the_r12_transforms():
    assert Augmentation.from_config(resolve_config("CPU", {}, {})) == Augmentation()
    assert Augmentation() == Augmentation((0.08, 1.0), (0.75, 1.333), 0.5, 0.4)


def test_weight_decay_as_r12_all_but_batchnorm_gamma_and_beta():
    names = ["features.0.features.0.weight", "features.0.features.1.gamma", "features.0.features.1.beta"]
    names += ["head.1.weight", "head.1.bias"]
    assert [decays_weight(n) for n in names] == [True, False, False, True, True]


def test_confusion_counts_and_accuracy():
    matrix = confusion(np.array([0, 0, 1, 2, 2]), np.array([0, 1, 1, 2, 0]), 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]
    assert accuracy_of(matrix) == 3 / 5
    assert accuracy_of(np.zeros((3, 3), dtype=np.int64)) == 0.0
    # one rank: nothing to sum, no collective
    assert sum_over_ranks(matrix, 1) is matrix
    assert end_of_epoch(None, 0.25, 1) == 0.25


def test_eval_parts_cover_the_split_once():
    folder = ImageFolder("r", ("a", "b"), tuple(Sample(f"{i}.png", i % 2) for i in range(7)))
    parts = [
        eval_part(folder, DistContext(rank=r, group_size=3, device_id=None, distributed=True))
        for r in range(3)
    ]
    assert [len(p) for p in parts] == [3, 2, 2]
    assert sorted(s.path for p in parts for s in p) == sorted(s.path for s in folder.samples)


INFO = (
    "[INFO] DISTRIBUTED(10326,7f6ee7fff6c0,python):2026-12-01-20:57:59.861.924 "
    "[mindspore/ccsrc/cluster/rpc/core/communicator/tcp_client.cc:367] Start] Event base dispatch success!"
)


@pytest.mark.parametrize(
    ("glog_v", "line", "dropped"),
    [
        ("3", INFO, True),
        ("2", INFO, True),
        ("1", INFO, False),  # asked for INFO: shown
        ("3", INFO.replace("[INFO] DISTRIBUTED(", "[DEBUG] ME("), True),
        ("0", INFO.replace("[INFO] DISTRIBUTED(", "[DEBUG] ME("), False),
        ("3", INFO.replace("[INFO]", "[WARNING]"), False),  # warnings and errors always pass
        ("3", INFO.replace("[INFO]", "[ERROR]"), False),
        ("3", "[INFO] a line of the trainer's own", False),
        ("3", "epoch[1/6], iter[22] cost: 1.000 ms, per step time: 1.000 ms, avg loss: 1.234", False),
        ("not a number", INFO, True),  # MindSpore's default level, WARNING
    ],
)
def test_mindspore_info_lines_are_dropped_below_glog_v(glog_v, line, dropped):
    assert drops_mindspore_info(glog_v)(line) is dropped


def test_examples_with_eval_point_at_the_split_root_not_at_train():
    from pathlib import Path

    import yaml

    examples = Path(__file__).resolve().parents[2] / "manifests" / "examples"
    checked = 0
    for path in sorted(examples.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "MobileNetFineTune":
                spec = doc["spec"]
                if spec.get("eval", {}).get("enabled", True):
                    assert not spec["dataset"]["path"].rstrip("/").endswith("train"), path.name
                    checked += 1
    assert checked >= 6


def test_filter_head_renders_only_when_asked():
    base = job({})
    base["spec"]["pretrained"] = {"checkpoint": "/c.ckpt"}  # type: ignore[index]
    assert "--filter_head" not in train_command(parse(base))
    base["spec"]["pretrained"]["filterHead"] = True  # type: ignore[index]
    cmd = train_command(parse(base))
    assert cmd[cmd.index("--freeze_layer") : cmd.index("--freeze_layer") + 4] == [
        "--freeze_layer",
        "none",
        "--filter_head",
        "true",
    ]
