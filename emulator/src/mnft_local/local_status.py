"""What `mnft local` says about the job's status: phase changes while it runs, the summary at the end."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FINISHED_PHASES = ("Succeeded", "Failed")


def phase_of(status: Mapping[str, Any] | None) -> str:
    return str((status or {}).get("phase") or "Pending")


def condition(status: Mapping[str, Any] | None, type_: str) -> Mapping[str, Any] | None:
    for cond in (status or {}).get("conditions") or ():
        if isinstance(cond, Mapping) and cond.get("type") == type_:
            return cond
    return None


def phase_change(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> str | None:
    """One line when the phase or the restart count changed, else None."""
    old, new = phase_of(before), phase_of(after)
    old_restarts = int((before or {}).get("restarts") or 0)
    new_restarts = int((after or {}).get("restarts") or 0)
    if before is not None and old == new and old_restarts == new_restarts:
        return None
    line = f"phase {new}"
    if new_restarts:
        line += f" (restarts {new_restarts})"
    cond = condition(after, new)
    if cond is not None and cond.get("reason") and new not in FINISHED_PHASES:
        line += f": {cond.get('reason')}"
        if cond.get("message"):
            line += f": {cond.get('message')}"
    return line


def failure_reason(status: Mapping[str, Any] | None) -> str:
    """`Reason: message` of the Failed condition, or the phase when there is none."""
    cond = condition(status, "Failed")
    if cond is None or cond.get("status") != "True":
        return f"phase {phase_of(status)}"
    reason = str(cond.get("reason") or "Failed")
    message = str(cond.get("message") or "").strip()
    return f"{reason}: {message}" if message else reason


def final_summary(name: str, status: Mapping[str, Any] | None) -> list[str]:
    """The lines printed when the job has finished."""
    status = status or {}
    result = status.get("result") or {}
    accuracy = result.get("accuracy")
    lines = [
        f"job {name}: {phase_of(status)}",
        f"  accuracy:   {'n/a' if accuracy is None else f'{float(accuracy):.4f}'}",
        f"  checkpoint: {result.get('checkpoint') or 'n/a'}",
        f"  restarts:   {int(status.get('restarts') or 0)}",
    ]
    if phase_of(status) != "Succeeded":
        lines.append(f"  reason:     {failure_reason(status)}")
    return lines
