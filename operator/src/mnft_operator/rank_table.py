"""The HCCL rank table (hccl.json, MindX format) built from the worker pods' device-plugin annotations.

The table reads `{"status": "initializing"}` until every worker pod of the current generation carries
the device plugin's annotation (`ascend.kubectl.kubernetes.io/ascend-910-configuration`, or
`ascend-npu-configuration` from a plugin serving `huawei.com/npu`) with devicesPerWorker devices and has
a podIP; then it is the completed "1.0" table with the fields MindX's ascend-operator writes
(mind-cluster component/ascend-operator/pkg/ranktable/common: status, version, server_count; per server
server_id, host_ip, container_ip, device[device_id, device_ip, rank_id]): server_list ordered by worker
index, rank_id = index * devicesPerWorker + position (the device plugin lists a pod's chips in ascending
physical order); the format's names are `mnft_contract.rank_table`'s. `version` (stored next to
hccl.json in the ConfigMap and in status.rankTableVersion) is a digest of the table and the pods' uids,
so it changes with every rebuild, including when a pod is replaced by an identical one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mnft_contract import rank_table as fmt
from mnft_operator.names import ASCEND_DEVICE_ANNOTATION, ASCEND_NPU_DEVICE_ANNOTATION, INDEX_LABEL

INITIALIZING: dict[str, Any] = {fmt.STATUS: fmt.INITIALIZING}


@dataclass(frozen=True)
class RankTable:
    text: str  # hccl.json, compact: 8,192 devices must stay well under the ConfigMap limit of 1 MiB
    completed: bool
    version: str
    annotated: int  # worker pods whose annotation is usable
    problems: tuple[str, ...]  # why a pod's annotation is not usable (empty when all fine or missing)

    @property
    def table(self) -> dict[str, Any]:
        """The hccl.json content as a dict."""
        loaded: dict[str, Any] = json.loads(self.text)
        return loaded

    def to_json(self) -> str:
        return self.text


def _index(pod: Mapping[str, Any]) -> int | None:
    raw = ((pod.get("metadata") or {}).get("labels") or {}).get(INDEX_LABEL)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _quote(value: str, plain: bool) -> str:
    # `plain`: the value came from JSON source without backslashes, so it holds no quote, backslash or
    # control character and can be quoted as is (the fast path for 8,192 devices).
    return f'"{value}"' if plain else json.dumps(value)


def _server(pod: Mapping[str, Any], index: int, devices_per_worker: int) -> tuple[str | None, str | None]:
    """(server_list entry as JSON, problem); both None when the pod is not annotated or has no IP yet."""
    meta = pod.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    # MindX's ascend-operator reads the same two keys in this order.
    key = next(
        (k for k in (ASCEND_DEVICE_ANNOTATION, ASCEND_NPU_DEVICE_ANNOTATION) if k in annotations), None
    )
    if key is None:
        return None, None
    raw = annotations[key]
    name = meta.get("name", "?")
    try:
        info = json.loads(raw)
        devices = [(str(d["device_id"]), str(d["device_ip"])) for d in info["devices"]]
        server_id = str(info["server_id"])
        host_ip = str(info.get("host_ip") or (pod.get("status") or {}).get("hostIP") or "")
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, f"{name}: {key} is not valid JSON with server_id and devices"
    if len(devices) != devices_per_worker:
        return None, f"{name}: device plugin assigned {len(devices)} devices, expected {devices_per_worker}"
    pod_ip = (pod.get("status") or {}).get("podIP")
    if not pod_ip:
        return None, None
    plain = "\\" not in raw
    first = index * devices_per_worker
    device_json = ",".join(
        f'{{"device_id":{_quote(did, plain)},"device_ip":{_quote(dip, plain)},"rank_id":"{first + pos}"}}'
        for pos, (did, dip) in enumerate(devices)
    )
    return (
        f'{{"server_id":{_quote(server_id, plain)},"host_ip":{json.dumps(host_ip)},'
        f'"container_ip":{json.dumps(str(pod_ip))},"device":[{device_json}]}}'
    ), None


def build_rank_table(pods: Sequence[Mapping[str, Any]], workers: int, devices_per_worker: int) -> RankTable:
    """The rank table for the current generation's worker pods (any order, some may be missing)."""
    by_index = {i: p for p in pods if (i := _index(p)) is not None and 0 <= i < workers}
    servers: list[str] = []
    problems: list[str] = []
    for i in range(workers):
        pod = by_index.get(i)
        if pod is None:
            continue
        server, problem = _server(pod, i, devices_per_worker)
        if problem:
            problems.append(problem)
        if server is not None:
            servers.append(server)
    completed = len(servers) == workers
    if completed:
        text = (
            f'{{"status":"{fmt.COMPLETED}","version":"{fmt.VERSION}","server_count":"{workers}",'
            f'"server_list":[{",".join(servers)}]}}'
        )
    else:
        text = json.dumps(INITIALIZING, separators=(",", ":"))
    uids = [str(((by_index.get(i) or {}).get("metadata") or {}).get("uid", "")) for i in range(workers)]
    digest = hashlib.sha256(text.encode())
    digest.update("\0".join(uids).encode())
    return RankTable(text, completed, digest.hexdigest()[:12], len(servers), tuple(problems))
