"""Watch events and timestamps shared by the embedded API's store, garbage collector and watch streams."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

StoreKey = tuple[str, str]  # (group, plural)
ObjKey = tuple[str, str]  # (namespace or "", name)


def now_rfc3339(plus_seconds: float = 0) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=plus_seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class WatchEvent:
    rv: int
    store_key: StoreKey
    type: str  # ADDED | MODIFIED | DELETED
    obj: Mapping[str, Any]
    old: Mapping[str, Any] | None  # the previous state for MODIFIED (selectors turn these into ADDED/DELETED)
