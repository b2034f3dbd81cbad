"""Restarted ranks agree on the resume epoch: the newest one every rank's checkpoint directory holds."""

from __future__ import annotations

from pathlib import Path

from mnft_trainer.training import find_resume_point


def _touch(root: Path, rank: int, *epochs: int) -> None:
    directory = root / f"ckpt_{rank}"
    directory.mkdir(parents=True, exist_ok=True)
    for epoch in epochs:
        (directory / f"mobilenetv2_{epoch}.ckpt").write_bytes(b"x")


def test_one_rank_ahead_resumes_where_all_ranks_saved(tmp_path: Path):
    _touch(tmp_path, 0, 1, 2)
    _touch(tmp_path, 1, 1)  # killed before saving epoch 2
    assert find_resume_point(tmp_path / "ckpt_0", 5) == (1, tmp_path / "ckpt_0" / "mobilenetv2_1.ckpt")
    assert find_resume_point(tmp_path / "ckpt_1", 5) == (1, tmp_path / "ckpt_1" / "mobilenetv2_1.ckpt")


def test_all_ranks_saved_resumes_at_the_newest_and_ignores_later_epochs(tmp_path: Path):
    _touch(tmp_path, 0, 1, 2, 9)
    _touch(tmp_path, 1, 1, 2, 9)
    assert find_resume_point(tmp_path / "ckpt_1", 5) == (2, tmp_path / "ckpt_1" / "mobilenetv2_2.ckpt")


def test_no_common_epoch_starts_over_on_every_rank(tmp_path: Path):
    _touch(tmp_path, 0, 3)  # keep_checkpoint_max 1 already dropped epoch 2
    _touch(tmp_path, 1, 2)
    assert find_resume_point(tmp_path / "ckpt_0", 5) is None
    assert find_resume_point(tmp_path / "ckpt_1", 5) is None
    assert find_resume_point(tmp_path / "ckpt_2", 5) is None  # a rank with nothing saved


def test_single_rank_uses_its_own_newest(tmp_path: Path):
    _touch(tmp_path, 0, 1, 2, 3)
    assert find_resume_point(tmp_path / "ckpt_0", 3) == (3, tmp_path / "ckpt_0" / "mobilenetv2_3.ckpt")
