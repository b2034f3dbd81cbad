"""The reconcile planner: one pure function from what exists (`Observed`) to what to do (`Plan`).

`plan(observed)` is deterministic and converges: applying its Plan and observing again creates and deletes
nothing more. Handlers should apply a plan in this order: status, deletes, creates, updates, events (status
first so a restart's new generation is recorded before the old pods go). `Plan.status` is the whole new
status; a key set to None was removed, so a JSON merge patch of `{"status": plan.status}` is exact.

Lifecycle (status.phase):
- invalid spec -> Failed/InvalidSpec, a Warning event, nothing created (fixing the spec clears it);
- Pending: Service (+ ConfigMap `rings-config-<job>` on Ascend, + PodGroup with Volcano) and the pods of
  generation `status.restarts` are created; Running once every worker pod runs;
- a retryable failure (see exit_codes) deletes every pod of the generation, increments restarts and goes
  Restarting; the next generation's pods (same names) are created only after the old pods are gone; past
  `backoffLimit` the job is Failed/BackoffLimitExceeded. A trainer error (exit 1-127) fails the job at once
  with the pod's termination message. When several pods failed, the earliest failure decides;
- Succeeded when every worker pod exited 0 (result from rank 0's termination message);
- activeDeadlineSeconds (from startTime) -> Failed/DeadlineExceeded; suspend removes the pods (Suspended),
  resume creates them again and restarts the deadline clock;
- once finished, cleanPodPolicy deletes pods (Running: those still active; All; None) and
  ttlSecondsAfterFinished deletes the job.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mnft_operator import conditions as cond
from mnft_operator.builders.configmap import build_configmap, configmap_patch, rank_table_data
from mnft_operator.builders.podgroup import build_podgroup
from mnft_operator.builders.pods import build_pod
from mnft_operator.builders.service import build_service
from mnft_operator.exit_codes import RETRYABLE, Failure, classify
from mnft_operator.names import pod_name, rings_configmap_name
from mnft_operator.pod_state import (
    counts,
    finished_at,
    is_active,
    is_deleting,
    name_of,
    phase_of,
    split_pods,
    trainer_terminated,
    waiting_reason,
)
from mnft_operator.progress import parse_progress, parse_result
from mnft_operator.rank_table import build_rank_table
from mnft_operator.spec import RANK_TABLE, InvalidSpec, Job, SpecError, parse
from mnft_operator.types import Event, ObjectRef, Observed, Plan

__all__ = ["PROGRESS_INTERVAL", "Event", "ObjectRef", "Observed", "Plan", "plan"]

PROGRESS_INTERVAL = 10.0  # seconds between progress reads while Running
TERMINAL = ("Succeeded", "Failed")


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def plan(observed: Observed) -> Plan:
    """What to create, update, delete and report for one MobileNetFineTune."""
    meta = observed.job.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return Plan()  # ownerReferences make the garbage collector remove the children
    try:
        job = parse(observed.job, observed.allow_host_path)  # validates once
    except InvalidSpec as invalid:
        return _invalid(observed, invalid.errors)
    return _Planner(observed, job).run()


def _invalid(observed: Observed, errors: list[SpecError]) -> Plan:
    old = dict(observed.job.get("status") or {})
    message = "; ".join(str(e) for e in errors)
    st = copy.deepcopy(old)
    was = cond.find(st.get("conditions", []), cond.FAILED)
    st["conditions"] = cond.set_condition(
        st.get("conditions", []), cond.FAILED, True, "InvalidSpec", message, observed.now
    )
    st["phase"] = "Failed"
    st["message"] = message
    st.setdefault("completionTime", cond.rfc3339(observed.now))
    _observed_generation(st, observed)
    same = was is not None and was.get("reason") == "InvalidSpec" and was.get("message") == message
    events = () if same else (Event("Warning", "InvalidSpec", message),)
    return Plan(status=None if st == old else st, events=events)


def _observed_generation(st: dict[str, Any], observed: Observed) -> None:
    generation = (observed.job.get("metadata") or {}).get("generation")
    if generation is not None:
        st["observedGeneration"] = generation


class _Planner:
    def __init__(self, observed: Observed, job: Job) -> None:
        self.observed = observed
        self.job = job
        self.spec = job.spec
        self.now = observed.now
        self.old: dict[str, Any] = dict(observed.job.get("status") or {})
        self.st: dict[str, Any] = copy.deepcopy(self.old)
        self.st.setdefault("restarts", 0)
        self.gen: int = self.st["restarts"]
        self.create: list[dict[str, Any]] = []
        self.update: list[dict[str, Any]] = []
        self.delete: list[ObjectRef] = []
        self.events: list[Event] = []
        self.requeue: list[float] = []
        self.delete_job = False
        self.pods = split_pods(
            observed.pods,
            self.gen,
            self.spec.workers,
            terminating_is_stale=self.old.get("phase") != "Running",
        )

    # -- helpers -----------------------------------------------------------------------------------------
    @property
    def conds(self) -> list[dict[str, Any]]:
        return list(self.st.get("conditions", []))

    def set(self, type_: str, status: bool, reason: str, message: str) -> bool:
        """Set a condition; True when its status or reason changed (an event-worthy transition)."""
        before = cond.find(self.conds, type_)
        self.st["conditions"] = cond.set_condition(self.conds, type_, status, reason, message, self.now)
        return before is None or (before.get("status"), before.get("reason")) != (
            "True" if status else "False",
            reason,
        )

    def clear(self, type_: str, reason: str, message: str) -> None:
        self.st["conditions"] = cond.clear_if_true(self.conds, type_, reason, message, self.now)

    def event(self, type_: str, reason: str, message: str) -> None:
        self.events.append(Event(type_, reason, message))

    def delete_pods(self, pods: Any) -> None:
        for pod in pods:
            if not is_deleting(pod):
                self.delete.append(ObjectRef("v1", "Pod", name_of(pod)))

    def update_counts(self) -> None:
        c = counts(self.pods.current)
        self.st["workers"] = c
        self.st["workersReady"] = f"{c['ready']}/{self.spec.workers}"

    def remove(self, key: str) -> None:
        """Drop a status key; None (not absent) so a JSON merge patch of the status deletes it."""
        if key in self.old:
            self.st[key] = None
        else:
            self.st.pop(key, None)

    def finish(self) -> Plan:
        _observed_generation(self.st, self.observed)
        unchanged = {k: v for k, v in self.st.items() if v is not None} == self.old
        status = None if unchanged else self.st
        return Plan(
            create=tuple(self.create),
            update=tuple(self.update),
            delete=tuple(self.delete),
            status=status,
            events=tuple(self.events),
            delete_job=self.delete_job,
            requeue_after=min(self.requeue) if self.requeue else None,
        )

    # -- the flow ----------------------------------------------------------------------------------------
    def run(self) -> Plan:
        phase = self.old.get("phase")
        failed = cond.find(self.conds, cond.FAILED)
        if phase == "Failed" and failed is not None and failed.get("reason") == "InvalidSpec":
            self.set(cond.FAILED, False, "SpecCorrected", "the spec is valid now")
            self.remove("completionTime")
            phase = self.st["phase"] = "Pending"
        if phase in TERMINAL:
            self.apply_end_policies()
            return self.finish()
        self.ensure_children()
        if self.spec.run_policy.suspend:
            return self.suspend()
        if cond.is_true(self.conds, cond.SUSPENDED):
            self.set(cond.SUSPENDED, False, "Resumed", "spec.runPolicy.suspend is false")
            self.event("Normal", "Resumed", "job resumed; creating worker pods")
        if self.deadline_passed():
            limit = self.spec.run_policy.active_deadline_seconds
            return self.fail("DeadlineExceeded", f"the job ran longer than activeDeadlineSeconds ({limit} s)")
        if self.pods.stale:
            self.delete_pods(self.pods.stale)
            self.rank_table(list(self.pods.current.values()))
            self.st["phase"] = "Restarting" if self.gen > 0 else "Pending"
            self.st["message"] = f"waiting for {len(self.pods.stale)} pods of a previous attempt to terminate"
            self.update_counts()
            return self.finish()
        failure = self.first_failure()
        if failure is not None:
            return (
                self.restart(failure)
                if failure.kind == RETRYABLE
                else self.fail("TrainerError", failure.message)
            )
        current = self.pods.current
        if len(current) == self.spec.workers and all(phase_of(p) == "Succeeded" for p in current.values()):
            return self.succeed()
        self.create_missing_pods()
        self.rank_table(list(self.pods.current.values()))
        self.track_running()
        return self.finish()

    def ensure_children(self) -> None:
        names = {(o.get("metadata") or {}).get("name") for o in self.observed.services}
        if self.job.name not in names:
            self.create.append(build_service(self.job))
        if self.spec.comm_mode == RANK_TABLE:
            cms = {(o.get("metadata") or {}).get("name") for o in self.observed.configmaps}
            if rings_configmap_name(self.job.name) not in cms:
                table = build_rank_table(
                    list(self.pods.current.values()), self.spec.workers, self.spec.devices_per_worker
                )
                self.create.append(build_configmap(self.job, table))
        if self.spec.scheduling.gang == "volcano":
            groups = {(o.get("metadata") or {}).get("name") for o in self.observed.podgroups}
            if self.job.name not in groups:
                self.create.append(build_podgroup(self.job))

    def deadline_passed(self) -> bool:
        limit = self.spec.run_policy.active_deadline_seconds
        start = self.st.get("startTime")
        if limit is None or not start:
            return False
        remaining = limit - (self.now - _parse_time(start)).total_seconds()
        if remaining <= 0:
            return True
        self.requeue.append(remaining)
        return False

    def first_failure(self) -> Failure | None:
        found: list[tuple[str, int, Failure]] = []
        for pod in self.pods.current.values():
            failure = classify(pod)
            if failure is not None:
                # Earliest failure first; on a tie a trainer error beats a retryable one.
                found.append((finished_at(pod), 0 if failure.kind != RETRYABLE else 1, failure))
        if self.old.get("phase") == "Running":
            for index in range(self.spec.workers):
                if index not in self.pods.current:
                    name = pod_name(self.job.name, index)
                    found.append(("", 1, Failure(RETRYABLE, "PodMissing", f"{name}: pod disappeared")))
        return min(found, key=lambda f: (f[0], f[1]))[2] if found else None

    def restart(self, failure: Failure) -> Plan:
        limit = self.spec.run_policy.backoff_limit
        if self.gen >= limit:
            return self.fail(
                "BackoffLimitExceeded",
                f"{failure.message}; backoffLimit ({limit}) reached after {self.gen} restarts",
            )
        self.st["restarts"] = self.gen + 1
        message = f"{failure.message}; restart {self.gen + 1} of {limit}"
        self.delete_pods(self.pods.current.values())
        self.set(cond.RESTARTING, True, failure.reason, message)
        self.clear(cond.RUNNING, "Restarting", message)
        self.rank_table([])  # back to initializing before the next generation's pods can read it
        self.st["phase"] = "Restarting"
        self.st["message"] = message
        self.update_counts()
        self.event("Warning", "Restarting", message)
        return self.finish()

    def fail(self, reason: str, message: str) -> Plan:
        self.set(cond.FAILED, True, reason, message)
        self.clear(cond.RUNNING, "Failed", message)
        self.clear(cond.RESTARTING, "Failed", message)
        self.st["phase"] = "Failed"
        self.st["message"] = message
        self.st["completionTime"] = cond.rfc3339(self.now)
        self.update_counts()
        self.event("Warning", reason, message)
        self.apply_end_policies()
        return self.finish()

    def succeed(self) -> Plan:
        terminated = trainer_terminated(self.pods.current[0]) or {}
        result = parse_result(str(terminated.get("message") or ""))
        if result is not None:
            self.st["result"] = result
        accuracy = (result or {}).get("accuracy")
        message = f"all {self.spec.workers} workers succeeded" + (
            f"; accuracy {accuracy}" if accuracy is not None else ""
        )
        self.set(cond.SUCCEEDED, True, "AllWorkersSucceeded", message)
        self.clear(cond.RUNNING, "Succeeded", message)
        self.clear(cond.RESTARTING, "Succeeded", message)
        progress = self.st.get("progress")
        if isinstance(progress, dict) and "totalEpochs" in progress:
            self.st["progress"] = {**progress, "epoch": progress["totalEpochs"]}
        self.st["phase"] = "Succeeded"
        self.st["message"] = message
        self.st["completionTime"] = cond.rfc3339(self.now)
        self.update_counts()
        self.event("Normal", "Succeeded", message)
        self.apply_end_policies()
        return self.finish()

    def apply_end_policies(self) -> None:
        policy = self.spec.run_policy.clean_pod_policy
        pods = list(self.observed.pods)
        if policy == "All":
            self.delete_pods(pods)
        elif policy == "Running":
            self.delete_pods([p for p in pods if is_active(p)])
        ttl = self.spec.run_policy.ttl_seconds_after_finished
        done = self.st.get("completionTime")
        if ttl is not None and done:
            remaining = ttl - (self.now - _parse_time(done)).total_seconds()
            if remaining <= 0:
                self.delete_job = True
            else:
                self.requeue.append(remaining)

    def suspend(self) -> Plan:
        self.delete_pods(self.observed.pods)
        if self.set(cond.SUSPENDED, True, "Suspended", "spec.runPolicy.suspend is true; worker pods removed"):
            self.event("Normal", "Suspended", "job suspended; deleting worker pods")
        self.clear(cond.RUNNING, "Suspended", "the job is suspended")
        self.remove("startTime")
        self.st["phase"] = "Suspended"
        self.st["message"] = "suspended"
        self.update_counts()
        return self.finish()

    def create_missing_pods(self) -> None:
        missing = [i for i in range(self.spec.workers) if i not in self.pods.current]
        if not missing:
            return
        self.create.extend(build_pod(self.job, i, self.gen) for i in missing)
        if not self.st.get("startTime"):
            self.st["startTime"] = cond.rfc3339(self.now)
        message = f"created {len(missing)} worker pods (generation {self.gen})"
        self.set(cond.CREATED, True, "PodsCreated", f"worker pods of generation {self.gen} created")
        self.event("Normal", "PodsCreated", message)
        limit = self.spec.run_policy.active_deadline_seconds
        if limit is not None and "startTime" not in self.old:
            self.requeue.append(float(limit))

    def rank_table(self, pods: list[Mapping[str, Any]]) -> None:
        """Keep `rings-config-<job>` in step with `pods` (the current generation's) and RankTableReady."""
        if self.spec.comm_mode != RANK_TABLE:
            return
        table = build_rank_table(pods, self.spec.workers, self.spec.devices_per_worker)
        data = rank_table_data(table)
        name = rings_configmap_name(self.job.name)
        existing = next(
            (c for c in self.observed.configmaps if (c.get("metadata") or {}).get("name") == name), None
        )
        if existing is not None and dict(existing.get("data") or {}) != data:
            self.update.append(configmap_patch(self.job, table))
        self.st["rankTableVersion"] = table.version
        devices = self.spec.world_size
        if table.completed:
            if self.set(cond.RANK_TABLE_READY, True, "RankTableReady", f"hccl.json lists {devices} devices"):
                self.event("Normal", "RankTableReady", f"hccl.json completed for {devices} devices")
        else:
            detail = "; ".join(table.problems) or "waiting for the Ascend device plugin's annotations"
            self.set(
                cond.RANK_TABLE_READY,
                False,
                "WaitingForDevices",
                f"{table.annotated}/{self.spec.workers} worker pods annotated; {detail}",
            )

    def track_running(self) -> None:
        current = self.pods.current
        self.update_counts()
        workers = self.spec.workers
        running = len(current) == workers and all(
            phase_of(p) in ("Running", "Succeeded") for p in current.values()
        )
        if running:
            if self.set(cond.RUNNING, True, "AllWorkersRunning", f"{workers} worker pods running"):
                self.event("Normal", "Running", f"all {workers} worker pods are running")
            self.clear(cond.RESTARTING, "Recovered", f"generation {self.gen} is running")
            self.st["phase"] = "Running"
            self.requeue.append(PROGRESS_INTERVAL)
        else:
            restarting = cond.is_true(self.conds, cond.RESTARTING)
            self.st["phase"] = "Restarting" if restarting else "Pending"
        if self.observed.rank0_log_tail is not None:
            progress = parse_progress(self.observed.rank0_log_tail)
            if progress is not None:
                self.st["progress"] = progress
        self.st["message"] = self.summary(running)

    def summary(self, running: bool) -> str:
        workers = self.st["workers"]
        text = f"{workers['ready']}/{self.spec.workers} workers ready"
        progress = self.st.get("progress")
        if running and isinstance(progress, dict) and "epoch" in progress:
            text += f", epoch {progress['epoch']}/{progress.get('totalEpochs', '?')}"
            if "loss" in progress:
                text += f", loss {progress['loss']}"
        if not running:
            stuck = next((why for p in self.pods.current.values() if (why := waiting_reason(p))), None)
            if stuck:
                text += f"; {stuck}"
        return text
