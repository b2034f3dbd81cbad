"""The per-job loop run by kopf's daemon: reconcile, then sleep until woken, requeued or stopped.

One coroutine per job means reconciles of a job never overlap. A finished job has no daemon (so no kopf
finalizer); if ttlSecondsAfterFinished is set, `run_finished_job` (a task of the job's event handler) does
the remaining reconciles until it deletes the job. Pod and job events only set the job's
wake-up event (see `Wakers`), so a burst of 1,000 pod events costs one or two reconciles, not 1,000.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, MutableMapping
from typing import Any

import kopf

from mnft_operator import metrics
from mnft_operator.handlers.job_reconciler import Outcome, is_finished, rank0_running, reconcile_once
from mnft_operator.handlers.settings import (
    MEMO_API,
    MEMO_CONFIG,
    MEMO_LAST_ERROR,
    MEMO_WAKERS,
    OperatorConfig,
    Wakers,
)
from mnft_operator.k8s import KubeClient, KubeUnavailable


def retry_delay(base: float, retry: int, cap: float = 120.0) -> float:
    """Exponential backoff for a failing reconcile: base, 2 x base, 4 x base, ... at most `cap`."""
    return float(min(cap, base * 2 ** min(retry, 16)))


def describe(outcome: Outcome) -> str:
    plan = outcome.plan
    if outcome.observed is None:
        return f"reconciled in {outcome.requests} requests: the job is gone"
    return (
        f"reconciled in {outcome.requests} requests: {len(outcome.observed.pods)} pods seen; "
        f"created {len(plan.create)}, updated {len(plan.update)}, deleted {len(plan.delete)}, "
        f"status {'patched' if plan.status is not None else 'unchanged'}, {len(plan.events)} events, "
        f"requeue {plan.requeue_after}"
    )


def next_wait(outcome: Outcome, config: OperatorConfig) -> float:
    """Seconds to sleep before the next reconcile when no event wakes the job earlier."""
    waits = [config.resync_seconds]
    if outcome.plan.requeue_after is not None:
        waits.append(max(0.0, outcome.plan.requeue_after))
    observed = outcome.observed
    if observed is not None and rank0_running(observed.job["metadata"]["name"], observed.pods):
        waits.append(config.progress_seconds)
    return min(waits)


async def wait_for_wake(wake: asyncio.Event, stopped: Awaitable[Any], timeout: float) -> None:
    """Return when woken, when the daemon is asked to stop, or after `timeout` seconds."""
    woken = asyncio.ensure_future(wake.wait())
    halted = asyncio.ensure_future(stopped)
    try:
        await asyncio.wait({woken, halted}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (woken, halted):
            task.cancel()
        await asyncio.gather(woken, halted, return_exceptions=True)


async def run_job_daemon(
    *,
    namespace: str,
    name: str,
    memo: MutableMapping[str, Any],
    logger: logging.Logger | logging.LoggerAdapter[Any],
    stopped: kopf.DaemonStopped,
    retry: int = 0,
) -> None:
    """The job's reconcile loop; `memo` is kopf's per-job memo, `retry` kopf's count of earlier failures."""
    config: OperatorConfig = memo[MEMO_CONFIG]
    wakers: Wakers = memo[MEMO_WAKERS]
    wake = wakers.register(namespace, name)
    client = KubeClient(memo[MEMO_API], logger, config.parallel_requests)
    try:
        while not stopped:
            wake.clear()
            started = time.monotonic()
            try:
                outcome = await reconcile_once(
                    client, namespace, name, config.log_tail_lines, config.allow_host_path
                )
            except KubeUnavailable as e:
                delay = retry_delay(config.error_delay_seconds, retry)
                raise kopf.TemporaryError(
                    f"API request failed, retrying in {delay:g} s: {e}", delay=delay
                ) from e
            except Exception as e:
                # A bug (e.g. in plan()): one traceback per distinct error, then one line per retry.
                delay = retry_delay(config.error_delay_seconds, retry)
                if memo.get(MEMO_LAST_ERROR) != repr(e):
                    memo[MEMO_LAST_ERROR] = repr(e)
                    logger.exception(f"reconcile failed: {e!r}")
                raise kopf.TemporaryError(
                    f"reconcile failed, retrying in {delay:g} s: {e!r}", delay=delay
                ) from e
            memo.pop(MEMO_LAST_ERROR, None)
            metrics.record_outcome(namespace, name, outcome, time.monotonic() - started)
            logger.debug(describe(outcome))
            if outcome.observed is not None:
                wakers.seen(namespace, name, outcome.observed.job)
            if is_finished(outcome.observed, outcome.plan):
                logger.debug("The job is gone or finished with nothing left to do; its daemon exits.")
                return
            await wait_for_wake(wake, stopped.wait(), next_wait(outcome, config))
            if wake.is_set() and not stopped:
                await asyncio.sleep(config.debounce_seconds)
    finally:
        wakers.unregister(namespace, name, wake)


async def run_finished_job(
    *,
    namespace: str,
    name: str,
    memo: MutableMapping[str, Any],
    logger: logging.Logger | logging.LoggerAdapter[Any],
) -> None:
    """Reconcile a finished job (no daemon, no finalizer) until its plan schedules nothing: the TTL deletion.

    Runs as a task of the job's event handler; cancelled when the job is deleted or the operator stops.
    """
    config: OperatorConfig = memo[MEMO_CONFIG]
    client = KubeClient(memo[MEMO_API], logger, config.parallel_requests)
    retry = 0
    while True:
        try:
            outcome = await reconcile_once(
                client, namespace, name, config.log_tail_lines, config.allow_host_path
            )
        except KubeUnavailable as e:
            delay = retry_delay(config.error_delay_seconds, retry)
            retry += 1
            logger.warning(f"API request failed, retrying in {delay:g} s: {e}")
            await asyncio.sleep(delay)
            continue
        retry = 0
        logger.debug(describe(outcome))
        if outcome.observed is None or outcome.plan.requeue_after is None:
            return
        await asyncio.sleep(max(0.0, outcome.plan.requeue_after))
