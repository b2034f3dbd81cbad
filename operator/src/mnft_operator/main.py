"""The kopf wiring: decorators and settings only. The logic lives in `mnft_operator.handlers`.

- One daemon per unfinished MobileNetFineTune runs the reconcile loop (`handlers.job_daemon`). kopf keeps a
  finalizer on a job while its daemon runs, so deletion waits for the daemon to stop. The daemon's filter
  (`needs_daemon`) stops matching once the job is finished: kopf stops the daemon and removes the
  finalizer, so deleting a finished job never waits for the operator. A finished job with
  ttlSecondsAfterFinished gets a plain task instead (`run_finished_job`) that deletes it when due.
- Events on labelled pods, Services and ConfigMaps, and spec changes of a job, wake the job's daemon.
- Handlers live in their own registry, so embedding the operator does not touch kopf's default one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import kopf

from mnft_operator import GROUP, PLURAL, VERSION
from mnft_operator.handlers import job_daemon, login
from mnft_operator.handlers.job_reconciler import needs_daemon, ttl_pending
from mnft_operator.handlers.settings import MEMO_CONFIG, MEMO_WAKERS, OperatorConfig, Wakers
from mnft_operator.names import JOB_LABEL, MANAGED_BY, MANAGED_BY_LABEL

registry = kopf.OperatorRegistry()

FINALIZER = "finetune.mindspore.io/operator"
ANNOTATIONS_PREFIX = "finetune.mindspore.io"
MEMO_FINISHED_TASKS = "mnft_finished_tasks"  # operator-wide: the run_finished_job tasks, cancelled at exit
MEMO_FINISHED_TASK = "mnft_finished_task"  # per job: its run_finished_job task


@kopf.on.startup(registry=registry)
def configure(*, settings: kopf.OperatorSettings, memo: Any, **_: Any) -> None:
    config: OperatorConfig = memo[MEMO_CONFIG]
    memo[MEMO_WAKERS] = Wakers()
    memo[MEMO_FINISHED_TASKS] = set()
    # Only kopf's own warnings and errors become Kubernetes Events; ours are posted by the handlers.
    settings.posting.level = logging.WARNING
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=ANNOTATIONS_PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=ANNOTATIONS_PREFIX)
    settings.networking.request_timeout = 60
    settings.networking.connect_timeout = 10
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 10
    settings.posting.reporting_component = "mnft-operator"
    settings.background.instant_exit_timeout = 2.0
    # Watch only the operator's pods (server-side selector), not every pod of the cluster.
    for plural in ("pods", "services", "configmaps"):
        settings.watching.label_selectors["v1", plural] = JOB_LABEL
    settings.peering.standalone = config.peering is None
    if config.peering is not None:
        settings.peering.name = config.peering
        settings.peering.priority = config.priority
        settings.peering.mandatory = True


@kopf.on.login(registry=registry)
def authenticate(**kwargs: Any) -> kopf.ConnectionInfo | None:
    return login.login(**kwargs)


# On deletion kopf signals the daemon, which finishes its current reconcile and exits (waited for up to
# instant_exit_timeout); a daemon stuck longer is cancelled after cancellation_backoff seconds.
@kopf.daemon(
    GROUP,
    VERSION,
    PLURAL,
    registry=registry,
    backoff=10,
    cancellation_backoff=5,
    cancellation_timeout=30,
    when=lambda body, **_: needs_daemon(body),
)
async def job(
    *,
    namespace: str | None,
    name: str,
    memo: Any,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    stopped: kopf.DaemonStopped,
    retry: int,
    **_: Any,
) -> None:
    await job_daemon.run_job_daemon(
        namespace=namespace or "default",
        name=name,
        memo=memo,
        logger=logger,
        stopped=stopped,
        retry=retry,
    )


@kopf.on.event(GROUP, VERSION, PLURAL, registry=registry)
async def job_event(
    *,
    type: str | None,
    namespace: str | None,
    name: str,
    body: kopf.Body,
    memo: Any,
    logger: logging.Logger | logging.LoggerAdapter[Any],
    **_: Any,
) -> None:
    wakers: Wakers = memo[MEMO_WAKERS]
    if namespace and wakers.job_changed(namespace, name, body):
        wakers.wake(namespace, name)
    task: asyncio.Task[None] | None = memo.get(MEMO_FINISHED_TASK)
    if type == "DELETED":
        if task is not None:
            task.cancel()
    elif namespace and ttl_pending(body) and (task is None or task.done()):
        task = asyncio.create_task(
            job_daemon.run_finished_job(namespace=namespace, name=name, memo=memo, logger=logger)
        )
        memo[MEMO_FINISHED_TASK] = task
        tasks: set[asyncio.Task[None]] = memo[MEMO_FINISHED_TASKS]
        tasks.add(task)
        task.add_done_callback(tasks.discard)


@kopf.on.cleanup(registry=registry)
async def cancel_finished_tasks(*, memo: Any, **_: Any) -> None:
    tasks: set[asyncio.Task[None]] = memo.get(MEMO_FINISHED_TASKS) or set()
    for task in list(tasks):
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def wake_job(namespace: str | None, labels: Mapping[str, str], memo: Any) -> None:
    wakers: Wakers = memo[MEMO_WAKERS]
    if namespace:
        wakers.wake(namespace, labels[JOB_LABEL])


@kopf.on.event(
    "v1", "pods", registry=registry, labels={JOB_LABEL: kopf.PRESENT, MANAGED_BY_LABEL: MANAGED_BY}
)
def pod_event(*, namespace: str | None, labels: Mapping[str, str], memo: Any, **_: Any) -> None:
    wake_job(namespace, labels, memo)


# A deleted Service or ConfigMap is recreated at once, not on the next pod event or resync.
@kopf.on.event(
    "v1", "services", registry=registry, labels={JOB_LABEL: kopf.PRESENT, MANAGED_BY_LABEL: MANAGED_BY}
)
def service_event(*, namespace: str | None, labels: Mapping[str, str], memo: Any, **_: Any) -> None:
    wake_job(namespace, labels, memo)


@kopf.on.event(
    "v1", "configmaps", registry=registry, labels={JOB_LABEL: kopf.PRESENT, MANAGED_BY_LABEL: MANAGED_BY}
)
def configmap_event(*, namespace: str | None, labels: Mapping[str, str], memo: Any, **_: Any) -> None:
    wake_job(namespace, labels, memo)
