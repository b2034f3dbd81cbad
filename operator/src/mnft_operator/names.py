"""Names, labels and annotations shared by the builders and the planner (docs/architecture.md)."""

from __future__ import annotations

from typing import Any

from mnft_contract import rank_table, termination
from mnft_operator import GROUP, KIND, VERSION

JOB_LABEL = "finetune.mindspore.io/job-name"
INDEX_LABEL = "finetune.mindspore.io/replica-index"
GENERATION_LABEL = "finetune.mindspore.io/generation"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "mnft-operator"
NAME_LABEL = "app.kubernetes.io/name"
TRAINER_NAME = "mnft-trainer"

RANK_INDEX_ANNOTATION = "hccl/rankIndex"
ASCEND_DEVICE_ANNOTATION = "ascend.kubectl.kubernetes.io/ascend-910-configuration"
# What MindX's device plugin writes instead when it serves `huawei.com/npu`.
ASCEND_NPU_DEVICE_ANNOTATION = "ascend.kubectl.kubernetes.io/ascend-npu-configuration"
VOLCANO_GROUP_ANNOTATION = "scheduling.k8s.io/group-name"

CONTAINER = "trainer"
TERMINATION_MESSAGE_PATH = termination.DEFAULT_PATH
RANK_TABLE_DIR = rank_table.DIR
RANK_TABLE_FILE = rank_table.FILE
SHM_VOLUME = "dshm"
SHM_MOUNT = "/dev/shm"
DATASET_VOLUME, DATASET_MOUNT = "dataset", "/mnt/dataset"
PRETRAINED_VOLUME, PRETRAINED_MOUNT = "pretrained", "/mnt/pretrained"
OUTPUT_VOLUME, OUTPUT_MOUNT = "output", "/mnt/output"
RANK_TABLE_VOLUME = "rings-config"
DEVICE_RESOURCES = {"Ascend": "huawei.com/Ascend910", "GPU": "nvidia.com/gpu"}


def pod_name(job: str, index: int) -> str:
    return f"{job}-worker-{index}"


def rings_configmap_name(job: str) -> str:
    return f"rings-config-{job}"


def common_labels(job: str) -> dict[str, str]:
    return {JOB_LABEL: job, MANAGED_BY_LABEL: MANAGED_BY}


def owner_reference(job: str, uid: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": KIND,
        "name": job,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def child_metadata(job: str, namespace: str, uid: str, name: str) -> dict[str, Any]:
    """metadata of an owned child object: name, namespace, common labels, ownerReferences."""
    return {
        "name": name,
        "namespace": namespace,
        "labels": common_labels(job),
        "ownerReferences": [owner_reference(job, uid)],
    }
