"""The worker pod environment of docs/architecture.md ("Pod environment rendered by the operator"); the
names set here are reserved (`reserved.RESERVED_ENV`): spec.env cannot override them."""

from __future__ import annotations

from typing import Any

from mnft_contract import env as E
from mnft_operator.names import RANK_TABLE_FILE, TERMINATION_MESSAGE_PATH, pod_name
from mnft_operator.spec import DYNAMIC_CLUSTER, Job


def scheduler_host(job: Job) -> str:
    """Worker 0's stable DNS name through the headless Service."""
    return f"{pod_name(job.name, 0)}.{job.name}.{job.namespace}.svc"


def pod_env(job: Job, index: int) -> list[dict[str, Any]]:
    """The `trainer` container's env for worker `index`: operator variables first, then spec.env."""
    spec = job.spec
    values: list[tuple[str, str]] = [
        (E.MNFT_JOB_NAME, job.name),
        (E.MNFT_NAMESPACE, job.namespace),
        (E.MNFT_PLATFORM, spec.platform),
        (E.MNFT_WORKER_INDEX, str(index)),
        (E.MNFT_WORKERS, str(spec.workers)),
        (E.MNFT_DEVICES_PER_WORKER, str(spec.devices_per_worker)),
        (E.MNFT_COMM_MODE, spec.comm_mode),
        (E.TERMINATION_MESSAGE_PATH, TERMINATION_MESSAGE_PATH),
    ]
    if spec.comm_mode == DYNAMIC_CLUSTER:
        values += [
            (E.MS_SCHED_HOST, scheduler_host(job)),
            (E.MS_SCHED_PORT, str(spec.scheduler_port)),
            (E.MS_WORKER_NUM, str(spec.world_size)),
            (E.MNFT_NODE_RANK, str(index)),
            (E.MNFT_LOCAL_WORKER_NUM, str(spec.devices_per_worker)),
            (E.MS_TOPO_TIMEOUT, str(spec.topology_timeout_s)),
        ]
    else:
        values += [
            (E.RANK_TABLE_FILE, RANK_TABLE_FILE),
            (E.RANK_SIZE, str(spec.world_size)),
            (E.MNFT_RANK_TABLE_TIMEOUT, str(spec.topology_timeout_s)),
        ]
    return [{"name": k, "value": v} for k, v in values] + [dict(e) for e in spec.env]
