"""Watch events and timestamps shared by the embedded API's store, garbage collector and watch streams."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

StoreKey = tuple[str, str]  # (group, plural)
ObjKey = tuple[str, str]  # (namespace or "", name)


def now_rfc3339(plus_seconds: float = 0) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=plus_seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """RFC 3339 with any offset and fraction (`Z`, `+00:00`, `.722594`) -> an aware UTC datetime."""
    match = re.fullmatch(
        r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:?\d{2})", text.strip()
    )
    if match is None:
        raise ValueError(f'parsing time "{text}" as "2006-01-02T15:04:05Z07:00": cannot parse')
    date, clock, fraction, offset = match.groups()
    micros = (fraction or "").ljust(6, "0")[:6]
    tz = "+0000" if offset in ("Z", "z") else offset.replace(":", "")
    moment = datetime.strptime(f"{date}T{clock}.{micros}{tz}", "%Y-%m-%dT%H:%M:%S.%f%z")
    return moment.astimezone(timezone.utc)


def format_time(moment: datetime, micro: bool = False) -> str:
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class WatchEvent:
    rv: int
    store_key: StoreKey
    type: str  # ADDED | MODIFIED | DELETED
    obj: Mapping[str, Any]
    old: Mapping[str, Any] | None  # the previous state for MODIFIED (selectors turn these into ADDED/DELETED)
