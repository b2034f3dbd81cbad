"""What a run leaves behind: recipe-style log lines, summary.json and the Kubernetes termination message."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

# The trainer CLI writes its message through here; the one writer lives in termination.py.
from mnft_trainer.termination import write_termination_message as write_termination_message


def epoch_line(epoch: int, epochs: int, steps: int, cost_ms: float, avg_loss: float) -> str:
    per_step = cost_ms / steps if steps else 0.0
    return (
        f"epoch[{epoch}/{epochs}], iter[{steps}] cost: {cost_ms:.3f} ms, "
        f"per step time: {per_step:.3f} ms, avg loss: {avg_loss:.3f}"
    )


def total_line(seconds: float) -> str:
    return f"total cost {seconds:.3f} s"


def result_line(accuracy: float) -> str:
    return "result:" + str({"acc": accuracy})


def summary(
    epochs: int, final_loss: float | None, accuracy: float | None, checkpoint: str | None
) -> dict[str, Any]:
    return {"epochs": epochs, "final_loss": final_loss, "accuracy": accuracy, "checkpoint": checkpoint}


def write_summary(save_path: str, data: dict[str, Any]) -> Path:
    target = Path(save_path) / "summary.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".tmp-{os.getpid()}-summary.json")
    tmp.write_text(json.dumps(data) + "\n")
    os.replace(tmp, target)
    return target


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
