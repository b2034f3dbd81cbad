"""What `mnft local` says about the job's status: phase changes while it runs, the summary at the end."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from typing import Any

FINISHED_PHASES = ("Succeeded", "Failed")
# What rank 0 leaves in spec.output.path besides the checkpoints, in the order they are listed.
OUTPUT_FILES = (
    "summary.json",
    "training.png",
    "confusion.png",
    "mobilenetv2.mindir",
    "mobilenetv2.onnx",
    "labels.json",
)


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


def output_dir(job: Mapping[str, Any], mounts: Mapping[str, str]) -> str | None:
    """The host directory of the job's spec.output.path when a --mount serves its volume (by the pod's
    volume name `output` or by the claim name), else None."""
    output = (job.get("spec") or {}).get("output") or {}
    claim = ((output.get("volume") or {}).get("persistentVolumeClaim") or {}).get("claimName")
    base = mounts.get("output") or (mounts.get(claim) if claim else None)
    if base is None:
        return None
    return posixpath.join(base, str(output.get("path") or "checkpoint"))


def output_lines(directory: str | None, present: Sequence[str]) -> list[str]:
    """Where the summary, pictures and exported models are on this machine (`present`: of OUTPUT_FILES)."""
    if directory is None:
        return ["  outputs:    in the output volume, which no --mount maps to a directory here"]
    if not present:
        return [f"  outputs:    {directory}"]
    return [f"  outputs:    {directory}", "              " + ", ".join(present)]
