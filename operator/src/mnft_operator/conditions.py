"""Status conditions in a fixed order; lastTransitionTime changes only when a condition's status does.

`lastProbeTime` (as on a Kubernetes JobCondition) is set only where a condition records an attempt: on
Created=False after a failed create it is when the create was last tried (the retry backoff counts from it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

CREATED = "Created"
RANK_TABLE_READY = "RankTableReady"
RUNNING = "Running"
RESTARTING = "Restarting"
SUCCEEDED = "Succeeded"
FAILED = "Failed"
SUSPENDED = "Suspended"
CHECKPOINTS_EPHEMERAL = "CheckpointsEphemeral"
ORDER = (CREATED, RANK_TABLE_READY, RUNNING, RESTARTING, SUCCEEDED, FAILED, SUSPENDED, CHECKPOINTS_EPHEMERAL)


def rfc3339(moment: datetime) -> str:
    """`2026-01-02T03:04:05Z` (seconds precision, UTC), the Kubernetes timestamp format."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def find(conditions: Sequence[Mapping[str, Any]], type_: str) -> Mapping[str, Any] | None:
    return next((c for c in conditions if c.get("type") == type_), None)


def is_true(conditions: Sequence[Mapping[str, Any]], type_: str) -> bool:
    found = find(conditions, type_)
    return found is not None and found.get("status") == "True"


def set_condition(
    conditions: Sequence[Mapping[str, Any]],
    type_: str,
    status: bool,
    reason: str,
    message: str,
    now: datetime,
    probed: datetime | None = None,
) -> list[dict[str, Any]]:
    """A new list with `type_` set; its lastTransitionTime kept when the status is unchanged.

    `probed` sets lastProbeTime; without it the condition carries none.
    """
    value = "True" if status else "False"
    old = find(conditions, type_)
    since = old.get("lastTransitionTime") if old is not None and old.get("status") == value else None
    new = {
        "type": type_,
        "status": value,
        "reason": reason,
        "message": message,
        "lastTransitionTime": since or rfc3339(now),
    }
    if probed is not None:
        new["lastProbeTime"] = rfc3339(probed)
    rest = [dict(c) for c in conditions if c.get("type") != type_]
    return sort_conditions([*rest, new])


def clear_if_true(
    conditions: Sequence[Mapping[str, Any]], type_: str, reason: str, message: str, now: datetime
) -> list[dict[str, Any]]:
    """Set `type_` to False when it is currently True; leave absent or False conditions alone."""
    if is_true(conditions, type_):
        return set_condition(conditions, type_, False, reason, message, now)
    return [dict(c) for c in conditions]


def sort_conditions(conditions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rank = {t: i for i, t in enumerate(ORDER)}
    return sorted((dict(c) for c in conditions), key=lambda c: rank.get(c.get("type", ""), len(ORDER)))
