"""Training progress from rank 0's log tail and the result from its termination message.

Trainer pods get no API permissions: the operator reads `<job>-worker-0`'s log through the API instead.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

# `[rank-0] epoch[3/15], iter[20] cost: 1234.567 ms, per step time: 61.728 ms, avg loss: 1.234`, to which
# mnft's trainer appends `, lr: 0.02, images/s: 512.3, eta: 37 s` (the recipe's own line has none of them).
# The `[rank-r] ` prefix is added by `mnft launch`; a line without it is rank 0 run directly.
_EPOCH_LINE = re.compile(
    r"^(?:\[rank-(?P<rank>\d+)\] )?epoch\[(?P<epoch>\d+)/(?P<total>\d+)\]"
    r".*?avg loss: (?P<loss>[-+0-9.eE]+|nan|inf)"
    r"(?:.*?, images/s: (?P<rate>[0-9.]+))?(?:.*?, eta: (?P<eta>\d+) s)?"
)


def parse_progress(log_tail: str) -> dict[str, Any] | None:
    """{"epoch", "totalEpochs", "loss", "imagesPerSecond", "etaSeconds"} from the last rank-0 epoch line
    (the last two when the line has them), or None when there is none yet."""
    for line in reversed(log_tail.splitlines()):
        m = _EPOCH_LINE.match(line.strip())
        if m is None or (m["rank"] is not None and m["rank"] != "0"):
            continue
        try:
            loss = float(m["loss"])
        except ValueError:
            continue
        progress: dict[str, Any] = {"epoch": int(m["epoch"]), "totalEpochs": int(m["total"])}
        if math.isfinite(loss):
            progress["loss"] = round(loss, 6)
        if m["rate"] is not None:
            progress["imagesPerSecond"] = round(float(m["rate"]), 1)
        if m["eta"] is not None:
            progress["etaSeconds"] = int(m["eta"])
        return progress
    return None


def parse_result(termination_message: str) -> dict[str, Any] | None:
    """{"accuracy", "checkpoint", "finalLoss", "exported"} from the summary JSON rank 0 writes on success."""
    for line in reversed(termination_message.strip().splitlines()):
        try:
            summary = json.loads(line)
        except ValueError:
            continue
        if not isinstance(summary, Mapping):
            continue
        result: dict[str, Any] = {}
        if isinstance(summary.get("accuracy"), (int, float)) and not isinstance(summary["accuracy"], bool):
            result["accuracy"] = summary["accuracy"]
        if isinstance(summary.get("checkpoint"), str):
            result["checkpoint"] = summary["checkpoint"]
        if isinstance(summary.get("final_loss"), (int, float)) and math.isfinite(summary["final_loss"]):
            result["finalLoss"] = summary["final_loss"]
        exported = summary.get("exported")
        if isinstance(exported, Mapping):
            files = {str(k): v for k, v in exported.items() if isinstance(v, str)}
            if files:
                result["exported"] = files
        return result
    return None
