"""Real MindSpore: our network's checkpoint layout, the shared official checkpoint, save/reload, bad files."""

import json

import numpy as np
import pytest

from mnft_trainer.checkpoint import (
    list_checkpoints,
    load_pretrained,
    prune_checkpoints,
    read_checkpoint,
    save_atomic,
)
from mnft_trainer.errors import TrainerError
from reference_data import OFFICIAL_CHECKPOINT, PARAM_LAYOUT

pytestmark = pytest.mark.slow
ms = pytest.importorskip("mindspore")
from mnft_trainer.network import build_network  # noqa: E402

LAYOUT = PARAM_LAYOUT
OFFICIAL = OFFICIAL_CHECKPOINT


@pytest.fixture(scope="module")
def net5():
    return build_network(5)


def entries_of(cell):
    return {p.name: p.asnumpy().copy() for p in cell.get_parameters()}


def test_saved_layout_equals_the_official_json(tmp_path):
    _, _, net = build_network(1000)
    path = tmp_path / "net.ckpt"
    save_atomic(net, path)
    saved = ms.load_checkpoint(str(path))
    reference = json.loads(LAYOUT.read_text())["parameters"]
    assert [(k, list(v.shape), str(v.dtype)) for k, v in saved.items()] == [
        (p["name"], p["shape"], "Float32") for p in reference
    ]
    assert [p.name for p in net.get_parameters()] == [p["name"] for p in reference]
    assert [p.requires_grad for p in net.get_parameters()] == [p["requires_grad"] for p in reference]


def test_official_checkpoint_loads_backbone_and_skips_a_mismatched_head(net5):
    backbone, head, _ = net5
    head_before = entries_of(head)
    logged: list[str] = []
    assert load_pretrained(backbone, head, str(OFFICIAL), logged.append) is False
    official = ms.load_checkpoint(str(OFFICIAL))
    loaded = entries_of(backbone)
    assert len(loaded) == 260
    for name, value in loaded.items():
        np.testing.assert_array_equal(value, official[name].asnumpy(), err_msg=name)
    assert logged == [
        "pretrained head [1000, 1280] does not match 5 classes: head not loaded, initialised fresh"
    ]
    for name, value in entries_of(head).items():
        np.testing.assert_array_equal(value, head_before[name])


def test_official_checkpoint_loads_the_head_when_classes_match():
    backbone, head, _ = build_network(1000)
    assert load_pretrained(backbone, head, str(OFFICIAL), print) is True
    official = ms.load_checkpoint(str(OFFICIAL))
    np.testing.assert_array_equal(head.head[1].weight.asnumpy(), official["head.1.weight"].asnumpy())


def test_save_and_reload_roundtrip(tmp_path, net5):
    net = net5[2]
    path = tmp_path / "ckpt_0" / "mobilenetv2_1.ckpt"
    save_atomic(net, path)
    assert [p.name for p in path.parent.iterdir()] == ["mobilenetv2_1.ckpt"]
    b2, h2, net2 = build_network(5)
    assert load_pretrained(b2, h2, str(path), print, require_head=True) is True
    original = entries_of(net)
    for name, value in entries_of(net2).items():
        np.testing.assert_array_equal(value, original[name], err_msg=name)


def _write_entries(path, entries):
    ms.save_checkpoint([{"name": k, "data": ms.Tensor(v)} for k, v in entries.items()], str(path))
    return str(path)


def test_missing_backbone_entries_are_named(tmp_path, net5):
    backbone, head, net = net5
    entries = entries_of(net)
    del entries["features.0.features.0.weight"]
    del entries["features.18.features.1.moving_mean"]
    path = _write_entries(tmp_path / "partial.ckpt", entries)
    with pytest.raises(TrainerError) as info:
        load_pretrained(backbone, head, path, print)
    assert str(info.value) == (
        f"{path}: checkpoint lacks 2 of 260 backbone entries: features.0.features.0.weight, "
        "features.18.features.1.moving_mean; is it a MobileNetV2 checkpoint?"
    )


def test_wrong_shapes_are_named(tmp_path, net5):
    backbone, head, net = net5
    entries = entries_of(net)
    entries["features.1.conv.1.weight"] = np.zeros((8, 32, 1, 1), np.float32)
    path = _write_entries(tmp_path / "shapes.ckpt", entries)
    with pytest.raises(TrainerError) as info:
        load_pretrained(backbone, head, path, print)
    assert str(info.value) == (
        f"{path}: wrong shapes in backbone entries: features.1.conv.1.weight has shape [8, 32, 1, 1], "
        "expected [16, 32, 1, 1]"
    )


def test_eval_requires_a_matching_head(tmp_path, net5):
    backbone, head, net = net5
    entries = entries_of(net)
    entries["head.1.weight"] = np.zeros((3, 1280), np.float32)
    path = _write_entries(tmp_path / "head3.ckpt", entries)
    with pytest.raises(TrainerError, match=r"head.1.weight has shape \[3, 1280\], expected \[5, 1280\]"):
        load_pretrained(backbone, head, path, print, require_head=True)


def test_not_a_checkpoint_and_missing_file(tmp_path):
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"this is not a checkpoint" * 40)
    with pytest.raises(TrainerError) as info:
        read_checkpoint(str(junk))
    assert str(info.value) == f"--pretrain_ckpt {junk}: not a MindSpore checkpoint (cannot be parsed)"
    with pytest.raises(TrainerError, match=r"^--pretrain_ckpt .*/none.ckpt: file not found$"):
        read_checkpoint(str(tmp_path / "none.ckpt"))


def test_list_and_prune_keep_the_newest(tmp_path):
    for epoch in (1, 2, 10, 3):
        (tmp_path / f"mobilenetv2_{epoch}.ckpt").write_bytes(b"x")
    (tmp_path / ".tmp-1-mobilenetv2_11.ckpt").write_bytes(b"x")
    (tmp_path / "mobilenetv2-1_5.ckpt").write_bytes(b"x")
    assert [e for e, _ in list_checkpoints(tmp_path)] == [1, 2, 3, 10]
    assert [p.name for p in prune_checkpoints(tmp_path, 2)] == ["mobilenetv2_1.ckpt", "mobilenetv2_2.ckpt"]
    assert [e for e, _ in list_checkpoints(tmp_path)] == [3, 10]
    assert (tmp_path / "mobilenetv2-1_5.ckpt").exists()


def test_prefix_saver_writes_what_mindspore_writes_as_the_head_trains(tmp_path):
    from mnft_trainer.checkpoint import PrefixSaver

    _, head, net = build_network(5)
    saver = PrefixSaver(net, head, tmp_path / "scratch")
    assert saver.incremental
    rng = np.random.default_rng(0)
    for step in range(2):  # the head changes between saves, as an epoch of the frozen path does
        for p in head.get_parameters():
            p.set_data(ms.Tensor(rng.standard_normal(p.shape).astype(np.float32)))
        saver.save(tmp_path / f"fast_{step}.ckpt")
        save_atomic(net, tmp_path / f"plain_{step}.ckpt")
        fast, plain = tmp_path / f"fast_{step}.ckpt", tmp_path / f"plain_{step}.ckpt"
        assert fast.read_bytes() == plain.read_bytes()
        assert fast.stat().st_mode == plain.stat().st_mode
    assert sorted(p.name for p in (tmp_path / "scratch").iterdir()) == []  # no part file left behind


def test_prefix_saver_falls_back_when_the_changing_parameters_are_not_last(tmp_path):
    from mnft_trainer.checkpoint import PrefixSaver

    backbone, _, net = build_network(5)
    saver = PrefixSaver(net, backbone, tmp_path)  # the backbone comes first in the file
    assert not saver.incremental
    saver.save(tmp_path / "a.ckpt")
    save_atomic(net, tmp_path / "b.ckpt")
    assert (tmp_path / "a.ckpt").read_bytes() == (tmp_path / "b.ckpt").read_bytes()
