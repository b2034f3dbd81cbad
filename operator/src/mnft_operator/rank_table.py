"""The HCCL rank table (hccl.json, MindX format) built from the worker pods' device-plugin annotations.

The table reads `{"status": "initializing"}` until every worker pod of the current generation carries
`ascend.kubectl.kubernetes.io/ascend-910-configuration` with devicesPerWorker devices and has a podIP; then
it is the completed "1.0" table: server_list ordered by worker index, rank_id = index * devicesPerWorker +
position. `version` (stored next to hccl.json in the ConfigMap and in status.rankTableVersion) is a digest of
the table and the pods' uids, so it changes with every rebuild, including when a pod is replaced by an
identical one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mnft_operator.names import ASCEND_DEVICE_ANNOTATION, INDEX_LABEL

INITIALIZING: dict[str, Any] = {"status": "initializing"}


@dataclass(frozen=True)
class RankTable:
    table: Mapping[str, Any]  # the hccl.json content
    version: str
    annotated: int  # worker pods whose annotation is usable
    problems: tuple[str, ...]  # why a pod's annotation is not usable (empty when all fine or missing)

    @property
    def completed(self) -> bool:
        return self.table.get("status") == "completed"

    def to_json(self) -> str:
        # Compact: 8,192 devices must stay well under the ConfigMap limit of 1 MiB.
        return json.dumps(self.table, separators=(",", ":"))


def _index(pod: Mapping[str, Any]) -> int | None:
    raw = ((pod.get("metadata") or {}).get("labels") or {}).get(INDEX_LABEL)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _server(pod: Mapping[str, Any], devices_per_worker: int) -> tuple[dict[str, Any] | None, str | None]:
    """(server_list entry without rank ids, problem); both None when the pod is not annotated yet."""
    meta = pod.get("metadata") or {}
    raw = (meta.get("annotations") or {}).get(ASCEND_DEVICE_ANNOTATION)
    if raw is None:
        return None, None
    name = meta.get("name", "?")
    try:
        info = json.loads(raw)
        devices = [
            {"device_id": str(d["device_id"]), "device_ip": str(d["device_ip"])} for d in info["devices"]
        ]
        server_id = str(info["server_id"])
    except (ValueError, KeyError, TypeError):
        return None, f"{name}: {ASCEND_DEVICE_ANNOTATION} is not valid JSON with server_id and devices"
    if len(devices) != devices_per_worker:
        return None, f"{name}: device plugin assigned {len(devices)} devices, expected {devices_per_worker}"
    pod_ip = (pod.get("status") or {}).get("podIP")
    if not pod_ip:
        return None, None
    return {"server_id": server_id, "container_ip": pod_ip, "device": devices}, None


def build_rank_table(pods: Sequence[Mapping[str, Any]], workers: int, devices_per_worker: int) -> RankTable:
    """The rank table for the current generation's worker pods (any order, some may be missing)."""
    by_index = {i: p for p in pods if (i := _index(p)) is not None and 0 <= i < workers}
    servers: list[dict[str, Any]] = []
    problems: list[str] = []
    for i in range(workers):
        pod = by_index.get(i)
        if pod is None:
            continue
        server, problem = _server(pod, devices_per_worker)
        if problem:
            problems.append(problem)
        if server is not None:
            for position, device in enumerate(server["device"]):
                device["rank_id"] = str(i * devices_per_worker + position)
            servers.append(server)
    uids = [str(((by_index.get(i) or {}).get("metadata") or {}).get("uid", "")) for i in range(workers)]
    table: dict[str, Any]
    if len(servers) == workers:
        table = {
            "status": "completed",
            "version": "1.0",
            "server_count": str(workers),
            "server_list": servers,
        }
    else:
        table = dict(INITIALIZING)
    digest = hashlib.sha256()
    digest.update(json.dumps(table, separators=(",", ":")).encode())
    digest.update("\0".join(uids).encode())
    return RankTable(table, digest.hexdigest()[:12], len(servers), tuple(problems))
