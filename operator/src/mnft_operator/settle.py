"""Creates report what the API answered: `settle(observed, plan, results)` after a plan's creates.

Created=True only for what the API accepted. A refusal sets Created=False with the reason
(`PodCreateFailed`, `ServiceCreateFailed`, ..., `NameConflict`) and the API's message, one Warning event
per distinct error, and a retry backoff (`planner.create_backoff`, from `status.failedCreateAttempts`
and the condition's lastProbeTime); a refusal that can never succeed (see `create_results`) fails the job.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from mnft_operator import conditions as cond
from mnft_operator import create_results
from mnft_operator.planner import RETRIED_CREATE, Planner, create_backoff, created_message
from mnft_operator.pod_state import name_of
from mnft_operator.spec import parse
from mnft_operator.types import CreateResult, ObjectRef, Observed, Plan


def settle(observed: Observed, planned: Plan, results: Sequence[CreateResult]) -> Plan:
    """`planned` as it turned out once its creates were answered (`results`, in `planned.create` order).

    The returned Plan is the one to report: its status says Created=True only for what the API accepted,
    carries a refusal's reason and message (or fails the job when it can never succeed), and its events
    add PodsCreated or one Warning per distinct error. Deletes it adds (cleanPodPolicy on such a failure)
    are still to be done; its creates are the ones already tried.
    """
    if not planned.create:
        return planned
    old = dict(observed.job.get("status") or {})
    base = old if planned.status is None else {k: v for k, v in planned.status.items() if v is not None}
    uid = str((observed.job.get("metadata") or {}).get("uid") or "")
    created = [
        obj
        for obj, res in zip(planned.create, results, strict=True)
        if obj.get("kind") == "Pod" and create_results.classify(res, uid) == create_results.CREATED
    ]
    view = dataclasses.replace(
        observed, job={**observed.job, "status": base}, pods=[*observed.pods, *created]
    )
    planner = Planner(view, parse(view.job, observed.allow_host_path))
    _answered(planner, planned.create, results)
    follow = planner.finish()
    status: Mapping[str, Any] | None = planned.status
    if follow.status is not None:
        removed = {k: None for k, v in (planned.status or {}).items() if v is None}
        status = {**removed, **{k: v for k, v in follow.status.items() if not (v is None and k not in old)}}
    delete = planned.delete + tuple(d for d in follow.delete if d not in planned.delete)
    requeues = [r for r in (planned.requeue_after, follow.requeue_after) if r is not None]
    return dataclasses.replace(
        planned,
        delete=delete,
        status=status,
        events=planned.events + follow.events,
        requeue_after=min(requeues) if requeues else None,
    )


def _answered(
    planner: Planner, objects: Sequence[Mapping[str, Any]], results: Sequence[CreateResult]
) -> None:
    """Report the API's answers to `objects` (see `settle`)."""
    outcomes = [
        (obj, res, create_results.classify(res, planner.job.uid))
        for obj, res in zip(objects, results, strict=True)
    ]
    created = [obj for obj, _, how in outcomes if how == create_results.CREATED]
    pods = [obj for obj in created if obj.get("kind") == "Pod"]
    refused = sorted(
        ((how, res) for _, res, how in outcomes if how != create_results.CREATED),
        key=lambda o: (o[0] != create_results.PERMANENT, o[0] != create_results.CONFLICT, o[1].name),
    )
    conflict = any(how == create_results.CONFLICT for how, _ in refused)
    if pods and not conflict:  # on a conflict they are deleted again at once (below)
        planner.event("Normal", "PodsCreated", f"created {len(pods)} worker pods (generation {planner.gen})")
    if not refused:
        if set(planner.pods.current) >= set(range(planner.spec.workers)):
            planner.set(cond.CREATED, True, "PodsCreated", created_message(planner.gen))
        planner.remove("failedCreateAttempts")
        return
    how, first = refused[0]
    reason = RETRIED_CREATE if how == create_results.CONFLICT else f"{first.kind}CreateFailed"
    lines = [create_results.describe(res, planner.job.namespace) for _, res in refused]
    message = lines[0] + (f" (and {len(lines) - 1} more refused)" if len(lines) > 1 else "")
    if how == create_results.PERMANENT:
        planner.set(cond.CREATED, False, reason, message, probed=planner.now)
        planner.remove("failedCreateAttempts")
        planner.fail(reason, message)
        return
    if how == create_results.CONFLICT:
        # The job does not proceed next to a stranger holding one of its names: this round's pods go.
        planner.delete.extend(ObjectRef("v1", "Pod", name_of(p)) for p in pods)
    before = cond.find(planner.conds, cond.CREATED) or {}
    if (before.get("status"), before.get("reason"), before.get("message")) != ("False", reason, message):
        planner.event("Warning", reason, message)
    planner.set(cond.CREATED, False, reason, message, probed=planner.now)
    failures = int(planner.old.get("failedCreateAttempts") or 0) + 1
    planner.st["failedCreateAttempts"] = failures
    planner.requeue.append(create_backoff(failures))
    next_try = planner.now + timedelta(seconds=create_backoff(failures))
    planner.st["message"] = f"{message}; next attempt at {cond.rfc3339(next_try)}"
