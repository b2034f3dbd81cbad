"""One reconcile of one job: observe through k8s.py, plan, apply. No decisions are made here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from mnft_operator import conditions as cond
from mnft_operator import reconcile
from mnft_operator.k8s import KubeClient
from mnft_operator.names import pod_name
from mnft_operator.types import Observed, Plan


@dataclass(frozen=True)
class Outcome:
    observed: Observed | None  # None: the job is gone or being deleted
    plan: Plan
    requests: int  # API requests this reconcile made


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def rank0_running(job_name: str, pods: Sequence[Mapping[str, Any]]) -> bool:
    for pod in pods:
        if pod.get("metadata", {}).get("name") == pod_name(job_name, 0):
            return (pod.get("status") or {}).get("phase") == "Running"
    return False


def plan_is_idle(plan: Plan) -> bool:
    """Nothing to do now and nothing scheduled."""
    return not (
        plan.create
        or plan.update
        or plan.delete
        or plan.status is not None
        or plan.events
        or plan.delete_job
        or plan.requeue_after is not None
    )


def is_finished(observed: Observed | None, plan: Plan) -> bool:
    """The job is gone, or terminal with nothing left to do: its daemon may exit.

    Failed with reason InvalidSpec is not final: fixing the spec resumes the job, so its daemon stays.
    """
    if observed is None:
        return True
    status = observed.job.get("status") or {}
    if status.get("phase") not in reconcile.TERMINAL or not plan_is_idle(plan):
        return False
    failed = cond.find(status.get("conditions") or [], cond.FAILED)
    return not (failed and failed.get("status") == "True" and failed.get("reason") == "InvalidSpec")


async def observe(
    client: KubeClient,
    namespace: str,
    name: str,
    now: datetime,
    log_tail_lines: int = 50,
    allow_host_path: bool = False,
) -> Observed | None:
    job = await client.get_job(namespace, name)
    if job is None or (job.get("metadata") or {}).get("deletionTimestamp"):
        return None  # gone or going: never create children for a job being deleted
    children = await client.list_children(namespace, name)
    log_tail = None
    if rank0_running(name, children.pods):
        log_tail = await client.read_log_tail(namespace, pod_name(name, 0), lines=log_tail_lines)
    return Observed(
        job=job,
        pods=children.pods,
        services=children.services,
        configmaps=children.configmaps,
        podgroups=children.podgroups,
        rank0_log_tail=log_tail,
        now=now,
        allow_host_path=allow_host_path,
    )


async def apply(client: KubeClient, job: Mapping[str, Any], plan: Plan, now: datetime) -> None:
    """Apply a plan in the planner's order: status, deletes, creates, updates, events, TTL deletion.

    Status goes first so a restart's new generation is recorded before old pods go. Once the status
    is patched the plan's events describe a transition that happened, so they are posted even when a
    later step fails (the next reconcile retries that step, but would not repeat the events).
    """
    namespace = job["metadata"]["namespace"]
    if plan.status is not None:
        await client.patch_status(job, plan.status)
    try:
        await client.bounded([client.delete(namespace, ref) for ref in plan.delete])
        await client.bounded([client.create(namespace, obj) for obj in plan.create])
        await client.bounded([client.update(namespace, obj) for obj in plan.update])
    finally:
        for event in plan.events:
            await client.post_event(job, event, now)
    if plan.delete_job:
        await client.delete_job(namespace, job["metadata"]["name"])


async def reconcile_once(
    client: KubeClient, namespace: str, name: str, log_tail_lines: int = 50, allow_host_path: bool = False
) -> Outcome:
    before = client.requests
    now = utcnow()
    observed = await observe(client, namespace, name, now, log_tail_lines, allow_host_path)
    if observed is None:
        return Outcome(observed=None, plan=reconcile.Plan(), requests=client.requests - before)
    plan = reconcile.plan(observed)
    await apply(client, observed.job, plan, now)
    return Outcome(observed=observed, plan=plan, requests=client.requests - before)
