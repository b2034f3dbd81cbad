"""training.png (loss and accuracy per epoch) and confusion.png, drawn with matplotlib when it is installed
(the trainer extra `plots`); without it the run logs one line and writes no pictures."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

TRAINING_PNG = "training.png"
CONFUSION_PNG = "confusion.png"
MISSING = "plots skipped: matplotlib is not installed (pip install 'mnft[plots]')"


def _pyplot() -> Any | None:
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    fig.savefig(tmp, format="png", dpi=100)
    os.replace(tmp, path)
    return path


def training_figure(plt: Any, history: Sequence[Mapping[str, Any]], final_accuracy: float | None) -> Any:
    epochs = [e["epoch"] for e in history]
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 4))
    loss_ax.plot(epochs, [e["loss"] for e in history], marker="o")
    loss_ax.set(title="training loss", xlabel="epoch", ylabel="average loss")
    points = [(e["epoch"], e["eval_accuracy"]) for e in history if e.get("eval_accuracy") is not None]
    if final_accuracy is not None and epochs and (not points or points[-1][0] != epochs[-1]):
        points.append((epochs[-1], final_accuracy))
    if points:
        acc_ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", color="tab:green")
    acc_ax.set(title="eval accuracy", xlabel="epoch", ylabel="top-1 accuracy", ylim=(0, 1))
    if not points:
        acc_ax.text(0.5, 0.5, "not evaluated", ha="center", va="center", transform=acc_ax.transAxes)
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def confusion_figure(plt: Any, confusion: Sequence[Sequence[int]], classes: Sequence[str]) -> Any:
    size = max(4.0, min(0.5 * len(classes) + 2, 24.0))
    fig, ax = plt.subplots(figsize=(size, size))
    image = ax.imshow(confusion, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046)
    ticks = range(len(classes))
    ax.set_xticks(ticks, labels=classes, rotation=90 if len(classes) > 10 else 0)
    ax.set_yticks(ticks, labels=classes)
    ax.set(title="confusion matrix (eval)", xlabel="predicted", ylabel="true")
    if len(classes) <= 30:  # counts stay legible
        peak = max((max(row) for row in confusion), default=0)
        for i, row in enumerate(confusion):
            for j, count in enumerate(row):
                colour = "white" if peak and count > peak / 2 else "black"
                ax.text(j, i, str(count), ha="center", va="center", color=colour, fontsize=8)
    fig.tight_layout()
    return fig


def write_plots(
    directory: str,
    history: Sequence[Mapping[str, Any]],
    final_accuracy: float | None,
    confusion: Sequence[Sequence[int]] | None,
    classes: Sequence[str],
    log: Callable[[str], None],
) -> dict[str, str]:
    """{"training": path, "confusion": path} of what was written; {} without matplotlib."""
    plt = _pyplot()
    if plt is None:
        log(MISSING)
        return {}
    out: dict[str, str] = {}
    if history:
        fig = training_figure(plt, history, final_accuracy)
        out["training"] = str(_save(fig, Path(directory) / TRAINING_PNG))
        plt.close(fig)
    if confusion is not None:
        fig = confusion_figure(plt, confusion, classes)
        out["confusion"] = str(_save(fig, Path(directory) / CONFUSION_PNG))
        plt.close(fig)
    return out
