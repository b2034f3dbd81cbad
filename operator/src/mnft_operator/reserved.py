"""What a job cannot set on its worker pods because the operator (or `mnft launch`) sets it: env names,
pod label and annotation keys, volume names and mount paths.

One definition for the CRD's CEL rules (`crd_spec`), `spec.validate` and the tests. The env list is
derived from `env.pod_env` and from what `mnft_trainer.pod.launch` puts into each process's environment (the
trainer cannot import the operator, so tests/unit/test_reserved_env.py checks every name launch sets is
here). MindSpore's own tuning variables (`MS_ALLOC_CONF`, `MS_SUBMODULE_LOG_v`, `MS_DEV_*`, ...) and
`GLOG_v` (launch keeps a user's) stay free: only the `MS_*` names the operator or launch sets are
reserved. Every `MNFT_*` name is reserved except `ALLOWED_MNFT_ENV`.
"""

from __future__ import annotations

import posixpath

from mnft_contract import env as E
from mnft_operator.names import (
    ASCEND_DEVICE_ANNOTATION,
    ASCEND_NPU_DEVICE_ANNOTATION,
    DATASET_MOUNT,
    DATASET_VOLUME,
    MANAGED_BY_LABEL,
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
    VOLCANO_GROUP_ANNOTATION,
)

_OPERATOR = "is set by the operator"
_LAUNCH = "is set by mnft launch for each process"
_SIZE = "use spec.workers and spec.devicesPerWorker"
_RANK = "remove it (each process's rank follows from the pod index and spec.devicesPerWorker)"

# variable -> (who sets it, what to do instead); the message is "<name> <who>; <fix>". Exactly the
# contract's `env.POD` and `env.PROCESS` (tests/unit/test_reserved_env.py).
RESERVED_ENV: dict[str, tuple[str, str]] = {
    # env.pod_env
    E.MNFT_JOB_NAME: (_OPERATOR, "remove it (it is the job's metadata.name)"),
    E.MNFT_NAMESPACE: (_OPERATOR, "remove it (it is the job's namespace)"),
    E.MNFT_PLATFORM: (_OPERATOR, "use spec.platform"),
    E.MNFT_WORKER_INDEX: (_OPERATOR, "remove it (it is the pod's index)"),
    E.MNFT_WORKERS: (_OPERATOR, "use spec.workers"),
    E.MNFT_DEVICES_PER_WORKER: (_OPERATOR, "use spec.devicesPerWorker"),
    E.MNFT_COMM_MODE: (_OPERATOR, "use spec.communication.mode"),
    E.TERMINATION_MESSAGE_PATH: (_OPERATOR, "remove it (the trainer writes its result there)"),
    E.MS_SCHED_HOST: (_OPERATOR, "remove it (worker 0 through the job's headless Service)"),
    E.MS_SCHED_PORT: (_OPERATOR, "use spec.communication.schedulerPort"),
    E.MS_WORKER_NUM: (_OPERATOR, _SIZE),
    E.MNFT_NODE_RANK: (_OPERATOR, "remove it (it is the pod's index)"),
    E.MNFT_LOCAL_WORKER_NUM: (_OPERATOR, "use spec.devicesPerWorker"),
    E.MS_TOPO_TIMEOUT: (_OPERATOR, "use spec.communication.timeoutSeconds"),
    E.RANK_TABLE_FILE: (_OPERATOR, "remove it (the operator writes the rank table)"),
    E.RANK_SIZE: (_OPERATOR, _SIZE),
    E.MNFT_RANK_TABLE_TIMEOUT: (_OPERATOR, "use spec.communication.timeoutSeconds"),
    # mnft_trainer.pod.launch (per process)
    E.MS_ROLE: (_LAUNCH, "remove it (the scheduler runs on worker 0)"),
    E.MS_NODE_ID: (_LAUNCH, _RANK),
    E.RANK_ID: (_LAUNCH, _RANK),
    E.LOCAL_RANK: (_LAUNCH, _RANK),
    E.MNFT_LOCAL_RANK: (_LAUNCH, _RANK),
    E.DEVICE_ID: (_LAUNCH, "remove it (each process drives its own device; use spec.devicesPerWorker)"),
    E.ASCEND_DEVICE_ID: (_LAUNCH, "remove it (each process drives its own NPU; use spec.devicesPerWorker)"),
    E.CUDA_VISIBLE_DEVICES: (
        _LAUNCH,
        "remove it (each process gets one of the pod's GPUs; use spec.devicesPerWorker)",
    ),
    E.PYTHONUNBUFFERED: (_LAUNCH, "remove it (launch always runs Python unbuffered)"),
}
RESERVED_ENV_PREFIX = "MNFT_"
# Launch settings a job may set: the seconds its processes get between SIGTERM and SIGKILL, and a dry run
# (each pod prints its processes' environments and exits; the Ascend e2e test runs jobs so).
ALLOWED_MNFT_ENV = (E.MNFT_LAUNCH_GRACE_SECONDS, E.MNFT_LAUNCH_DRY_RUN)
PREFIX_FIX = (
    f"names starting with {RESERVED_ENV_PREFIX} are reserved for the operator and mnft launch; rename it"
)


def env_error(name: str) -> str | None:
    """Why `name` cannot be in spec.env (the message after the field), or None when it can."""
    if name in RESERVED_ENV:
        who, fix = RESERVED_ENV[name]
        return f"{name} {who}; {fix}"
    if name.startswith(RESERVED_ENV_PREFIX) and name not in ALLOWED_MNFT_ENV:
        return f"{name}: {PREFIX_FIX}"
    return None


# Pod label and annotation keys: exact keys and prefixes (a prefix ends with '/').
LABEL_PREFIXES = ("finetune.mindspore.io/", "kueue.x-k8s.io/")
LABEL_KEYS = (MANAGED_BY_LABEL, NAME_LABEL)
ANNOTATION_PREFIXES = ("finetune.mindspore.io/", "kueue.x-k8s.io/")
ANNOTATION_KEYS = (
    RANK_INDEX_ANNOTATION,
    VOLCANO_GROUP_ANNOTATION,
    ASCEND_DEVICE_ANNOTATION,
    ASCEND_NPU_DEVICE_ANNOTATION,
)
METADATA_FIX = {
    "finetune.mindspore.io/": "the operator's own keys",
    "kueue.x-k8s.io/": "Kueue's keys, which the operator sets from the job's kueue.x-k8s.io/queue-name label",
}


def metadata_key_error(key: str, keys: tuple[str, ...], prefixes: tuple[str, ...]) -> str | None:
    """Why a pod label/annotation key is the operator's, or None when the job may set it."""
    for prefix in prefixes:
        if key.startswith(prefix):
            return f"{key}: keys starting with {prefix} are {METADATA_FIX[prefix]}; use another key"
    if key in keys:
        return f"{key} is set by the operator (or the device plugin); use another key"
    return None


# Pod volumes the operator creates, and the trainer container's paths it mounts or relies on.
VOLUME_NAMES = (DATASET_VOLUME, PRETRAINED_VOLUME, OUTPUT_VOLUME, SHM_VOLUME, RANK_TABLE_VOLUME)
MOUNT_PATHS = (
    DATASET_MOUNT,
    PRETRAINED_MOUNT,
    OUTPUT_MOUNT,
    SHM_MOUNT,
    RANK_TABLE_DIR,
    TERMINATION_MESSAGE_PATH,
)
VOLUME_NAME_FIX = f" is the operator's (reserved: {', '.join(VOLUME_NAMES)}); pick another name"


def volume_name_error(name: str) -> str:
    return f"the volume name {name}{VOLUME_NAME_FIX}"


def mount_path_error(path: str) -> str | None:
    """Why an extra volumeMount's path clashes with the operator's mounts, or None."""
    if not path.startswith("/"):
        return "must be an absolute path"
    normal = posixpath.normpath(path)
    normal = "/" if normal == "//" else normal
    for reserved in MOUNT_PATHS:
        if normal == reserved or normal.startswith(reserved + "/"):
            return f"{path} is at or under the operator's mount {reserved}; mount it elsewhere"
        if reserved.startswith(normal.rstrip("/") + "/"):
            return f"{path} would hide the operator's mount {reserved}; mount it elsewhere"
    return None
