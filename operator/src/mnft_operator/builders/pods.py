"""Worker pods: `<job>-worker-<i>`, one `trainer` container running `mnft launch train ...`.

Design (kept stable because the planner and the local kubelet rely on it):
- labels: job name, replica index, generation (= status.restarts, so a previous attempt's pods are
  recognisable and deleted before the next attempt's pods, which reuse the same names, are created),
  managed-by and app name; ownerReferences to the job (controller, blockOwnerDeletion).
- `hostname: <job>-worker-<i>` + `subdomain: <job>` (the headless Service) gives worker 0 the stable
  name `<job>-worker-0.<job>.<ns>.svc` used as MS_SCHED_HOST.
- volumes `dataset`, `pretrained`, `output` mounted at /mnt/dataset, /mnt/pretrained, /mnt/output. A spec
  path is relative to its volume when the volume is given, else an absolute container path. Output without
  a volume is an emptyDir. A pretrained `url` is fetched and verified by the init container
  `fetch-checkpoint` into an emptyDir `pretrained`.
- security: every pod passes the Pod Security Standard "restricted" with no user field set
  (POD_SECURITY_CONTEXT, CONTAINER_SECURITY_CONTEXT); `spec.podSecurityContext` / `spec.securityContext`
  are merged over them (the CRD only accepts values "restricted" allows); `ALL` stays dropped.
  No ServiceAccount token is mounted: the trainer never talks to the API.
- every pod: a memory-backed emptyDir `dshm` at /dev/shm (spec.shmSize), as container runtimes give
  /dev/shm only 64 MiB.
- Ascend: annotation `hccl/rankIndex`, the `rings-config-<job>` ConfigMap mounted at
  /user/serverid/devindex/config. Volcano gang: schedulerName volcano + the group-name annotation.
- overrides: spec.volumes after the operator's volumes, spec.volumeMounts after the trainer's mounts,
  spec.podLabels/podAnnotations under the operator's own (which win; spec.validate refuses the operator's
  keys anyway, see reserved.py), spec.runtimeClassName.
"""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Mapping
from typing import Any

from kube_schema import quantity
from mnft_contract import hyperparameters
from mnft_operator.builders.k8s_podgroup import add_scheduling_group
from mnft_operator.builders.kueue import add_kueue_fields
from mnft_operator.env import pod_env
from mnft_operator.names import (
    CONTAINER,
    DATASET_MOUNT,
    DATASET_VOLUME,
    DEVICE_RESOURCES,
    GENERATION_LABEL,
    INDEX_LABEL,
    NAME_LABEL,
    OUTPUT_MOUNT,
    OUTPUT_VOLUME,
    PRETRAINED_MOUNT,
    PRETRAINED_VOLUME,
    RANK_INDEX_ANNOTATION,
    RANK_TABLE_DIR,
    RANK_TABLE_VOLUME,
    SHM_MOUNT,
    SHM_VOLUME,
    TERMINATION_MESSAGE_PATH,
    TRAINER_NAME,
    VOLCANO_GROUP_ANNOTATION,
    child_metadata,
    pod_name,
    rings_configmap_name,
)
from mnft_operator.spec import RANK_TABLE, DataSource, Job

FETCHED_CHECKPOINT = f"{PRETRAINED_MOUNT}/checkpoint.ckpt"
IMAGE_UID = 65532  # the trainer image's USER (Dockerfile)
POD_SECURITY_CONTEXT: dict[str, Any] = {
    "runAsNonRoot": True,
    "runAsUser": IMAGE_UID,
    "runAsGroup": IMAGE_UID,
    # A fresh PVC is root-owned: fsGroup makes the output volume writable by the image's user;
    # OnRootMismatch skips the recursive chown of a large dataset volume once its root is right.
    "fsGroup": IMAGE_UID,
    "fsGroupChangePolicy": "OnRootMismatch",
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY_CONTEXT: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
}


_arg = hyperparameters.flag_value


def _container_path(source: DataSource, mount: str) -> str:
    return posixpath.join(mount, source.path) if source.volume is not None else source.path


def dataset_path(job: Job) -> str:
    return _container_path(job.spec.dataset, DATASET_MOUNT)


def checkpoint_path(job: Job) -> str | None:
    pre = job.spec.pretrained
    if pre is None:
        return None
    if pre.url is not None:
        return FETCHED_CHECKPOINT
    assert pre.checkpoint is not None
    return _container_path(DataSource(pre.checkpoint, pre.volume), PRETRAINED_MOUNT)


def output_path(job: Job) -> str:
    return posixpath.join(OUTPUT_MOUNT, job.spec.output.path) if job.spec.output.path else OUTPUT_MOUNT


def train_command(job: Job) -> list[str]:
    """`mnft launch train` with the recipe arguments rendered from the spec."""
    spec = job.spec
    cmd = ["mnft", "launch", "train", "--platform", spec.platform, "--dataset_path", dataset_path(job)]
    ckpt = checkpoint_path(job)
    if ckpt is not None and spec.pretrained is not None:
        cmd += ["--pretrain_ckpt", ckpt, "--freeze_layer", spec.pretrained.freeze_layer]
        if spec.pretrained.filter_head:
            cmd += ["--filter_head", "true"]
    cmd += ["--save_checkpoint_path", output_path(job)]
    for name, value in spec.hyperparameters:
        cmd += [f"--{hyperparameters.BY_FIELD[name].key}", _arg(value)]
    cmd += ["--run_eval", _arg(spec.eval_enabled)]
    if spec.eval_enabled and spec.eval_every_epochs:
        cmd += ["--eval_every_epochs", str(spec.eval_every_epochs)]
    if spec.export_formats:
        cmd += ["--export_formats", ",".join(spec.export_formats)]
    return cmd


def _quantity(value: Any) -> Any:
    """Quantities as strings, canonical as the API server stores them (clients' models want strings)."""
    try:
        return quantity.canonical(value)
    except quantity.QuantityError:
        return value  # the API server rejects it, naming the field


def _resources(job: Job) -> dict[str, Any]:
    resources = copy.deepcopy(dict(job.spec.resources))
    for kind in ("limits", "requests"):
        if isinstance(resources.get(kind), dict):
            resources[kind] = {name: _quantity(v) for name, v in resources[kind].items()}
    device = (
        job.spec.ascend_resource if job.spec.platform == "Ascend" else DEVICE_RESOURCES.get(job.spec.platform)
    )
    if device is not None:
        for kind in ("limits", "requests"):
            resources.setdefault(kind, {})[device] = str(job.spec.devices_per_worker)
    return resources


def _volume(name: str, source: Mapping[str, Any]) -> dict[str, Any]:
    """A pod volume from a spec volume source; the name is ours (a `name` in the source is ignored)."""
    return {"name": name, **{k: copy.deepcopy(v) for k, v in source.items() if k != "name"}}


def _volumes_and_mounts(job: Job) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    spec = job.spec
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    if spec.dataset.volume is not None:
        volumes.append(_volume(DATASET_VOLUME, spec.dataset.volume))
        mounts.append({"name": DATASET_VOLUME, "mountPath": DATASET_MOUNT, "readOnly": True})
    pre = spec.pretrained
    if pre is not None and pre.url is not None:
        volumes.append({"name": PRETRAINED_VOLUME, "emptyDir": {}})
        mounts.append({"name": PRETRAINED_VOLUME, "mountPath": PRETRAINED_MOUNT, "readOnly": True})
    elif pre is not None and pre.volume is not None:
        volumes.append(_volume(PRETRAINED_VOLUME, pre.volume))
        mounts.append({"name": PRETRAINED_VOLUME, "mountPath": PRETRAINED_MOUNT, "readOnly": True})
    output_source = (
        copy.deepcopy(dict(spec.output.volume)) if spec.output.volume is not None else {"emptyDir": {}}
    )
    volumes.append({"name": OUTPUT_VOLUME, **output_source})
    mounts.append({"name": OUTPUT_VOLUME, "mountPath": OUTPUT_MOUNT})
    volumes.append(
        {"name": SHM_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": _quantity(spec.shm_size)}}
    )
    mounts.append({"name": SHM_VOLUME, "mountPath": SHM_MOUNT})
    if spec.comm_mode == RANK_TABLE:
        volumes.append({"name": RANK_TABLE_VOLUME, "configMap": {"name": rings_configmap_name(job.name)}})
        mounts.append({"name": RANK_TABLE_VOLUME, "mountPath": RANK_TABLE_DIR, "readOnly": True})
    return volumes, mounts


def pod_security_context(job: Job) -> dict[str, Any]:
    return {**copy.deepcopy(POD_SECURITY_CONTEXT), **copy.deepcopy(dict(job.spec.pod_security_context))}


def container_security_context(job: Job) -> dict[str, Any]:
    user = copy.deepcopy(dict(job.spec.security_context))
    caps = dict(user.pop("capabilities", None) or {})
    out = {**copy.deepcopy(CONTAINER_SECURITY_CONTEXT), **user}
    caps["drop"] = list(dict.fromkeys(["ALL", *caps.get("drop", [])]))
    out["capabilities"] = caps
    return out


def _fetch_container(job: Job) -> dict[str, Any]:
    pre = job.spec.pretrained
    assert pre is not None and pre.url is not None and pre.sha256 is not None
    return {
        "name": "fetch-checkpoint",
        "image": job.spec.image,
        "command": [
            *("mnft", "fetch-checkpoint", "--url", pre.url, "--sha256", pre.sha256),
            *("--output", FETCHED_CHECKPOINT),
        ],
        "terminationMessagePath": TERMINATION_MESSAGE_PATH,
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [{"name": PRETRAINED_VOLUME, "mountPath": PRETRAINED_MOUNT}],
        "securityContext": container_security_context(job),
    }


def build_pod(job: Job, index: int, generation: int) -> dict[str, Any]:
    """Worker pod `index` of restart generation `generation`."""
    spec = job.spec
    name = pod_name(job.name, index)
    meta = child_metadata(job.name, job.namespace, job.uid, name)
    meta["labels"].update(
        {INDEX_LABEL: str(index), GENERATION_LABEL: str(generation), NAME_LABEL: TRAINER_NAME}
    )
    annotations: dict[str, str] = {}
    if spec.comm_mode == RANK_TABLE:
        annotations[RANK_INDEX_ANNOTATION] = str(index)
    volcano = spec.scheduling.gang == "volcano"
    if volcano:
        annotations[VOLCANO_GROUP_ANNOTATION] = job.name
    if annotations:
        meta["annotations"] = annotations
    volumes, mounts = _volumes_and_mounts(job)
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": spec.image,
        "command": train_command(job),
        "env": pod_env(job, index),
        "terminationMessagePath": TERMINATION_MESSAGE_PATH,
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": mounts,
        "securityContext": container_security_context(job),
    }
    resources = _resources(job)
    if resources:
        container["resources"] = resources
    pod_spec: dict[str, Any] = {
        "hostname": name,
        "subdomain": job.name,
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "securityContext": pod_security_context(job),
        "containers": [container],
        "volumes": volumes,
    }
    if spec.pretrained is not None and spec.pretrained.url is not None:
        pod_spec["initContainers"] = [_fetch_container(job)]
    optional: dict[str, Any] = {
        "nodeSelector": dict(spec.node_selector) or None,
        "tolerations": [dict(t) for t in spec.tolerations] or None,
        "affinity": copy.deepcopy(dict(spec.affinity)) if spec.affinity else None,
        "priorityClassName": spec.priority_class_name,
        "schedulerName": "volcano" if volcano else spec.scheduler_name,
        "serviceAccountName": spec.service_account_name,
        "imagePullSecrets": [dict(s) for s in spec.image_pull_secrets] or None,
    }
    pod_spec.update({k: v for k, v in optional.items() if v is not None})
    add_scheduling_fields(job, generation, meta, pod_spec)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod_spec}
    apply_pod_overrides(job, pod)
    return pod


def apply_pod_overrides(job: Job, pod: dict[str, Any]) -> None:
    """spec.volumes, volumeMounts, podLabels, podAnnotations and runtimeClassName on a built pod."""
    spec = job.spec
    meta, pod_spec = pod["metadata"], pod["spec"]
    if spec.pod_labels:
        meta["labels"] = {**spec.pod_labels, **meta["labels"]}
    if spec.pod_annotations:
        meta["annotations"] = {**spec.pod_annotations, **meta.get("annotations", {})}
    pod_spec["volumes"] += [copy.deepcopy(dict(v)) for v in spec.volumes]
    trainer = next(c for c in pod_spec["containers"] if c["name"] == CONTAINER)
    trainer["volumeMounts"] += [copy.deepcopy(dict(m)) for m in spec.volume_mounts]
    if spec.runtime_class_name is not None:
        pod_spec["runtimeClassName"] = spec.runtime_class_name


def add_scheduling_fields(job: Job, generation: int, meta: dict[str, Any], pod_spec: dict[str, Any]) -> None:
    """Kueue's pod-group labels, annotation and gate; Kubernetes' native gang group (builders/kueue.py,
    builders/k8s_podgroup.py)."""
    add_kueue_fields(job, meta, pod_spec)
    add_scheduling_group(job, generation, pod_spec)


def build_pods(job: Job, generation: int) -> list[dict[str, Any]]:
    return [build_pod(job, i, generation) for i in range(job.spec.workers)]
