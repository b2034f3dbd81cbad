"""The headless Service `<job>`: gives worker 0 a stable DNS name for the dynamic-cluster scheduler.

publishNotReadyAddresses: the scheduler must be resolvable before any readiness, since the pods have no
readiness probe and ranks connect while starting.
"""

from __future__ import annotations

from typing import Any

from mnft_operator.names import JOB_LABEL, child_metadata
from mnft_operator.spec import Job


def build_service(job: Job) -> dict[str, Any]:
    port = job.spec.scheduler_port
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": child_metadata(job.name, job.namespace, job.uid, job.name),
        "spec": {
            "clusterIP": "None",
            "selector": {JOB_LABEL: job.name},
            "publishNotReadyAddresses": True,
            "ports": [{"name": "scheduler", "port": port, "targetPort": port, "protocol": "TCP"}],
        },
    }
