"""What a run leaves behind: recipe-style log lines, the per-epoch history, summary.json (with rank 0's
final outputs: per-class results, plots, exported models) and the Kubernetes termination message."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from mnft_contract import termination

if TYPE_CHECKING:
    from mnft_trainer.context import RunContext
    from mnft_trainer.training import TrainResult

HISTORY_FILE = "history.json"
TERMINATION_KEYS = termination.SUMMARY_KEYS  # summary.json keys that also go into the termination message


def epoch_line(
    epoch: int,
    epochs: int,
    steps: int,
    cost_ms: float,
    avg_loss: float,
    lr: float | None = None,
    images_per_second: float | None = None,
    eta_seconds: float | None = None,
) -> str:
    """The recipe's line; mnft appends `, lr: ..., images/s: ..., eta: N s` (the operator parses both)."""
    per_step = cost_ms / steps if steps else 0.0
    line = (
        f"epoch[{epoch}/{epochs}], iter[{steps}] cost: {cost_ms:.3f} ms, "
        f"per step time: {per_step:.3f} ms, avg loss: {avg_loss:.3f}"
    )
    if lr is not None:
        line += f", lr: {lr:.6g}"
    if images_per_second is not None:
        line += f", images/s: {images_per_second:.1f}"
    if eta_seconds is not None:
        line += f", eta: {round(eta_seconds)} s"
    return line


def eval_epoch_line(epoch: int, epochs: int, accuracy: float) -> str:
    return f"epoch[{epoch}/{epochs}] eval accuracy: {accuracy:.4f}"


@dataclass(frozen=True)
class EpochStats:
    """What a training loop knows at the end of an epoch (this rank's view)."""

    epoch: int
    epochs: int
    steps: int
    images: int  # images this rank trained on in the epoch
    seconds: float  # the epoch's training time (no checkpoint, no eval)
    loss: float
    lr: float  # learning rate of the epoch's last step


def eval_due(epoch: int, epochs: int, every: int) -> bool:
    """An eval after this epoch? Never after the last one: the final eval follows it anyway."""
    return every > 0 and epoch % every == 0 and epoch < epochs


def eta_seconds(intervals: list[float], remaining: int) -> float:
    """Remaining epochs x the mean epoch wall time, leaving out the first epoch (graph compile) once
    there are others."""
    if not intervals:
        return 0.0
    typical = intervals[1:] or intervals
    return remaining * sum(typical) / len(typical)


class EpochReporter:
    """Called by a training loop after every epoch (on every rank): logs the epoch line with images/s and
    an ETA, runs the eval when `eval_every` asks for it, and keeps the history (rank 0 saves it to
    `history.json` after each epoch, so a resumed run keeps its earlier epochs)."""

    def __init__(
        self,
        log: Callable[[str], None],
        group_size: int,
        save_dir: str | None = None,
        evaluate: Callable[[], float | None] | None = None,
        eval_every: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.log = log
        self.group_size = group_size
        self.save_dir = save_dir
        self.evaluate = evaluate
        self.eval_every = eval_every
        self.clock = clock
        self.last = clock()
        self.intervals: list[float] = []
        self.history: list[dict[str, Any]] = load_history(save_dir) if save_dir else []
        self._trimmed = False

    def __call__(self, stats: EpochStats) -> None:
        now = self.clock()
        self.intervals.append(now - self.last)
        self.last = now
        if not self._trimmed:  # a fresh run starts at 1 (drops an old file); a resumed one after its point
            self.history = [e for e in self.history if e.get("epoch", 0) < stats.epoch]
            self._trimmed = True
        images_per_second = stats.images * self.group_size / stats.seconds if stats.seconds > 0 else 0.0
        eta = eta_seconds(self.intervals, stats.epochs - stats.epoch)
        self.log(
            epoch_line(
                stats.epoch,
                stats.epochs,
                stats.steps,
                stats.seconds * 1000,
                stats.loss,
                stats.lr,
                images_per_second,
                eta,
            )
        )
        entry: dict[str, Any] = {
            "epoch": stats.epoch,
            "loss": stats.loss,
            "lr": stats.lr,
            "images_per_second": round(images_per_second, 3),
            "seconds": round(stats.seconds, 3),
        }
        if self.evaluate is not None and eval_due(stats.epoch, stats.epochs, self.eval_every):
            accuracy = self.evaluate()
            if accuracy is not None:
                entry["eval_accuracy"] = accuracy
                self.log(eval_epoch_line(stats.epoch, stats.epochs, accuracy))
        self.history.append(entry)
        if self.save_dir is not None:
            write_json(Path(self.save_dir) / HISTORY_FILE, self.history)


def load_history(save_dir: str) -> list[dict[str, Any]]:
    path = Path(save_dir) / HISTORY_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []


def total_line(seconds: float) -> str:
    return f"total cost {seconds:.3f} s"


def result_line(accuracy: float) -> str:
    return "result:" + str({"acc": accuracy})


def summary(
    epochs: int, final_loss: float | None, accuracy: float | None, checkpoint: str | None
) -> dict[str, Any]:
    return {"epochs": epochs, "final_loss": final_loss, "accuracy": accuracy, "checkpoint": checkpoint}


def report_eval(matrix: Any, log: Callable[[str], None]) -> float:
    """The whole split's accuracy from its confusion matrix, logged with the counts behind it."""
    from mnft_trainer import metrics

    accuracy = metrics.accuracy(matrix)
    log(f"eval: {int(matrix.sum())} images, {int(matrix.trace())} correct")
    log(result_line(accuracy))
    return accuracy


def write_outputs(
    ctx: RunContext, net: Any, result: TrainResult, history: list[dict[str, Any]], confusion: Any
) -> dict[str, Any]:
    """The end of a training run, on every rank: the eval's report (confusion None: no eval), the summary
    (returned, for the termination message) and rank 0's final outputs in summary.json."""
    accuracy = None if confusion is None else report_eval(confusion, ctx.log)
    data = summary(result.epochs, result.final_loss, accuracy, result.checkpoint)
    if ctx.rank0:
        data.update(final_outputs(ctx, net, history, confusion, accuracy))
        write_summary(ctx.paths.output, data)
    return data


def final_outputs(
    ctx: RunContext, net: Any, history: list[dict[str, Any]], confusion: Any, accuracy: float | None
) -> dict[str, Any]:
    """Rank 0's additions to summary.json: history, per-class results, pictures, exported models."""
    from mnft_trainer import metrics
    from mnft_trainer.export import export_models
    from mnft_trainer.plots import write_plots

    cfg = ctx.config
    if history and accuracy is not None and ctx.eval_every > 0:
        history[-1]["eval_accuracy"] = accuracy  # the final eval stands for the last epoch's
    out: dict[str, Any] = {"classes": list(ctx.classes), "history": history}
    matrix = None if confusion is None else confusion.tolist()
    if matrix is not None:
        out["per_class"] = metrics.per_class(confusion, ctx.classes)
        out["confusion_matrix"] = matrix
    out["plots"] = write_plots(ctx.paths.output, history, accuracy, matrix, ctx.classes, ctx.log)
    exported = export_models(
        net, ctx.export_formats, ctx.paths.output, cfg.image_height, cfg.image_width, ctx.classes, ctx.log
    )
    if exported:
        out["exported"] = exported
    return out


def termination_summary(data: dict[str, Any]) -> dict[str, Any]:
    """The summary without its history and per-class tables, which can exceed the message's 4 KiB."""
    return {k: data[k] for k in TERMINATION_KEYS if k in data}


def write_json(target: Path, data: Any) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
    tmp.write_text(json.dumps(data) + "\n")
    os.replace(tmp, target)
    return target


def write_summary(save_path: str, data: dict[str, Any]) -> Path:
    return write_json(Path(save_path) / "summary.json", data)


class Progress:
    """A redrawn bar on a terminal; otherwise a plain line every `every_s` seconds and at the end."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None, every_s: float = 10.0):
        self.label = label
        self.total = total
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.every_s = every_s
        self.started = time.monotonic()
        self.last = self.started

    def update(self, done: int) -> None:
        now = time.monotonic()
        rate = done / max(now - self.started, 1e-9)
        if self.tty:
            width = 30
            filled = int(width * done / max(self.total, 1))
            bar = "#" * filled + "." * (width - filled)
            end = "\n" if done >= self.total else ""
            self.stream.write(f"\r{self.label} [{bar}] {done}/{self.total} ({rate:.1f}/s){end}")
            self.stream.flush()
        elif done >= self.total or now - self.last >= self.every_s:
            self.last = now
            print(f"{self.label}: {done}/{self.total} ({rate:.1f}/s)", file=self.stream, flush=True)
