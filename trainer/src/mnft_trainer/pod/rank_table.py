"""Reading the HCCL rank table (hccl.json, MindX format) and waiting until the operator completes it.

The operator writes `{"status": "initializing"}` into the ConfigMap until every worker pod carries the
Ascend device plugin's annotation, then the full table with `"status": "completed"`. Kubernetes swaps
ConfigMap volume contents atomically, but a file written in place can be caught half-written, so a
table that is not valid JSON is re-read for a short while before it counts as an error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mnft_contract import rank_table as fmt
from mnft_contract.env import MNFT_RANK_TABLE_TIMEOUT, MNFT_WORKER_INDEX, RANK_TABLE_FILE

DEFAULT_TIMEOUT_S = fmt.DEFAULT_TIMEOUT_S
TIMEOUT_ENV = MNFT_RANK_TABLE_TIMEOUT
# How long a table may stay unparsable before waiting gives up on it.
INVALID_GRACE_S = 5.0


class RankTableError(Exception):
    """A rank table that cannot be used; the message is one line naming the file and the problem."""


class RankTableTimeout(RankTableError):
    """The table was never completed in time: the cluster did not form (transient, exit code 75)."""


@dataclass(frozen=True)
class Device:
    rank_id: int
    device_id: int
    device_ip: str


def timeout_from_env(env: Mapping[str, str]) -> float:
    raw = env.get(TIMEOUT_ENV, "")
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise RankTableError(
            f"{TIMEOUT_ENV}={raw!r} is not a number of seconds >= 0; set e.g. {TIMEOUT_ENV}=600"
        )
    return value


def read_table(path: str | Path) -> dict[str, Any]:
    """Parse the table; RankTableError when it is missing, unreadable, not JSON or not an object."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RankTableError(f"rank table {path} does not exist; check {RANK_TABLE_FILE}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RankTableError(f"rank table {path} cannot be read: {exc}") from None
    try:
        table = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RankTableError(f"rank table {path} is not valid JSON ({exc})") from None
    if not isinstance(table, dict):
        raise RankTableError(f"rank table {path} must be a JSON object, got {type(table).__name__}")
    return table


def wait_until_completed(
    path: str | Path,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    poll_s: float = 0.5,
    log: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Re-read the table until its status is `completed` and return it.

    A missing or unreadable file fails at once (the ConfigMap is mounted before the container starts);
    other statuses are waited on until `timeout_s`.
    """
    start = clock()
    invalid_since: float | None = None
    announced = False
    while True:
        now = clock()
        try:
            table = read_table(path)
            invalid_since = None
            status = table.get(fmt.STATUS)
            last = f"status is {status!r}"
        except RankTableError as exc:
            if "not valid JSON" not in str(exc) and "must be a JSON object" not in str(exc):
                raise
            invalid_since = now if invalid_since is None else invalid_since
            if now - invalid_since >= INVALID_GRACE_S:
                raise
            table, status, last = {}, None, str(exc)
        if status == fmt.COMPLETED:
            return table
        if now - start >= timeout_s:
            raise RankTableTimeout(
                f"rank table {path} is not completed after {timeout_s:g} s ({last}); the operator completes "
                "it when every worker pod has its Ascend device annotation; "
                f"raise {TIMEOUT_ENV} to wait longer"
            )
        if log is not None and not announced:
            log(f"waiting for rank table {path} to be completed ({last})")
            announced = True
        sleep(min(poll_s, max(0.01, timeout_s - (now - start))))


def _int_field(entry: Mapping[str, Any], key: str, where: str, path: str | Path) -> int:
    raw = entry.get(key)
    try:
        return int(str(raw))
    except ValueError:
        raise RankTableError(f"rank table {path}: {where}.{key} is {raw!r}, expected an integer") from None


def rank_size(table: Mapping[str, Any], path: str | Path = fmt.FILE_NAME) -> int:
    """Total number of devices over all servers."""
    return sum(len(server_devices(table, i, path)) for i in range(len(_servers(table, path))))


def _servers(table: Mapping[str, Any], path: str | Path) -> list[Any]:
    servers = table.get(fmt.SERVER_LIST)
    if not isinstance(servers, list):
        raise RankTableError(f"rank table {path} has no server_list list")
    return servers


def server_devices(table: Mapping[str, Any], index: int, path: str | Path = fmt.FILE_NAME) -> list[Device]:
    """The devices of `server_list[index]` in table order, with their global rank ids."""
    servers = _servers(table, path)
    if not 0 <= index < len(servers):
        raise RankTableError(
            f"rank table {path} has {len(servers)} servers, so this pod's index {index} "
            f"({MNFT_WORKER_INDEX}) is missing from it"
        )
    server = servers[index]
    where = f"server_list[{index}]"
    devices = server.get(fmt.DEVICES) if isinstance(server, dict) else None
    if not isinstance(devices, list) or not devices:
        raise RankTableError(f"rank table {path}: {where} has no device list")
    result = []
    for position, device in enumerate(devices):
        dwhere = f"{where}.device[{position}]"
        if not isinstance(device, dict):
            raise RankTableError(f"rank table {path}: {dwhere} is not an object")
        result.append(
            Device(
                rank_id=_int_field(device, fmt.RANK_ID, dwhere, path),
                device_id=_int_field(device, fmt.DEVICE_ID, dwhere, path),
                device_ip=str(device.get(fmt.DEVICE_IP, "")),
            )
        )
    return result
