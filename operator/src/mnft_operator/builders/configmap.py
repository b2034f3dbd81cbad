"""The Ascend rank-table ConfigMap `rings-config-<job>` (key hccl.json), mounted where MindX expects it."""

from __future__ import annotations

from typing import Any

from mnft_contract import rank_table as fmt
from mnft_operator.names import child_metadata, rings_configmap_name
from mnft_operator.rank_table import RankTable
from mnft_operator.spec import Job


def rank_table_data(table: RankTable) -> dict[str, str]:
    return {fmt.FILE_NAME: table.to_json(), fmt.CONFIGMAP_VERSION_KEY: table.version}


def build_configmap(job: Job, table: RankTable) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": child_metadata(job.name, job.namespace, job.uid, rings_configmap_name(job.name)),
        "data": rank_table_data(table),
    }


def configmap_patch(job: Job, table: RankTable) -> dict[str, Any]:
    """The merge patch (Plan.update entry) that puts a rebuilt table into the existing ConfigMap."""
    meta = {"name": rings_configmap_name(job.name), "namespace": job.namespace}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": rank_table_data(table)}
