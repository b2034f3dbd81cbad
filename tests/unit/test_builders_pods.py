"""Worker pod, Service, ConfigMap and PodGroup builders against exact expected objects."""

from __future__ import annotations

from typing import Any

from mnft_operator.builders.configmap import build_configmap
from mnft_operator.builders.podgroup import build_podgroup
from mnft_operator.builders.pods import build_pod, train_command
from mnft_operator.builders.service import build_service
from mnft_operator.rank_table import build_rank_table
from mnft_operator.spec import Job, parse

OWNER = {
    "apiVersion": "finetune.mindspore.io/v1alpha1",
    "kind": "MobileNetFineTune",
    "name": "flowers",
    "uid": "uid-1",
    "controller": True,
    "blockOwnerDeletion": True,
}
# The restricted defaults every pod gets with no security field in the spec (written out, not imported).
POD_SC = {
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "runAsGroup": 65532,
    "fsGroup": 65532,
    "fsGroupChangePolicy": "OnRootMismatch",
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SC = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
BASE_LABELS = {"finetune.mindspore.io/job-name": "flowers", "app.kubernetes.io/managed-by": "mnft-operator"}


def job(spec: dict[str, Any], name: str = "flowers") -> Job:
    return parse({"metadata": {"name": name, "namespace": "ml", "uid": "uid-1"}, "spec": spec})


def env(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in pairs]


def test_cpu_pod_exact() -> None:
    spec = {
        "platform": "CPU",
        "image": "mnft-trainer:0.1.0",
        "workers": 2,
        "devicesPerWorker": 2,
        "dataset": {"path": "/data/flowers"},
        "hyperparameters": {"epochSize": 2, "batchSize": 16, "lrMax": 0.05},
        "eval": {"enabled": False},
        "env": [{"name": "GLOG_v", "value": "3"}],
    }
    assert build_pod(job(spec), 1, 2) == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "flowers-worker-1",
            "namespace": "ml",
            "labels": {
                **BASE_LABELS,
                "finetune.mindspore.io/replica-index": "1",
                "finetune.mindspore.io/generation": "2",
                "app.kubernetes.io/name": "mnft-trainer",
            },
            "ownerReferences": [OWNER],
        },
        "spec": {
            "hostname": "flowers-worker-1",
            "subdomain": "flowers",
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "securityContext": POD_SC,
            "containers": [
                {
                    "name": "trainer",
                    "image": "mnft-trainer:0.1.0",
                    "command": [
                        *("mnft", "launch", "train", "--platform", "CPU", "--dataset_path", "/data/flowers"),
                        *("--save_checkpoint_path", "/mnt/output/checkpoint"),
                        *(
                            "--batch_size",
                            "16",
                            "--epoch_size",
                            "2",
                            "--lr_max",
                            "0.05",
                            "--run_eval",
                            "false",
                        ),
                    ],
                    "env": env(
                        [
                            ("MNFT_JOB_NAME", "flowers"),
                            ("MNFT_NAMESPACE", "ml"),
                            ("MNFT_PLATFORM", "CPU"),
                            ("MNFT_WORKER_INDEX", "1"),
                            ("MNFT_WORKERS", "2"),
                            ("MNFT_DEVICES_PER_WORKER", "2"),
                            ("MNFT_COMM_MODE", "dynamicCluster"),
                            ("TERMINATION_MESSAGE_PATH", "/dev/termination-log"),
                            ("MS_SCHED_HOST", "flowers-worker-0.flowers.ml.svc"),
                            ("MS_SCHED_PORT", "8118"),
                            ("MS_WORKER_NUM", "4"),
                            ("MNFT_NODE_RANK", "1"),
                            ("MNFT_LOCAL_WORKER_NUM", "2"),
                            ("GLOG_v", "3"),
                        ]
                    ),
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "FallbackToLogsOnError",
                    "volumeMounts": [{"name": "output", "mountPath": "/mnt/output"}],
                    "securityContext": CONTAINER_SC,
                }
            ],
            "volumes": [{"name": "output", "emptyDir": {}}],
        },
    }


def test_gpu_pod_with_pvc_checkpoint_and_pod_settings() -> None:
    spec = {
        "platform": "GPU",
        "image": "trainer:gpu",
        "devicesPerWorker": 8,
        "dataset": {
            "path": "flowers",
            "volume": {"name": "ignored", "persistentVolumeClaim": {"claimName": "data"}},
        },
        "pretrained": {
            "checkpoint": "mobilenetv2.ckpt",
            "volume": {"persistentVolumeClaim": {"claimName": "models", "readOnly": True}},
            "freezeLayer": "backbone",
        },
        "output": {"path": "run1", "volume": {"persistentVolumeClaim": {"claimName": "out"}}},
        "resources": {"limits": {"memory": "32Gi"}, "requests": {"cpu": "8"}},
        "nodeSelector": {"accelerator": "a100"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "priorityClassName": "high",
        "serviceAccountName": "trainer",
        "imagePullSecrets": [{"name": "regcred"}],
    }
    pod = build_pod(job(spec), 0, 0)
    container = pod["spec"]["containers"][0]
    assert container["command"] == [
        *("mnft", "launch", "train", "--platform", "GPU", "--dataset_path", "/mnt/dataset/flowers"),
        *("--pretrain_ckpt", "/mnt/pretrained/mobilenetv2.ckpt", "--freeze_layer", "backbone"),
        *("--save_checkpoint_path", "/mnt/output/run1", "--run_eval", "true"),
    ]
    assert container["resources"] == {
        "limits": {"memory": "32Gi", "nvidia.com/gpu": "8"},
        "requests": {"cpu": "8", "nvidia.com/gpu": "8"},
    }
    assert container["volumeMounts"] == [
        {"name": "dataset", "mountPath": "/mnt/dataset", "readOnly": True},
        {"name": "pretrained", "mountPath": "/mnt/pretrained", "readOnly": True},
        {"name": "output", "mountPath": "/mnt/output"},
    ]
    assert pod["spec"]["volumes"] == [
        {"name": "dataset", "persistentVolumeClaim": {"claimName": "data"}},
        {"name": "pretrained", "persistentVolumeClaim": {"claimName": "models", "readOnly": True}},
        {"name": "output", "persistentVolumeClaim": {"claimName": "out"}},
    ]
    assert {k: pod["spec"][k] for k in pod["spec"] if k not in ("containers", "volumes")} == {
        "hostname": "flowers-worker-0",
        "subdomain": "flowers",
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "securityContext": POD_SC,
        "nodeSelector": {"accelerator": "a100"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "priorityClassName": "high",
        "serviceAccountName": "trainer",
        "imagePullSecrets": [{"name": "regcred"}],
    }
    assert "annotations" not in pod["metadata"]


def test_ascend_pod_with_url_checkpoint_and_volcano() -> None:
    sha = "ab" * 32
    spec = {
        "platform": "Ascend",
        "image": "trainer:ascend",
        "workers": 2,
        "devicesPerWorker": 8,
        "dataset": {"path": "/data"},
        "pretrained": {"url": "https://models.example/mbv2.ckpt", "sha256": sha},
        "scheduling": {"gang": "volcano", "queue": "training"},
        "schedulerName": "ignored-with-volcano",
    }
    pod = build_pod(job(spec), 1, 0)
    assert pod["metadata"]["annotations"] == {
        "hccl/rankIndex": "1",
        "scheduling.k8s.io/group-name": "flowers",
    }
    assert pod["spec"]["schedulerName"] == "volcano"
    assert pod["spec"]["initContainers"] == [
        {
            "name": "fetch-checkpoint",
            "image": "trainer:ascend",
            "command": [
                *("mnft", "fetch-checkpoint", "--url", "https://models.example/mbv2.ckpt", "--sha256", sha),
                *("--output", "/mnt/pretrained/checkpoint.ckpt"),
            ],
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "FallbackToLogsOnError",
            "volumeMounts": [{"name": "pretrained", "mountPath": "/mnt/pretrained"}],
            "securityContext": CONTAINER_SC,
        }
    ]
    assert pod["spec"]["volumes"] == [
        {"name": "pretrained", "emptyDir": {}},
        {"name": "output", "emptyDir": {}},
        {"name": "rings-config", "configMap": {"name": "rings-config-flowers"}},
    ]
    container = pod["spec"]["containers"][0]
    assert container["resources"] == {
        "limits": {"huawei.com/Ascend910": "8"},
        "requests": {"huawei.com/Ascend910": "8"},
    }
    assert {
        "name": "rings-config",
        "mountPath": "/user/serverid/devindex/config",
        "readOnly": True,
    } in container["volumeMounts"]
    assert "--pretrain_ckpt" in container["command"]
    assert (
        container["command"][container["command"].index("--pretrain_ckpt") + 1]
        == "/mnt/pretrained/checkpoint.ckpt"
    )


def test_every_hyperparameter_is_rendered_in_snake_case() -> None:
    hp = {
        "numClasses": 5,
        "imageHeight": 96,
        "imageWidth": 128,
        "batchSize": 8,
        "epochSize": 3,
        "warmupEpochs": 1,
        "lrMax": 0.1,
        "lrEnd": 0.001,
        "momentum": 0.9,
        "weightDecay": 4e-05,
        "labelSmooth": 0.1,
        "lossScale": 1024,
        "saveCheckpointEpochs": 1,
        "keepCheckpointMax": 2,
    }
    cmd = train_command(
        job({"platform": "CPU", "image": "i", "dataset": {"path": "/d"}, "hyperparameters": hp})
    )
    rendered = cmd[cmd.index("/mnt/output/checkpoint") + 1 : -2]
    assert rendered == [
        *("--num_classes", "5", "--image_height", "96", "--image_width", "128", "--batch_size", "8"),
        *("--epoch_size", "3", "--warmup_epochs", "1", "--lr_max", "0.1", "--lr_end", "0.001"),
        *("--momentum", "0.9", "--weight_decay", "4e-05", "--label_smooth", "0.1", "--loss_scale", "1024"),
        *("--save_checkpoint_epochs", "1", "--keep_checkpoint_max", "2"),
    ]


def test_service_exact() -> None:
    spec = {
        "platform": "CPU",
        "image": "i",
        "dataset": {"path": "/d"},
        "communication": {"schedulerPort": 9000},
    }
    assert build_service(job(spec)) == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "flowers", "namespace": "ml", "labels": BASE_LABELS, "ownerReferences": [OWNER]},
        "spec": {
            "clusterIP": "None",
            "selector": {"finetune.mindspore.io/job-name": "flowers"},
            "publishNotReadyAddresses": True,
            "ports": [{"name": "scheduler", "port": 9000, "targetPort": 9000, "protocol": "TCP"}],
        },
    }


def test_podgroup_exact() -> None:
    spec = {
        "platform": "CPU",
        "image": "i",
        "workers": 4,
        "dataset": {"path": "/d"},
        "priorityClassName": "high",
        "scheduling": {"gang": "volcano", "queue": "q", "minAvailable": 3},
    }
    assert build_podgroup(job(spec)) == {
        "apiVersion": "scheduling.volcano.sh/v1beta1",
        "kind": "PodGroup",
        "metadata": {"name": "flowers", "namespace": "ml", "labels": BASE_LABELS, "ownerReferences": [OWNER]},
        "spec": {"minMember": 3, "queue": "q", "priorityClassName": "high"},
    }
    default = job({"platform": "CPU", "image": "i", "workers": 4, "dataset": {"path": "/d"}})
    assert build_podgroup(default)["spec"] == {"minMember": 4}


def test_configmap_initializing_exact() -> None:
    j = job({"platform": "Ascend", "image": "i", "devicesPerWorker": 8, "dataset": {"path": "/d"}})
    table = build_rank_table([], 1, 8)
    assert build_configmap(j, table) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "rings-config-flowers",
            "namespace": "ml",
            "labels": BASE_LABELS,
            "ownerReferences": [OWNER],
        },
        "data": {"hccl.json": '{"status":"initializing"}', "version": table.version},
    }
