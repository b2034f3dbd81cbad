"""Checkpoints: validated loading of pretrained weights, atomic saving, finding and pruning our own."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mnft_trainer.errors import TrainerError

HEAD_ENTRIES = ("head.1.weight", "head.1.bias")
CKPT_NAME = re.compile(r"^mobilenetv2_(\d+)\.ckpt$")
_LIST_LIMIT = 3


def read_checkpoint(path: str, flag: str = "--pretrain_ckpt") -> dict[str, Any]:
    """Every entry of a MindSpore checkpoint file, or a one-line error naming the file."""
    import mindspore as ms

    file = Path(path)
    if not file.is_file():
        raise TrainerError(f"{flag} {path}: file not found")
    try:
        entries = ms.load_checkpoint(str(file))
    except Exception:  # MindSpore raises ValueError/RuntimeError with multi-line text for any bad file
        raise TrainerError(f"{flag} {path}: not a MindSpore checkpoint (cannot be parsed)") from None
    if not entries:
        raise TrainerError(f"{flag} {path}: the checkpoint holds no entries")
    return dict(entries)


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in value.shape)


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:_LIST_LIMIT])
    return shown + (f" (and {len(items) - _LIST_LIMIT} more)" if len(items) > _LIST_LIMIT else "")


def check_entries(
    entries: Mapping[str, Any], expected: Mapping[str, tuple[int, ...]], path: str, what: str
) -> None:
    """Raise naming the first missing or mis-shaped entries among `expected` (name -> shape)."""
    missing = [name for name in expected if name not in entries]
    if missing:
        raise TrainerError(
            f"{path}: checkpoint lacks {len(missing)} of {len(expected)} {what} entries: {_names(missing)}; "
            "is it a MobileNetV2 checkpoint?"
        )
    wrong = [
        f"{name} has shape {list(_shape(entries[name]))}, expected {list(shape)}"
        for name, shape in expected.items()
        if _shape(entries[name]) != shape
    ]
    if wrong:
        raise TrainerError(f"{path}: wrong shapes in {what} entries: {_names(wrong)}")


def load_pretrained(
    backbone: Any,
    head: Any,
    path: str,
    log: Callable[[str], None],
    require_head: bool = False,
    allow_head: bool = True,
) -> bool:
    """Load every backbone entry of `path`; the head only when its shape matches. Returns head loaded."""
    import mindspore as ms

    entries = read_checkpoint(path)
    backbone_shapes = {p.name: _shape(p) for p in backbone.get_parameters()}
    check_entries(entries, backbone_shapes, path, "backbone")
    head_shapes = {p.name: _shape(p) for p in head.get_parameters()}
    head_matches = allow_head and all(
        n in entries and _shape(entries[n]) == s for n, s in head_shapes.items()
    )
    chosen = {name: entries[name] for name in backbone_shapes}
    if head_matches:
        chosen.update({name: entries[name] for name in head_shapes})
    elif require_head:
        check_entries(entries, head_shapes, path, "head")
    elif not allow_head:
        log("--filter_head true: pretrained head not loaded, initialised fresh")
    else:
        found = list(_shape(entries["head.1.weight"])) if "head.1.weight" in entries else "no head"
        wanted = head_shapes["head.1.weight"][0]
        log(f"pretrained head {found} does not match {wanted} classes: head not loaded, initialised fresh")
    for target in (backbone, head) if head_matches else (backbone,):
        names = {p.name for p in target.get_parameters()}
        not_loaded, _ = ms.load_param_into_net(target, {k: v for k, v in chosen.items() if k in names})
        if not_loaded:
            raise TrainerError(f"{path}: could not load entries {_names(list(not_loaded))}")
    return head_matches


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def rank_dir(save_path: str, rank: int) -> Path:
    return Path(save_path) / f"ckpt_{rank}"


def list_checkpoints(directory: Path) -> list[tuple[int, Path]]:
    """(epoch, path) of `mobilenetv2_<epoch>.ckpt` files, oldest first."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        match = CKPT_NAME.match(path.name)
        if match and path.is_file():
            found.append((int(match.group(1)), path))
    return sorted(found)


def save_atomic(cell: Any, path: Path) -> None:
    """Write to a temporary file in the same directory and rename, so a kill never leaves a torn file."""
    import mindspore as ms

    _write_atomic(path, lambda tmp: ms.save_checkpoint(cell, str(tmp)))


def _write_atomic(path: Path, write: Callable[[Path], Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    write(tmp)
    os.replace(tmp, path)


def _written_bytes(entries: Any, scratch: Path) -> bytes:
    """What `mindspore.save_checkpoint(entries, ...)` writes, as bytes."""
    import mindspore as ms

    scratch.mkdir(parents=True, exist_ok=True)
    tmp = scratch / f".tmp-{os.getpid()}-part.ckpt"
    try:
        ms.save_checkpoint(entries, str(tmp))
        return tmp.read_bytes()
    finally:
        tmp.unlink(missing_ok=True)


class PrefixSaver:
    """`save_atomic(net, path)` for a network whose leading parameters never change (a frozen backbone).

    MindSpore writes a checkpoint as one serialized message per parameter, in the network's order, so
    the file is the unchanging parameters' bytes followed by the others'. The first part is
    serialized once, at the first save; each save serializes the changing parameters only (the head:
    0.1% of MobileNetV2's values; a whole save was ~50 ms of Python protobuf, as MindSpore forces its
    pure-Python implementation). Checked on the first save against `mindspore.save_checkpoint(net)`:
    unless the bytes are identical (the changing parameters not last, a MindSpore that writes
    otherwise), every save is the plain one. Callers must not change the unchanging parameters after
    the first save.
    """

    def __init__(self, net: Any, changing: Any, scratch: Path):
        self.net, self.scratch = net, scratch
        params = list(net.get_parameters())
        moving = {id(p) for p in changing.get_parameters()}
        self._fixed = [{"name": p.name, "data": p} for p in params if id(p) not in moving]
        self._changing = [{"name": p.name, "data": p} for p in params if id(p) in moving]
        tail = params[len(self._fixed) :]
        self._ordered = bool(self._changing) and all(id(p) in moving for p in tail)
        self._prefix: bytes | None = None
        self._checked = False

    @property
    def incremental(self) -> bool:
        """Whether saves write the cached prefix (checked on first use, against the plain save)."""
        return self._cached_prefix() is not None

    def _cached_prefix(self) -> bytes | None:
        if not self._checked:
            self._checked = True
            if self._ordered:
                prefix = _written_bytes(self._fixed, self.scratch)
                whole = _written_bytes(self.net, self.scratch)
                if prefix + _written_bytes(self._changing, self.scratch) == whole:
                    self._prefix = prefix
        return self._prefix

    def save(self, path: Path) -> None:
        prefix = self._cached_prefix()
        if prefix is None:
            save_atomic(self.net, path)
            return
        data = prefix + _written_bytes(self._changing, self.scratch)

        def write(tmp: Path) -> None:
            tmp.write_bytes(data)
            os.chmod(tmp, stat.S_IRUSR)  # as mindspore.save_checkpoint leaves its files

        _write_atomic(path, write)


def prune_checkpoints(directory: Path, keep: int) -> list[Path]:
    """Delete the oldest checkpoints beyond `keep`; returns what was deleted."""
    existing = list_checkpoints(directory)
    doomed = [path for _, path in existing[: max(0, len(existing) - keep)]]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed
