"""A seeded chaos run: a real 2-worker CPU training job through the embedded API, the local kubelet and the
real operator, while N faults drawn from a seed hit it; invariants are checked the whole time.

    .venv/bin/python bench/chaos.py --seed 1 --faults 30 [--epochs E] [--kinds kill-rank,delete-pod,...]

Faults (`--kinds`, default all): kill-rank (SIGKILL one rank's training process), delete-pod (a worker pod,
graceful), restart-operator, cut-watch (every open watch stream ends), delete-service (the job's headless
Service; CPU jobs have no ConfigMap), api-errors (409/429/500 answered to a fraction of the operator's
requests until 6 are injected), node-not-ready (Ready=Unknown + unreachable taints until the next epoch),
node-lost (the node crashes and is cut off: its job processes are SIGKILLed, every kubelet request answers
503, the node goes NotReady and one of its pods is deleted as an eviction would; the node comes back only
once the operator got rid of the pods stuck terminating there).
One fault is injected after each new epoch rank 0 reports, so faults spread over the whole run. Faults that
need no training (restart-operator, cut-watch, delete-service, api-errors) are judged with every process of
the job stopped (SIGSTOP/SIGCONT, as a cgroup freezer pauses a container; the pods' MS_NODE_TIMEOUT is
raised above the longest such wait), so however fast a machine trains, the job cannot run out of epochs
before the last fault; api-errors wakes the frozen job's operator with annotations on its Service. A kill or a
pod deletion must cause exactly one whole-job restart that resumes from the newest checkpoint every rank
saved; every other fault must cause none.

Invariants, checked by a watcher thread every 0.25 s (API) / 1 s (processes): at most one live pod and one
training process per worker index; all live pods of one generation (whole-job restarts only); every pod
owned (controller ownerReference) by the job's uid; status.restarts never behind the pods' generation and
never decreasing. At the end: Succeeded with an accuracy, status.restarts equals the restarts the faults
caused, each restart resumed from the newest common checkpoint and lost at most one save interval, no
traceback in the operator's log. Prints a Markdown table for docs/benchmarks.md; exit 1 on a violation.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from kubernetes import client as k8s

from kube_emulator.apiserver.api_faults import FaultPlan
from mnft_local.local_cluster import LocalCluster
from mnft_local.local_logs import LogFollower
from mnft_local.local_status import phase_of
from mnft_operator.k8s import USER_AGENT

JOB = "chaos"
NAMESPACE = "default"
KINDS = (
    "kill-rank",
    "delete-pod",
    "restart-operator",
    "cut-watch",
    "delete-service",
    "api-errors",
    "node-not-ready",
    "node-lost",
)
DISRUPTIVE = {"kill-rank", "delete-pod", "node-lost"}  # each must cause exactly one whole-job restart
# Judged with the job's processes frozen (Chaos.frozen): the operator's work, no training needed.
FROZEN = {"restart-operator", "cut-watch", "delete-service", "api-errors"}
KUBELET_AGENT = "aiohttp"  # the local kubelet's User-Agent (aiohttp's default); kopf sends "kopf/<version>"
OPERATOR_AGENT = USER_AGENT  # the operator's own API client (pods, Services, events, status)
LOST_NODE_SECONDS = 300.0  # a pod stuck terminating on the lost node this long: the job is stuck
EPOCH_LINE = re.compile(r"^epoch\[(\d+)/(\d+)\]")
RESUME_LINE = re.compile(r"^resuming from \S+ \(epoch (\d+) of (\d+)\)")
CKPT_NAME = re.compile(r"^mobilenetv2_(\d+)\.ckpt$")
JOB_LABEL = "finetune.mindspore.io/job-name"
INDEX_LABEL = "finetune.mindspore.io/replica-index"
GENERATION_LABEL = "finetune.mindspore.io/generation"
MNFT = str(Path(sys.executable).parent / "mnft")
NODE_TIMEOUT_S = 900  # the job's MS_NODE_TIMEOUT
STEP_TIMEOUT = 900.0  # a fault not recovered from in this long is a failure, not a wait


# ---- the job ---------------------------------------------------------------------------------------


def small_subset(source: Path, dest: Path, per_class: int) -> Path:
    for split in ("train", "eval"):
        for class_dir in sorted((source / split).iterdir()):
            target = dest / split / class_dir.name
            target.mkdir(parents=True, exist_ok=True)
            for image in sorted(class_dir.iterdir())[:per_class]:
                shutil.copy(image, target / image.name)
    return dest


def demo_dataset(workdir: Path, per_class: int, source: Path | None = None) -> Path:
    """`mnft demo-data` (digits 0-4, or `source` made by it), cut to `per_class` images per class."""
    full = source or workdir / "demo-data"
    if not (full / "train").is_dir():
        command = [MNFT, "demo-data", "--classes", "0,1,2,3,4", "--output", str(full)]
        subprocess.run(command, check=True, capture_output=True, timeout=600)
    return small_subset(full, workdir / "datasets" / "digits", per_class)


def job_manifest(epochs: int, backoff_limit: int) -> dict[str, Any]:
    return {
        "apiVersion": "finetune.mindspore.io/v1alpha1",
        "kind": "MobileNetFineTune",
        "metadata": {"name": JOB, "namespace": NAMESPACE},
        "spec": {
            "platform": "CPU",
            "image": "mnft-trainer:chaos",
            "workers": 2,
            "devicesPerWorker": 1,
            "dataset": {"path": "digits", "volume": {"persistentVolumeClaim": {"claimName": "data"}}},
            "output": {"path": "checkpoint", "volume": {"persistentVolumeClaim": {"claimName": "out"}}},
            "hyperparameters": {
                "imageHeight": 32,
                "imageWidth": 32,
                "batchSize": 16,
                "epochSize": epochs,
                "saveCheckpointEpochs": 1,
            },
            # MindSpore's heartbeat timeout (MS_NODE_TIMEOUT, 30 s by default) above the longest freeze
            # (Chaos.frozen: a fault's own wait, at most 300 s): a frozen job must not time itself out.
            "env": [{"name": "MS_NODE_TIMEOUT", "value": str(NODE_TIMEOUT_S)}],
            # A pod stuck terminating on a lost node is force-deleted 5 s after its grace period (the
            # operator's runPolicy field; an operator without it prunes the field and never does).
            "runPolicy": {"backoffLimit": min(100, backoff_limit), "forceDeleteLostPodsAfterSeconds": 5},
        },
    }


def rank_processes(rank: int) -> list[int]:
    """pids of the training process (MS_WORKER) of global rank `rank` of the chaos job. A process that
    MindSpore forks from the rank inherits its environment: it is part of that rank, not a second one."""
    wanted = {f"MNFT_JOB_NAME={JOB}", "MS_ROLE=MS_WORKER", f"MS_NODE_ID={rank}"}
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = set(Path(f"/proc/{entry}/environ").read_bytes().decode(errors="replace").split("\0"))
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if wanted <= environ and fields[0] != "Z":
            parents[int(entry)] = int(fields[1])
    return sorted(pid for pid, ppid in parents.items() if ppid not in parents)


def job_processes() -> list[int]:
    """pids of every process of the chaos job's pods (launch, scheduler, ranks)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"MNFT_JOB_NAME={JOB}".encode() in environ:
                found.append(int(entry))
    return found


def common_checkpoint(out_dir: Path) -> int:
    """The newest epoch every rank's checkpoint directory holds (0: none), as the trainer resumes."""
    ranks = [d for d in out_dir.glob("**/ckpt_*") if d.is_dir()]
    if not ranks:
        return 0
    common: set[int] | None = None
    for directory in ranks:
        epochs = {int(m.group(1)) for p in directory.iterdir() if (m := CKPT_NAME.match(p.name))}
        common = epochs if common is None else common & epochs
    return max(common or {0})


# ---- the operator's log ----------------------------------------------------------------------------


class OperatorLog(logging.Handler):
    """The operator's and kopf's log records, to a file; records carrying a traceback are kept apart."""

    def __init__(self, path: Path) -> None:
        super().__init__(logging.INFO)
        self.file = path.open("a")
        self.tracebacks: list[str] = []
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(("kopf", "mnft_operator")):
            return
        text = self.format(record)
        self.file.write(text + "\n")
        self.file.flush()
        if record.exc_info or "Traceback (most recent call last)" in text:
            self.tracebacks.append(text)


# ---- invariants ------------------------------------------------------------------------------------


@dataclass
class Watcher:
    """Checks the invariants every 0.25 s on its own thread and API client; records violations."""

    cluster: LocalCluster
    violations: list[str] = field(default_factory=list)
    generations: set[int] = field(default_factory=set)
    max_restarts: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _client: k8s.ApiClient | None = None

    def start(self) -> None:
        # Its own client (own connection pool, for its thread) with the cluster's token and CA.
        self._client = k8s.ApiClient(self.cluster.client.configuration)
        self._thread = threading.Thread(target=self._run, name="chaos-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        if self._client is not None:
            self._client.close()

    def _violation(self, text: str) -> None:
        if text not in self.violations:
            self.violations.append(text)
            print(f"[chaos] VIOLATION: {text}", flush=True)

    def _run(self) -> None:
        assert self._client is not None
        core, custom = k8s.CoreV1Api(self._client), k8s.CustomObjectsApi(self._client)
        tick = 0
        while not self._stop.wait(0.25):
            tick += 1
            try:
                job: dict[str, Any] = cast(
                    dict[str, Any],
                    custom.get_namespaced_custom_object(
                        "finetune.mindspore.io", "v1alpha1", NAMESPACE, "mobilenetfinetunes", JOB
                    ),
                )
                listed: Any = core.list_namespaced_pod(
                    NAMESPACE, label_selector=f"{JOB_LABEL}={JOB}", _preload_content=False
                )
                pods = json.loads(listed.data)["items"]
            except Exception as exc:  # the watcher must never die of an API hiccup
                print(f"[chaos] watcher: {exc!r}", flush=True)
                continue
            self.check(job, pods)
            if tick % 4 == 0:
                for rank in (0, 1):
                    if len(pids := rank_processes(rank)) > 1:
                        self._violation(f"two training processes for rank {rank}: {pids}")

    def check(self, job: dict[str, Any], pods: list[dict[str, Any]]) -> None:
        uid = job["metadata"]["uid"]
        restarts = int((job.get("status") or {}).get("restarts") or 0)
        if restarts < self.max_restarts:
            self._violation(f"status.restarts went back from {self.max_restarts} to {restarts}")
        self.max_restarts = max(self.max_restarts, restarts)
        live_by_index: dict[str, list[str]] = {}
        live_generations = set()
        for pod in pods:
            meta = pod["metadata"]
            labels = meta.get("labels") or {}
            generation = int(labels.get(GENERATION_LABEL, "-1"))
            self.generations.add(generation)
            if generation > restarts:
                self._violation(
                    f"pod {meta['name']} of generation {generation} while status.restarts={restarts}"
                )
            owners = [r for r in meta.get("ownerReferences") or () if r.get("controller")]
            if not owners or owners[0].get("uid") != uid:
                self._violation(f"pod {meta['name']} is not owned by the job (ownerReferences {owners})")
            phase = (pod.get("status") or {}).get("phase")
            if not meta.get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
                live_by_index.setdefault(labels.get(INDEX_LABEL, "?"), []).append(meta["name"])
                live_generations.add(generation)
        for index, names in live_by_index.items():
            if len(names) > 1:
                self._violation(f"two live pods for worker index {index}: {names}")
        if len(live_generations) > 1:
            self._violation(
                f"live pods of generations {sorted(live_generations)} at once (a partial restart)"
            )


# ---- the run ---------------------------------------------------------------------------------------


@dataclass
class Fault:
    kind: str
    at_epoch: int
    detail: str = ""
    survived: bool | None = None
    note: str = ""


@dataclass
class Restart:
    generation: int
    checkpoint: int  # newest epoch every rank had saved when the new generation's pods appeared
    resumed_from: int | None = None  # the epoch in the new generation's "resuming from" line (0: none)
    last_done: int = 0  # the last epoch rank 0 finished in the generation before
    lost: int | None = None


@dataclass
class Report:
    seed: int
    faults: list[Fault]
    restarts: list[Restart]
    violations: list[str]
    phase: str
    accuracy: float | None
    status_restarts: int
    tracebacks: list[str]
    seconds: float
    epochs: int

    @property
    def ok(self) -> bool:
        return not self.violations and all(f.survived for f in self.faults)


class Chaos:
    def __init__(self, cluster: LocalCluster, rng: random.Random, out_dir: Path, epochs: int) -> None:
        self.cluster, self.rng, self.out_dir, self.epochs = cluster, rng, out_dir, epochs
        self.lines: list[str] = []
        self.follower = LogFollower(cluster.log_dir, NAMESPACE, JOB, self.lines.append)
        self.core = k8s.CoreV1Api(cluster.client)
        self.expected_restarts = 0
        self.restarts: list[Restart] = []
        self.segments: list[list[str]] = [[]]  # rank 0's lines, one list per generation
        self._seen = 0

    @property
    def api(self) -> Any:
        return self.cluster._api

    # -- observing --
    def poll(self) -> dict[str, Any]:
        self.follower.poll()
        prefix = "[worker-0/rank-0] "
        for line in self.lines[self._seen :]:
            if line.startswith(prefix):
                self._rank0_line(line[len(prefix) :])
        self._seen = len(self.lines)
        status = dict(self.cluster.get_job(JOB).get("status") or {})
        gen = int(status.get("restarts") or 0)
        if gen > len(self.restarts) and self._new_generation_started(gen):
            self.restarts.append(Restart(gen, common_checkpoint(self.out_dir)))
        return status

    def _rank0_line(self, line: str) -> None:
        """A new generation's rank 0 starts with its resume line, or at an epoch not above the last one."""
        current = self.segments[-1]
        last = max((int(m.group(1)) for x in current if (m := EPOCH_LINE.match(x))), default=None)
        epoch = EPOCH_LINE.match(line)
        restarted = RESUME_LINE.match(line) or (epoch and last is not None and int(epoch.group(1)) <= last)
        if restarted and current:
            self.segments.append([])
        self.segments[-1].append(line)

    def no_pod_running(self) -> bool:
        phases = [(p.get("status") or {}).get("phase") for p in self.cluster.pods(JOB)]
        return all(phase in ("Succeeded", "Failed") for phase in phases)

    def _new_generation_started(self, gen: int) -> bool:
        pods = self.cluster.pods(JOB)
        return any(p["metadata"].get("labels", {}).get(GENERATION_LABEL) == str(gen) for p in pods)

    def epochs_done(self) -> int:
        """Epochs rank 0 reported in the current generation (its resume point counts as done)."""
        done = 0
        for line in self.segments[-1]:
            if (m := EPOCH_LINE.match(line)) or (m := RESUME_LINE.match(line)):
                done = max(done, int(m.group(1)))
        return done

    def progress_marks(self) -> int:
        return sum(1 for seg in self.segments for line in seg if EPOCH_LINE.match(line))

    def wait(
        self, until: Callable[[dict[str, Any]], bool], what: str, timeout: float = STEP_TIMEOUT
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status = self.poll()
            if until(status):
                return status
            if time.monotonic() > deadline:
                tail = "\n".join(self.lines[-30:])
                raise TimeoutError(f"timed out waiting for {what}; status {status}\n{tail}")
            time.sleep(0.25)

    def finished(self, status: dict[str, Any]) -> bool:
        return phase_of(status) in ("Succeeded", "Failed")

    # -- faults --
    def inject(self, kind: str) -> Fault:
        fault = Fault(kind, self.epochs_done())
        with self.frozen() if kind in FROZEN else contextlib.nullcontext():
            getattr(self, "_" + kind.replace("-", "_"))(fault)
        return fault

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """Every process of the job stopped (SIGSTOP, as a cgroup freezer or `docker pause` does) while a
        fault that needs no training is judged: training cannot run out of epochs meanwhile, however fast
        the machine trains and however slowly the operator answers. The pods' MS_NODE_TIMEOUT covers it."""
        pids = job_processes()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)

    def _kill_rank(self, fault: Fault) -> None:
        rank = self.rng.randrange(2)
        pids = rank_processes(rank)
        if not pids:
            fault.survived, fault.note = True, f"rank {rank} had no process (between generations): skipped"
            return
        os.kill(pids[0], signal.SIGKILL)
        fault.detail = f"rank {rank} (pid {pids[0]})"
        self._await_restart(fault)

    def _delete_pod(self, fault: Fault) -> None:
        index = self.rng.randrange(2)
        name = f"{JOB}-worker-{index}"
        try:
            self.core.delete_namespaced_pod(name, NAMESPACE)
        except k8s.ApiException as exc:
            fault.survived, fault.note = True, f"{name}: {exc.status} (between generations): skipped"
            return
        fault.detail = name
        self._await_restart(fault)

    def _await_restart(self, fault: Fault) -> None:
        segments = len(self.segments)
        self.expected_restarts += 1
        want = self.expected_restarts
        status = self.wait(
            lambda s: int(s.get("restarts") or 0) >= want or self.finished(s),
            f"restart {want} after {fault.kind}",
        )
        if int(status.get("restarts") or 0) != want:
            fault.survived, fault.note = False, f"job ended {phase_of(status)} before restart {want}"
            return
        # survived once the new generation trains again: rank 0 reports an epoch past its resume point
        self.wait(
            lambda s: (
                (len(self.segments) > segments and any(EPOCH_LINE.match(x) for x in self.segments[-1]))
                or self.finished(s)
            ),
            "training to resume",
        )
        fault.survived = True

    def _restart_operator(self, fault: Fault) -> None:
        self.cluster.stop_operator()
        self.cluster.start_operator()
        fault.survived = self.cluster.operator_alive

    def _cut_watch(self, fault: Fault) -> None:
        fault.detail = f"{self.api.faults.cut_watches()} streams"
        fault.survived = True  # judged by the run: no restart, no stall, no traceback

    def _delete_service(self, fault: Fault) -> None:
        try:
            self.core.delete_namespaced_service(JOB, NAMESPACE)
        except k8s.ApiException as exc:
            fault.survived, fault.note = False, f"the Service was missing already ({exc.status})"
            return
        started = time.monotonic()
        gone_uid = None

        def back(status: dict[str, Any]) -> bool:
            try:
                service = self.core.read_namespaced_service(JOB, NAMESPACE)
            except k8s.ApiException:
                return self.finished(status)
            assert service.metadata is not None
            return service.metadata.uid != gone_uid

        self.wait(back, "the Service to come back", timeout=120)
        seconds = time.monotonic() - started
        try:
            self.core.read_namespaced_service(JOB, NAMESPACE)
            fault.survived, fault.detail = True, f"recreated after {seconds:.1f} s"
        except k8s.ApiException:
            fault.survived, fault.note = False, "not recreated before the job finished"

    def _api_errors(self, fault: Fault) -> None:
        seed = self.rng.randrange(1 << 30)
        faults = self.api.faults

        def errors() -> int:
            return sum(v for k, v in faults.counts.items() if k.startswith("error"))

        before = errors()
        faults.plan = FaultPlan(
            seed=seed,
            error_rate=0.5,
            codes=(409, 429, 500),
            user_agents={"kopf", OPERATOR_AGENT},
            limit=6,
            exclude_watch=False,
        )
        pokes = 0

        def reached(status: dict[str, Any]) -> bool:
            nonlocal pokes
            if errors() - before >= 6:
                return True
            # The job is frozen, so nothing else wakes the operator: an annotation on its Service does
            # (a Service event), and each wake is a reconcile whose requests the plan may answer.
            pokes += 1
            body = {"metadata": {"annotations": {"chaos.mnft.test/poke": str(pokes)}}}
            with contextlib.suppress(k8s.ApiException):
                self.core.patch_namespaced_service(JOB, NAMESPACE, body)
            return self.finished(status)

        try:
            self.wait(reached, "6 API errors to reach the operator", timeout=300)
        finally:
            faults.plan = None
        injected = errors() - before
        fault.detail = f"{injected} errors (plan seed {seed})"
        # Fewer than planned: the fault did not happen as drawn (a client the plan does not match?).
        fault.survived = injected >= 6
        if not fault.survived:
            fault.note = f"only {injected} of 6 errors reached the operator before the job ended"

    def _node_not_ready(self, fault: Fault) -> None:
        node = self.cluster.node_name
        self.api.faults.set_node_ready(node, False)
        marks = self.progress_marks()
        try:
            self.wait(
                lambda s: self.progress_marks() > marks or self.finished(s), "an epoch on a NotReady node"
            )
        finally:
            self.api.faults.set_node_ready(node, True)
        fault.survived = True

    def _node_lost(self, fault: Fault) -> None:
        node, faults = self.cluster.node_name, self.api.faults
        index = self.rng.randrange(2)
        faults.plan = FaultPlan(
            seed=self.rng.randrange(1 << 30), error_rate=1.0, codes=(503,), user_agents={KUBELET_AGENT}
        )
        try:
            faults.cut_watches()  # the kubelet's streams end; its reconnects get 503 from now on
            faults.set_node_ready(node, False)
            for pid in job_processes():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            old = {p["metadata"]["uid"] for p in self.cluster.pods(JOB)}
            self.core.delete_namespaced_pod(f"{JOB}-worker-{index}", NAMESPACE)
            fault.detail = f"{JOB}-worker-{index} evicted"
            started = time.monotonic()
            try:
                self.wait(
                    lambda s: (
                        not old & {p["metadata"]["uid"] for p in self.cluster.pods(JOB)} or self.finished(s)
                    ),
                    "the lost node's pods to be force-deleted",
                    timeout=LOST_NODE_SECONDS,
                )
            except TimeoutError:
                stuck = [p["metadata"]["name"] for p in self.cluster.pods(JOB) if p["metadata"]["uid"] in old]
                fault.survived, fault.note = False, f"{stuck} stuck terminating for {LOST_NODE_SECONDS:.0f} s"
                return
            fault.detail += f", its pods gone after {time.monotonic() - started:.0f} s"
        finally:
            faults.plan = None
            faults.set_node_ready(node, True)
        self._await_restart(fault)

    # -- after the run --
    def account_restarts(self) -> None:
        for restart in self.restarts:
            if restart.generation >= len(self.segments):
                continue  # that generation's rank 0 printed nothing
            before, after = self.segments[restart.generation - 1], self.segments[restart.generation]
            epochs_before = [int(m.group(1)) for line in before if (m := EPOCH_LINE.match(line))]
            resumed_before = [int(m.group(1)) for line in before if (m := RESUME_LINE.match(line))]
            restart.last_done = max(epochs_before + resumed_before + [0])
            resumed = [int(m.group(1)) for line in after if (m := RESUME_LINE.match(line))]
            restart.resumed_from = resumed[0] if resumed else 0
            restart.lost = restart.last_done - restart.resumed_from


def run_chaos(
    seed: int,
    n_faults: int,
    workdir: Path,
    epochs: int | None = None,
    kinds: Sequence[str] = KINDS,
    per_class: int = 24,
    log: Callable[[str], None] = lambda line: print(line, flush=True),
    source: Path | None = None,
) -> Report:
    rng = random.Random(seed)
    plan = [rng.choice(list(kinds)) for _ in range(n_faults)]
    disruptive = sum(1 for kind in plan if kind in DISRUPTIVE)
    epochs = epochs or n_faults + 2 * disruptive + 5
    data = demo_dataset(workdir, per_class, source)
    out = workdir / "out"
    out.mkdir(parents=True, exist_ok=True)
    operator_log = OperatorLog(workdir / "operator.log")
    root = logging.getLogger()
    root.addHandler(operator_log)
    root.setLevel(min(root.level or logging.INFO, logging.INFO))
    cluster = LocalCluster(state_dir=workdir / "state", mounts={"data": str(data.parent), "out": str(out)})
    started = time.monotonic()
    watcher = Watcher(cluster)
    faults: list[Fault] = []
    try:
        cluster.start()
        cluster.create_job(job_manifest(epochs, backoff_limit=disruptive + 3))
        chaos = Chaos(cluster, rng, out, epochs)
        watcher.start()
        log(f"[chaos] seed {seed}: {n_faults} faults over {epochs} epochs: {', '.join(plan)}")
        marks = 0  # rank 0's epoch lines when the previous fault was over: wait for one more
        for i, kind in enumerate(plan, 1):

            def epoch_or_end(s: dict[str, Any], m: int = marks) -> bool:
                return chaos.progress_marks() > m or chaos.finished(s)

            status = chaos.wait(epoch_or_end, f"an epoch before fault {i}")
            if chaos.finished(status):
                log(f"[chaos] the job finished ({phase_of(status)}) before fault {i}")
                break
            marks = chaos.progress_marks()
            fault = chaos.inject(kind)
            faults.append(fault)
            if kind in DISRUPTIVE or kind == "node-not-ready":
                marks = chaos.progress_marks() - 1  # it waited for an epoch already
            log(
                f"[chaos] fault {i}/{n_faults} {kind} {fault.detail} at epoch {fault.at_epoch}: "
                f"{'survived' if fault.survived else 'NOT survived'} {fault.note}".rstrip()
            )
        status = chaos.wait(chaos.finished, "the job to finish")
        # Ranks write straight into their pods' log files: once no pod runs, every line is there.
        chaos.wait(lambda s: chaos.no_pod_running(), "the job's pods to stop")
        chaos.follower.poll(final=True)
        chaos.poll()
        chaos.account_restarts()
        violations = list(watcher.violations)
        result = status.get("result") or {}
        accuracy = result.get("accuracy")
        if phase_of(status) != "Succeeded":
            violations.append(f"the job ended {phase_of(status)}: {status.get('conditions')}")
        if accuracy is None:
            violations.append("no accuracy in status.result")
        restarts = int(status.get("restarts") or 0)
        if restarts != chaos.expected_restarts:
            violations.append(f"status.restarts={restarts}, but the faults caused {chaos.expected_restarts}")
        if len(chaos.restarts) != restarts:
            violations.append(f"{len(chaos.restarts)} generations seen for status.restarts={restarts}")
        for r in chaos.restarts:
            if r.resumed_from != r.checkpoint:
                violations.append(
                    f"restart {r.generation} resumed from epoch {r.resumed_from}, "
                    f"the newest checkpoint was {r.checkpoint}"
                )
            if r.lost is not None and r.lost > 1:
                violations.append(f"restart {r.generation} lost {r.lost} epochs (> one save interval)")
        if operator_log.tracebacks:
            violations.append(f"{len(operator_log.tracebacks)} tracebacks in the operator's log")
        return Report(
            seed=seed,
            faults=faults,
            restarts=chaos.restarts,
            violations=violations,
            phase=phase_of(status),
            accuracy=accuracy,
            status_restarts=restarts,
            tracebacks=operator_log.tracebacks,
            seconds=time.monotonic() - started,
            epochs=epochs,
        )
    finally:
        watcher.stop()
        with contextlib.suppress(Exception):
            cluster.stop()
        root.removeHandler(operator_log)
        operator_log.file.close()


def markdown(report: Report) -> str:
    rows = ["| fault | injected | survived | restarts caused | notes |", "| --- | --- | --- | --- | --- |"]
    for kind in KINDS:
        of_kind = [f for f in report.faults if f.kind == kind]
        if not of_kind:
            continue
        survived = sum(1 for f in of_kind if f.survived)
        caused = len(of_kind) if kind in DISRUPTIVE else 0
        notes = "; ".join(
            sorted(
                {f.detail for f in of_kind if kind == "delete-service"} | {f.note for f in of_kind if f.note}
            )
        )
        rows.append(f"| {kind} | {len(of_kind)} | {survived} | {caused} | {notes} |")
    total = len(report.faults)
    rows.append(
        f"| **all** | **{total}** | **{sum(1 for f in report.faults if f.survived)}** | "
        f"**{report.status_restarts}** | |"
    )
    lost = [r.lost for r in report.restarts if r.lost is not None]
    summary = [
        "",
        f"Seed {report.seed}: job {report.phase}, accuracy {report.accuracy}, {report.epochs} epochs, "
        f"status.restarts {report.status_restarts}, {report.seconds / 60:.1f} min.",
        f"Work lost per restart (epochs trained again, save interval 1 epoch): "
        f"{', '.join(str(x) for x in lost) or 'none'} (max {max(lost) if lost else 0}); "
        f"each resumed from the newest common checkpoint: "
        f"{all(r.resumed_from == r.checkpoint for r in report.restarts)}.",
        f"Invariant violations: {len(report.violations)}; operator tracebacks: {len(report.tracebacks)}.",
    ]
    for violation in report.violations:
        summary.append(f"- {violation}")
    return "\n".join(rows + summary)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--faults", type=int, default=30)
    parser.add_argument("--epochs", type=int, help="default: faults + 2 x kills/deletions + 5")
    parser.add_argument(
        "--kinds", default=",".join(KINDS), help=f"comma-separated subset of {','.join(KINDS)}"
    )
    parser.add_argument("--per-class", type=int, default=24, help="images per class (digits 0-4)")
    parser.add_argument("--workdir", type=Path, help="keep data, logs and checkpoints here")
    args = parser.parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        parser.error(f"--kinds: unknown {', '.join(unknown)}; choose from {', '.join(KINDS)}")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mnft-chaos-"))
    workdir.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    report = run_chaos(args.seed, args.faults, workdir, args.epochs, kinds, args.per_class)
    print(f"\nload average at start {load:.1f}; logs in {workdir}\n")
    print(markdown(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
