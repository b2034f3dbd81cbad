"""Helpers of the local-mode end-to-end tests: small datasets, job manifests, a job watcher."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnft_local.local_cluster import LocalCluster
from mnft_local.local_logs import LogFollower
from mnft_local.local_status import phase_of

VENV_BIN = Path(sys.executable).parent
MNFT = str(VENV_BIN / "mnft")
# Lean settings: 32x32 images (the CRD's minimum), small batches, few epochs.
FAST_HYPERPARAMETERS = {"imageHeight": 32, "imageWidth": 32, "batchSize": 16, "epochSize": 2}


def small_subset(source: Path, dest: Path, per_class: int) -> Path:
    """Copy at most `per_class` images of every class of every split (train/, eval/) of `source`."""
    for split in ("train", "eval"):
        for class_dir in sorted((source / split).iterdir()):
            target = dest / split / class_dir.name
            target.mkdir(parents=True)
            for image in sorted(class_dir.iterdir())[:per_class]:
                shutil.copy(image, target / image.name)
    return dest


def job_manifest(
    name: str,
    dataset_path: str,
    workers: int = 2,
    platform: str = "CPU",
    hyperparameters: Mapping[str, Any] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """A MobileNetFineTune reading `dataset_path` from the `data` PVC, writing to the `out` PVC."""
    return {
        "apiVersion": "finetune.mindspore.io/v1alpha1",
        "kind": "MobileNetFineTune",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "platform": platform,
            "image": "mnft-trainer:test",
            "workers": workers,
            "devicesPerWorker": 1,
            "dataset": {"path": dataset_path, "volume": {"persistentVolumeClaim": {"claimName": "data"}}},
            "output": {"path": "checkpoint", "volume": {"persistentVolumeClaim": {"claimName": "out"}}},
            "hyperparameters": dict(FAST_HYPERPARAMETERS if hyperparameters is None else hyperparameters),
            **spec,
        },
    }


@dataclass
class JobWatch:
    """Follows one job: its status, its pods' uids and every rank's log lines (as `mnft local` shows them)."""

    cluster: LocalCluster
    name: str
    lines: list[str] = field(default_factory=list)
    pod_uids: set[str] = field(default_factory=set)
    max_pods: int = 0
    status: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        cluster = self.cluster
        self._follower = LogFollower(cluster.log_dir, cluster.namespace, self.name, self.lines.append)

    def poll(self) -> dict[str, Any]:
        self._follower.poll()
        pods = self.cluster.pods(self.name)
        self.max_pods = max(self.max_pods, len(pods))
        self.pod_uids.update(pod["metadata"]["uid"] for pod in pods)
        self.status = dict(self.cluster.get_job(self.name).get("status") or {})
        return self.status

    def wait(self, until: Callable[[JobWatch], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not until(self):
            if time.monotonic() > deadline:
                self._follower.poll(final=True)
                tail = "\n".join(self.lines[-40:])
                raise AssertionError(f"timed out waiting for {what}; status {self.status}\n{tail}")
            time.sleep(0.2)
            self.poll()

    def wait_finished(self, timeout: float) -> str:
        self.wait(lambda w: phase_of(w.status) in ("Succeeded", "Failed"), timeout, "the job to finish")
        # Every rank writes straight into its pod's log file, so once no pod of the job runs any more
        # (finished, or deleted by cleanPodPolicy after its processes were killed) every line is there.
        self.wait(lambda w: not self._running_pods(), timeout, "the job's pods to stop")
        self._follower.poll(final=True)
        return phase_of(self.status)

    def _running_pods(self) -> list[str]:
        return [
            pod["metadata"]["name"]
            for pod in self.cluster.pods(self.name)
            if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
        ]

    def rank_lines(self, worker: int, rank: int) -> list[str]:
        prefix = f"[worker-{worker}/rank-{rank}] "
        return [line[len(prefix) :] for line in self.lines if line.startswith(prefix)]
