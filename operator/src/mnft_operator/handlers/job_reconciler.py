"""One reconcile of one job: observe through k8s.py, plan, apply. No decisions are made here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from mnft_operator import conditions as cond
from mnft_operator import planner, settle
from mnft_operator.builders.k8s_podgroup import uses_kubernetes_gang
from mnft_operator.k8s import KubeClient
from mnft_operator.names import pod_name
from mnft_operator.pod_state import nodes_to_check
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
    if status.get("phase") not in planner.TERMINAL or not plan_is_idle(plan):
        return False
    failed = cond.find(status.get("conditions") or [], cond.FAILED)
    return not (failed and failed.get("status") == "True" and failed.get("reason") == "InvalidSpec")


def needs_daemon(job: Mapping[str, Any]) -> bool:
    """The job still has work for its daemon: not finished, or Failed/InvalidSpec (a spec fix resumes it).

    kopf keeps its finalizer on a job only while this holds (the daemon's filter), so a finished job has none.
    """
    status = job.get("status") or {}
    if status.get("phase") not in planner.TERMINAL:
        return True
    failed = cond.find(status.get("conditions") or [], cond.FAILED)
    return bool(failed and failed.get("status") == "True" and failed.get("reason") == "InvalidSpec")


def ttl_pending(job: Mapping[str, Any]) -> bool:
    """A finished job that ttlSecondsAfterFinished will delete (a one-shot reconcile does it, no daemon)."""
    run_policy = (job.get("spec") or {}).get("runPolicy") or {}
    deleting = (job.get("metadata") or {}).get("deletionTimestamp")
    return not needs_daemon(job) and not deleting and run_policy.get("ttlSecondsAfterFinished") is not None


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
    children = await client.list_children(namespace, name, kubernetes_podgroups=uses_kubernetes_gang(job))
    log_tail = None
    if rank0_running(name, children.pods):
        log_tail = await client.read_log_tail(namespace, pod_name(name, 0), lines=log_tail_lines)
    node_names = nodes_to_check(children.pods)
    nodes = await client.bounded([client.get_node(node) for node in node_names])
    return Observed(
        job=job,
        pods=children.pods,
        services=children.services,
        configmaps=children.configmaps,
        podgroups=children.podgroups,
        rank0_log_tail=log_tail,
        now=now,
        allow_host_path=allow_host_path,
        nodes=dict(zip(node_names, nodes, strict=True)),
    )


def status_after(job: Mapping[str, Any], status: Mapping[str, Any] | None) -> dict[str, Any]:
    """The job as it is once `patch_status(job, status)` went through (kopf's own status key kept)."""
    old = dict(job.get("status") or {})
    if status is None:
        return dict(job)
    new = {k: v for k, v in status.items() if v is not None}
    if "kopf" in old:
        new["kopf"] = old["kopf"]
    return {**job, "status": new}


async def apply(client: KubeClient, observed: Observed, plan: Plan, now: datetime) -> Plan:
    """Apply a plan: status, deletes, creates, then the status the creates' answers call for
    (`settle.settle`), its extra deletes, updates, events, TTL deletion. Returns the settled plan.

    Status goes first so a restart's new generation is recorded before old pods go. Once the status
    is patched the plan's events describe a transition that happened, so they are posted even when a
    later step fails (the next reconcile retries that step, but would not repeat the events).
    """
    job = observed.job
    namespace = job["metadata"]["namespace"]
    if plan.status is not None:
        await client.patch_status(job, plan.status)
    settled = plan
    try:
        await client.bounded([client.delete(namespace, ref) for ref in plan.delete])
        await client.bounded(
            [client.delete(namespace, ref, grace_period_seconds=0) for ref in plan.force_delete]
        )
        results = await client.bounded([client.create(namespace, obj) for obj in plan.create])
        settled = settle.settle(observed, plan, results)
        if settled.status != plan.status and settled.status is not None:
            await client.patch_status(status_after(job, plan.status), settled.status)
        await client.bounded(
            [client.delete(namespace, ref) for ref in settled.delete if ref not in plan.delete]
        )
        await client.bounded([client.update(namespace, obj) for obj in plan.update])
    finally:
        for event in settled.events:
            await client.post_event(job, event, now)
    if plan.delete_job:
        await client.delete_job(namespace, job["metadata"]["name"])
    return settled


async def reconcile_once(
    client: KubeClient, namespace: str, name: str, log_tail_lines: int = 50, allow_host_path: bool = False
) -> Outcome:
    before = client.requests
    now = utcnow()
    observed = await observe(client, namespace, name, now, log_tail_lines, allow_host_path)
    if observed is None:
        return Outcome(observed=None, plan=Plan(), requests=client.requests - before)
    plan = await apply(client, observed, planner.plan(observed), now)
    return Outcome(observed=observed, plan=plan, requests=client.requests - before)
