"""The planner: one pure function from what exists (`Observed`) to what to do (`Plan`).

`plan(observed)` is deterministic and converges: applying its Plan and observing again creates and deletes
nothing more. Handlers should apply a plan in this order: status, deletes, creates, updates, events (status
first so a restart's new generation is recorded before the old pods go). `Plan.status` is the whole new
status; a key set to None was removed, so a JSON merge patch of `{"status": plan.status}` is exact.

Ownership: only objects whose controller ownerReference carries the job's uid are the job's. A labelled
object at one of the job's names without it (e.g. left by an earlier job of that name deleted with
`--cascade=orphan`) is a name conflict: Created=False/NameConflict, a Warning event, nothing created,
never adopted or deleted. Other labelled objects are ignored.

Creates: `plan()` only asks for them; `settle.settle(observed, plan, results)` turns the API's answers into
the status (Created=True only for what the API accepted). Gang scheduling and Kueue decisions are in `gang`.

Lifecycle (status.phase):
- invalid spec -> Failed/InvalidSpec, a Warning event, nothing created (fixing the spec clears it);
- Pending: Service (+ ConfigMap `rings-config-<job>` on Ascend, + PodGroup with Volcano) and the pods of
  generation `status.restarts` are created; Running once every worker pod runs;
- once every pod of the generation was created (Created=True) the generation has started: from then on a
  failed, deleted or missing pod restarts the whole job, never one pod alone;
- a retryable failure (see exit_codes) deletes every pod of the generation, increments restarts and goes
  Restarting; the next generation's pods (same names) are created only after the old pods are gone; past
  `backoffLimit` the job is Failed/BackoffLimitExceeded. A trainer error (exit 1-127) fails the job at once
  with the pod's termination message. When several pods failed, the earliest failure decides;
- Succeeded when every worker pod exited 0 (result from rank 0's termination message);
- activeDeadlineSeconds (from startTime) -> Failed/DeadlineExceeded; suspend removes the pods (Suspended),
  resume creates them again and restarts the deadline clock;
- a terminating pod on a lost node (gone, NotReady, tainted unreachable) is force-deleted
  `runPolicy.forceDeleteLostPodsAfterSeconds` after its grace period (at once when tainted out-of-service);
- an emptyDir output with backoffLimit > 0: CheckpointsEphemeral=True and a Warning event;
- once finished, cleanPodPolicy deletes pods (Running: those still active; All; None) and
  ttlSecondsAfterFinished deletes the job.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from mnft_operator import conditions as cond
from mnft_operator import gang
from mnft_operator.builders.configmap import build_configmap, configmap_patch, rank_table_data
from mnft_operator.builders.k8s_podgroup import K8S_PODGROUP_API_VERSION, k8s_podgroup_name
from mnft_operator.builders.podgroup import PODGROUP_API_VERSION, build_podgroup
from mnft_operator.builders.pods import build_pod
from mnft_operator.builders.service import build_service
from mnft_operator.exit_codes import RETRYABLE, Failure, classify
from mnft_operator.names import pod_name, rings_configmap_name
from mnft_operator.pod_state import (
    OUT_OF_SERVICE_TAINT,
    counts,
    deletion_deadline,
    describe_owner,
    finished_at,
    is_active,
    is_deleting,
    is_owned,
    name_of,
    node_lost,
    node_of,
    phase_of,
    split_pods,
    trainer_terminated,
    waiting_reason,
)
from mnft_operator.progress import parse_progress, parse_result
from mnft_operator.rank_table import build_rank_table
from mnft_operator.spec import RANK_TABLE, InvalidSpec, Job, SpecError, parse
from mnft_operator.types import Event, ObjectRef, Observed, Plan

PROGRESS_INTERVAL = 10.0  # seconds between progress reads while Running
TERMINAL = ("Succeeded", "Failed")
CREATE_BACKOFF = 5.0  # seconds before the first retry of a refused create; doubles per failure
CREATE_BACKOFF_CAP = 120.0
RETRIED_CREATE = "NameConflict"  # with the *CreateFailed reasons: a Created=False that backs off


def create_backoff(failures: int) -> float:
    """Seconds between the failures-th failed create attempt and the next one: 5, 10, 20, ... 120."""
    return float(min(CREATE_BACKOFF_CAP, CREATE_BACKOFF * 2 ** min(max(failures - 1, 0), 16)))


TOO_DEEP = "nested too deeply to process (Python's recursion limit); real objects nest under 100 levels"


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def plan(observed: Observed, job: Job | None = None) -> Plan:
    """What to create, update, delete and report for one MobileNetFineTune.

    `job`: `observed.job` already parsed (`mnft render` parses it once for its own use); None parses it.
    """
    meta = observed.job.get("metadata") or {}
    if meta.get("deletionTimestamp"):
        return Plan()  # ownerReferences make the garbage collector remove the children
    try:
        if job is None:
            job = parse(observed.job, observed.allow_host_path)  # validates once
        return Planner(observed, job).run()
    except InvalidSpec as invalid:
        return _invalid(observed, invalid.errors)
    except RecursionError:  # a real API server stores objects 10,000 levels deep; Python cannot walk them
        return _invalid(observed, [SpecError("spec", TOO_DEEP)])


def _of_api(objects: Sequence[Mapping[str, Any]], api_version: str) -> list[Mapping[str, Any]]:
    return [o for o in objects if o.get("apiVersion") == api_version]


def created_message(generation: int) -> str:
    """The message of Created=True; it names the generation, so `started` never carries over a restart."""
    return f"worker pods of generation {generation} created"


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


class Planner:
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
        self.force_delete: list[ObjectRef] = []
        self.events: list[Event] = []
        self.requeue: list[float] = []
        self.delete_job = False
        self.conflicts: list[str] = []  # labelled objects at our names that we do not control
        self.lost_notes: list[str] = []  # terminating pods on lost nodes, for the status message
        self.waiting_note = ""  # a refused create backing off, for the status message
        pod_names = {pod_name(job.name, i) for i in range(self.spec.workers)}
        self.owned_pods = self.owned(observed.pods, pod_names)
        self.services = self.owned(observed.services, {job.name})
        self.configmaps = self.owned(observed.configmaps, {rings_configmap_name(job.name)})
        self.podgroups = self.owned(_of_api(observed.podgroups, PODGROUP_API_VERSION), {job.name})
        # Kubernetes' own PodGroups (scheduling.gang: kubernetes), one per generation.
        self.gang_groups = self.owned(
            _of_api(observed.podgroups, K8S_PODGROUP_API_VERSION), {k8s_podgroup_name(job.name, self.gen)}
        )
        # Started: every pod of this generation was created. A pod that goes missing then is a failure.
        created = cond.find(self.old.get("conditions") or [], cond.CREATED) or {}
        self.started = created.get("status") == "True" and created.get("message") == created_message(self.gen)
        self.pods = split_pods(
            self.owned_pods, self.gen, self.spec.workers, terminating_is_stale=not self.started
        )

    def owned(self, objects: Sequence[Mapping[str, Any]], names: set[str]) -> list[Mapping[str, Any]]:
        """The objects this job controls; a foreign one at one of `names` is recorded as a conflict."""
        mine = []
        for obj in objects:
            if is_owned(obj, self.job.uid):
                mine.append(obj)
            elif name_of(obj) in names:
                kind = obj.get("kind") or "object"
                self.conflicts.append(
                    f"{kind} {self.job.namespace}/{name_of(obj)} is labelled for this job but not controlled "
                    f"by it ({describe_owner(obj)}); delete or rename it"
                )
        return mine

    # -- helpers -----------------------------------------------------------------------------------------
    @property
    def conds(self) -> list[dict[str, Any]]:
        return list(self.st.get("conditions", []))

    def set(
        self, type_: str, status: bool, reason: str, message: str, probed: datetime | None = None
    ) -> bool:
        """Set a condition; True when its status or reason changed (an event-worthy transition)."""
        before = cond.find(self.conds, type_)
        self.st["conditions"] = cond.set_condition(
            self.conds, type_, status, reason, message, self.now, probed=probed
        )
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
            force_delete=tuple(self.force_delete),
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
        self.checkpoints_warning()
        self.force_delete_lost_pods()
        may_create = self.may_create()
        if may_create:
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
            self.st["message"] += "".join(f"; {note}" for note in self.lost_notes)
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
        if may_create:
            self.create_missing_pods()
        self.rank_table(list(self.pods.current.values()))
        self.track_running()
        if self.conflicts:
            self.st["message"] = f"blocked by a name conflict: {self.conflicts[0]}"
        elif self.waiting_note:
            self.st["message"] = self.waiting_note
        return self.finish()

    def may_create(self) -> bool:
        """False while a name conflict is observed or a refused create is backing off (requeued)."""
        if self.conflicts:
            message = "; ".join(self.conflicts)
            before = cond.find(self.conds, cond.CREATED) or {}
            if (before.get("status"), before.get("reason"), before.get("message")) != (
                "False",
                RETRIED_CREATE,
                message,
            ):
                self.event("Warning", RETRIED_CREATE, message)
            self.set(cond.CREATED, False, RETRIED_CREATE, message)
            return False
        created = cond.find(self.conds, cond.CREATED) or {}
        reason = str(created.get("reason") or "")
        refused = created.get("status") == "False" and (
            reason == RETRIED_CREATE or reason.endswith("CreateFailed")
        )
        if not refused or not created.get("lastProbeTime"):
            return True
        failures = int(self.old.get("failedCreateAttempts") or 1)
        next_try = parse_time(created["lastProbeTime"]) + timedelta(seconds=create_backoff(failures))
        due = (next_try - self.now).total_seconds()
        if due > 0:
            self.requeue.append(due)
            self.waiting_note = f"{created.get('message')}; next attempt at {cond.rfc3339(next_try)}"
            return False
        return True

    def ensure_children(self) -> None:
        names = {name_of(o) for o in self.services}
        if self.job.name not in names:
            self.create.append(build_service(self.job))
        if self.spec.comm_mode == RANK_TABLE:
            cms = {name_of(o) for o in self.configmaps}
            if rings_configmap_name(self.job.name) not in cms:
                table = build_rank_table(
                    list(self.pods.current.values()), self.spec.workers, self.spec.devices_per_worker
                )
                self.create.append(build_configmap(self.job, table))
        if self.spec.scheduling.gang == "volcano":
            groups = {name_of(o) for o in self.podgroups}
            if self.job.name not in groups:
                self.create.append(build_podgroup(self.job))
        self.ensure_gang_group()

    # -- gang scheduling and Kueue (gang.py) ---------------------------------------------------------
    def ensure_gang_group(self) -> None:
        create, delete = gang.group_changes(self.job, self.gen, self.gang_groups)
        self.create.extend(create)
        self.delete.extend(delete)

    def track_admission(self) -> str | None:
        """Admitted (jobs queued through Kueue); returns the status message while waiting."""
        found = gang.admission(self.job, self.pods.current)
        if found is None:
            return None
        admitted, reason, message = found
        if self.set(cond.ADMITTED, admitted, reason, message):
            self.event("Normal", reason, message)
        return None if admitted else message

    def kueue_not_retriable(self) -> None:
        self.update.extend(gang.not_retriable_patches(self.job, self.owned_pods))

    def checkpoints_warning(self) -> None:
        """CheckpointsEphemeral: an emptyDir output loses the checkpoints that a restart resumes from."""
        volume = self.spec.output.volume
        limit = self.spec.run_policy.backoff_limit
        if (volume is None or "emptyDir" in volume) and limit > 0:
            what = "not set, so it is an emptyDir" if volume is None else "an emptyDir"
            message = (
                f"spec.output.volume is {what}: checkpoints are deleted with the pods, so a whole-job "
                f"restart (backoffLimit {limit}) starts training from the first epoch; set "
                "spec.output.volume to a persistentVolumeClaim to resume from the newest checkpoint"
            )
            if self.set(cond.CHECKPOINTS_EPHEMERAL, True, "EmptyDirOutput", message):
                self.event("Warning", cond.CHECKPOINTS_EPHEMERAL, message)
        else:
            why = "backoffLimit is 0" if limit == 0 else "spec.output.volume is not an emptyDir"
            self.clear(cond.CHECKPOINTS_EPHEMERAL, "CheckpointsKept" if limit else "NoRestarts", why)

    def force_delete_lost_pods(self) -> None:
        """Force-delete terminating pods of lost nodes once past their grace period plus the bound."""
        bound = self.spec.run_policy.force_delete_lost_pods_after_seconds
        for pod in self.owned_pods:
            node = node_of(pod)
            if not is_deleting(pod) or not node or node not in self.observed.nodes:
                continue
            why = node_lost(self.observed.nodes[node])
            if why is None:
                continue
            name = name_of(pod)
            at = parse_time(deletion_deadline(pod)) + timedelta(seconds=bound)
            due = 0.0 if OUT_OF_SERVICE_TAINT in why else (at - self.now).total_seconds()
            if due > 0:
                self.requeue.append(due)
                self.lost_notes.append(
                    f"{name} is on node {node} ({why}): force-deleting it at {cond.rfc3339(at)}"
                )
                continue
            self.force_delete.append(ObjectRef("v1", "Pod", name))
            self.lost_notes.append(f"{name} force-deleted: node {node} is {why}")
            self.event(
                "Warning",
                "ForceDeleted",
                f"{name}: force-deleted (gracePeriodSeconds 0): still terminating after its grace period "
                f"on node {node}, which is {why}",
            )

    def deadline_passed(self) -> bool:
        limit = self.spec.run_policy.active_deadline_seconds
        start = self.st.get("startTime")
        if limit is None or not start:
            return False
        remaining = limit - (self.now - parse_time(start)).total_seconds()
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
        if self.started:  # every pod was created: a missing one was deleted (maybe while the watch was down)
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
        self.set(
            cond.CREATED, False, "Restarting", f"worker pods of generation {self.gen + 1} not created yet"
        )
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
        self.kueue_not_retriable()
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
            if "etaSeconds" in progress:
                self.st["progress"]["etaSeconds"] = 0
        self.st["phase"] = "Succeeded"
        self.st["message"] = message
        self.st["completionTime"] = cond.rfc3339(self.now)
        self.update_counts()
        self.event("Normal", "Succeeded", message)
        self.apply_end_policies()
        return self.finish()

    def apply_end_policies(self) -> None:
        policy = self.spec.run_policy.clean_pod_policy
        pods = list(self.owned_pods)
        if policy == "All":
            self.delete_pods(pods)
        elif policy == "Running":
            self.delete_pods([p for p in pods if is_active(p)])
        ttl = self.spec.run_policy.ttl_seconds_after_finished
        done = self.st.get("completionTime")
        if ttl is not None and done:
            remaining = ttl - (self.now - parse_time(done)).total_seconds()
            if remaining <= 0:
                self.delete_job = True
            else:
                self.requeue.append(remaining)

    def suspend(self) -> Plan:
        self.delete_pods(self.owned_pods)
        if self.set(cond.SUSPENDED, True, "Suspended", "spec.runPolicy.suspend is true; worker pods removed"):
            self.event("Normal", "Suspended", "job suspended; deleting worker pods")
        self.clear(cond.RUNNING, "Suspended", "the job is suspended")
        if self.started:
            self.set(cond.CREATED, False, "Suspended", "worker pods removed while the job is suspended")
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
        existing = next((c for c in self.configmaps if (c.get("metadata") or {}).get("name") == name), None)
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
        admission = self.track_admission()
        if self.observed.rank0_log_tail is not None:
            progress = parse_progress(self.observed.rank0_log_tail)
            if progress is not None:
                self.st["progress"] = progress
        self.st["message"] = self.summary(running)
        if admission is not None:
            self.st["message"] += f"; WaitingForAdmission: {admission}"

    def summary(self, running: bool) -> str:
        workers = self.st["workers"]
        text = f"{workers['ready']}/{self.spec.workers} workers ready"
        progress = self.st.get("progress")
        if running and isinstance(progress, dict) and "epoch" in progress:
            text += f", epoch {progress['epoch']}/{progress.get('totalEpochs', '?')}"
            if "loss" in progress:
                text += f", loss {progress['loss']}"
            if "imagesPerSecond" in progress:
                text += f", {progress['imagesPerSecond']} images/s"
            if "etaSeconds" in progress:
                text += f", ETA {progress['etaSeconds']} s"
        if not running:
            stuck = next((why for p in self.pods.current.values() if (why := waiting_reason(p))), None)
            if stuck:
                text += f"; {stuck}"
        return text
