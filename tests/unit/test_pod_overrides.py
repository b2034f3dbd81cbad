"""Pod overrides (spec.volumes, volumeMounts, podLabels, podAnnotations, runtimeClassName): the exact pods
built, Pod Security "restricted" on them, and what the CRD (CEL in cel-python) and spec.validate refuse."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from kube_emulator.apiserver import openapi_schema
from kube_emulator.apiserver.pod_security import check_pod
from mnft_operator import crd_spec, reserved
from mnft_operator.builders.pods import build_pod
from mnft_operator.crd import crd
from mnft_operator.spec import Job, parse, validate

OWNER = {
    "apiVersion": "finetune.mindspore.io/v1alpha1",
    "kind": "MobileNetFineTune",
    "name": "flowers",
    "uid": "uid-1",
    "controller": True,
    "blockOwnerDeletion": True,
}
OVERRIDES: dict[str, Any] = {
    "volumes": [
        {"name": "nccl-topo", "configMap": {"name": "nccl-topology"}},
        {"name": "cache", "persistentVolumeClaim": {"claimName": "ms-cache"}},
    ],
    "volumeMounts": [
        {"name": "nccl-topo", "mountPath": "/etc/nccl", "readOnly": True},
        {"name": "cache", "mountPath": "/cache", "subPath": "flowers"},
    ],
    "podLabels": {"team": "vision", "app.kubernetes.io/part-of": "recsys"},
    "podAnnotations": {"example.com/owner": "ml-platform"},
    "runtimeClassName": "nvidia",
}
QUALIFIED = (
    "must be a qualified name: an optional DNS-subdomain prefix and '/', then at most 63 letters, digits, "
    "'-', '_' or '.', starting and ending with a letter or digit"
)


def resource(spec: dict[str, Any]) -> dict[str, Any]:
    base = {"platform": "GPU", "image": "mnft-trainer:0.1.0", "dataset": {"path": "/data"}}
    return {"metadata": {"name": "flowers", "namespace": "ml", "uid": "uid-1"}, "spec": {**base, **spec}}


def job(spec: dict[str, Any], allow_host_path: bool = False) -> Job:
    return parse(resource(spec), allow_host_path)


def server_errors(obj: dict[str, Any]) -> list[str]:
    root = crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    defaulted = openapi_schema.apply_defaults(root, openapi_schema.prune(root, obj))
    return [str(e) for e in openapi_schema.validate(root, defaulted, None)]


def test_gpu_pod_with_every_override_exact() -> None:
    assert build_pod(job({"devicesPerWorker": 2, **OVERRIDES}), 0, 0) == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "flowers-worker-0",
            "namespace": "ml",
            "labels": {
                "team": "vision",
                "app.kubernetes.io/part-of": "recsys",
                "finetune.mindspore.io/job-name": "flowers",
                "app.kubernetes.io/managed-by": "mnft-operator",
                "finetune.mindspore.io/replica-index": "0",
                "finetune.mindspore.io/generation": "0",
                "app.kubernetes.io/name": "mnft-trainer",
            },
            "ownerReferences": [OWNER],
            "annotations": {"example.com/owner": "ml-platform"},
        },
        "spec": {
            "hostname": "flowers-worker-0",
            "subdomain": "flowers",
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 65532,
                "runAsGroup": 65532,
                "fsGroup": 65532,
                "fsGroupChangePolicy": "OnRootMismatch",
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "trainer",
                    "image": "mnft-trainer:0.1.0",
                    "command": [
                        *("mnft", "launch", "train", "--platform", "GPU", "--dataset_path", "/data"),
                        *("--save_checkpoint_path", "/mnt/output/checkpoint", "--run_eval", "true"),
                    ],
                    "env": [
                        {"name": "MNFT_JOB_NAME", "value": "flowers"},
                        {"name": "MNFT_NAMESPACE", "value": "ml"},
                        {"name": "MNFT_PLATFORM", "value": "GPU"},
                        {"name": "MNFT_WORKER_INDEX", "value": "0"},
                        {"name": "MNFT_WORKERS", "value": "1"},
                        {"name": "MNFT_DEVICES_PER_WORKER", "value": "2"},
                        {"name": "MNFT_COMM_MODE", "value": "dynamicCluster"},
                        {"name": "TERMINATION_MESSAGE_PATH", "value": "/dev/termination-log"},
                        {"name": "MS_SCHED_HOST", "value": "flowers-worker-0.flowers.ml.svc"},
                        {"name": "MS_SCHED_PORT", "value": "8118"},
                        {"name": "MS_WORKER_NUM", "value": "2"},
                        {"name": "MNFT_NODE_RANK", "value": "0"},
                        {"name": "MNFT_LOCAL_WORKER_NUM", "value": "2"},
                        {"name": "MS_TOPO_TIMEOUT", "value": "600"},
                    ],
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "FallbackToLogsOnError",
                    "volumeMounts": [
                        {"name": "output", "mountPath": "/mnt/output"},
                        {"name": "dshm", "mountPath": "/dev/shm"},
                        {"name": "nccl-topo", "mountPath": "/etc/nccl", "readOnly": True},
                        {"name": "cache", "mountPath": "/cache", "subPath": "flowers"},
                    ],
                    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                    "resources": {"limits": {"nvidia.com/gpu": "2"}, "requests": {"nvidia.com/gpu": "2"}},
                }
            ],
            "volumes": [
                {"name": "output", "emptyDir": {}},
                {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}},
                {"name": "nccl-topo", "configMap": {"name": "nccl-topology"}},
                {"name": "cache", "persistentVolumeClaim": {"claimName": "ms-cache"}},
            ],
            "runtimeClassName": "nvidia",
        },
    }


def test_ascend_overrides_keep_the_operator_annotations_and_the_init_container_untouched() -> None:
    spec = {
        "platform": "Ascend",
        "devicesPerWorker": 8,
        "pretrained": {"url": "https://example.com/m.ckpt", "sha256": "a" * 64},
        "volumes": [{"name": "driver-conf", "configMap": {"name": "ascend-conf"}}],
        "volumeMounts": [{"name": "driver-conf", "mountPath": "/etc/ascend"}],
        "podAnnotations": {"example.com/cost-center": "42"},
        "runtimeClassName": "ascend",
    }
    pod = build_pod(job(spec), 3, 1)
    assert pod["metadata"]["annotations"] == {"example.com/cost-center": "42", "hccl/rankIndex": "3"}
    assert [v["name"] for v in pod["spec"]["volumes"]] == [
        "pretrained",
        "output",
        "dshm",
        "rings-config",
        "driver-conf",
    ]
    assert pod["spec"]["containers"][0]["volumeMounts"][-1] == {
        "name": "driver-conf",
        "mountPath": "/etc/ascend",
    }
    assert pod["spec"]["initContainers"][0]["volumeMounts"] == [
        {"name": "pretrained", "mountPath": "/mnt/pretrained"}
    ]
    assert pod["spec"]["runtimeClassName"] == "ascend"


def test_no_override_leaves_the_pod_as_before() -> None:
    pod = build_pod(job({}), 0, 0)
    assert "annotations" not in pod["metadata"] and "runtimeClassName" not in pod["spec"]
    assert [v["name"] for v in pod["spec"]["volumes"]] == ["output", "dshm"]


# Every volume type the Pod Security Standard "restricted" allows.
RESTRICTED_VOLUMES = [
    {"name": "cfg", "configMap": {"name": "settings"}},
    {"name": "creds", "secret": {"secretName": "token"}},
    {"name": "claim", "persistentVolumeClaim": {"claimName": "data"}},
    {"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}},
    {"name": "csi-cache", "csi": {"driver": "cache.example.com"}},
    {
        "name": "meta",
        "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]},
    },
    {"name": "proj", "projected": {"sources": [{"configMap": {"name": "settings"}}]}},
    {
        "name": "eph",
        "ephemeral": {
            "volumeClaimTemplate": {
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
            }
        },
    },
]


def test_extra_volumes_of_every_allowed_type_pass_restricted_and_admission() -> None:
    mounts = [{"name": v["name"], "mountPath": f"/extra/{v['name']}"} for v in RESTRICTED_VOLUMES]
    spec = {"volumes": RESTRICTED_VOLUMES, "volumeMounts": mounts}
    assert server_errors(resource(spec)) == []
    assert check_pod(build_pod(job(spec), 0, 0), "restricted") == []


def test_an_extra_nfs_volume_is_left_to_pod_security_which_refuses_it_under_restricted() -> None:
    spec = {"volumes": [{"name": "share", "nfs": {"server": "nfs.example.com", "path": "/exports"}}]}
    pod = build_pod(job(spec), 0, 0)
    assert check_pod(pod, "baseline") == []
    assert [(v.rule, v.path) for v in check_pod(pod, "restricted")] == [
        ("Volume Types", "spec.volumes[2].nfs")
    ]


def test_host_path_in_extra_volumes_needs_allow_host_path() -> None:
    spec = {"volumes": [{"name": "host", "hostPath": {"path": "/var/lib/models"}}]}
    assert [e.field for e in validate(resource(spec))] == ["spec.volumes[0].hostPath"]
    assert validate(resource(spec), allow_host_path=True) == []
    pod = build_pod(job(spec, allow_host_path=True), 0, 0)
    assert [(v.rule, v.path) for v in check_pod(pod, "baseline")] == [
        ("HostPath Volumes", "spec.volumes[2].hostPath")
    ]


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        (
            {"volumes": [{"name": "output", "emptyDir": {}}]},
            "spec.volumes[0].name",
            "the volume name output is the operator's (reserved: dataset, pretrained, output, dshm, "
            "rings-config); pick another name",
        ),
        (
            {
                "volumes": [{"name": "a", "emptyDir": {}}],
                "volumeMounts": [{"name": "a", "mountPath": "/mnt//dataset"}],
            },
            "spec.volumeMounts[0].mountPath",
            "/mnt//dataset is at or under the operator's mount /mnt/dataset; mount it elsewhere",
        ),
        (
            {"volumes": [{"name": "a", "emptyDir": {}}], "volumeMounts": [{"name": "a", "mountPath": "/"}]},
            "spec.volumeMounts[0].mountPath",
            "/ would hide the operator's mount /mnt/dataset; mount it elsewhere",
        ),
        (
            {
                "volumes": [{"name": "a", "emptyDir": {}}],
                "volumeMounts": [{"name": "a", "mountPath": "/dev/termination-log"}],
            },
            "spec.volumeMounts[0].mountPath",
            "/dev/termination-log is at or under the operator's mount /dev/termination-log; mount it "
            "elsewhere",
        ),
        (
            {
                "volumes": [{"name": "a", "emptyDir": {}}],
                "volumeMounts": [{"name": "a", "mountPath": "/x"}, {"name": "a", "mountPath": "/x/"}],
            },
            "spec.volumeMounts[1].mountPath",
            "/x is mounted twice; mount paths must be unique",
        ),
        (
            {"volumes": [{"name": "a"}]},
            "spec.volumes[0]",
            "must hold exactly one volume source such as persistentVolumeClaim (found none)",
        ),
        (
            {"podLabels": {"app.kubernetes.io/managed-by": "me"}},
            "spec.podLabels",
            "app.kubernetes.io/managed-by is set by the operator (or the device plugin); use another key",
        ),
        (
            {"podLabels": {"kueue.x-k8s.io/queue-name": "team-a"}},
            "spec.podLabels",
            "kueue.x-k8s.io/queue-name: keys starting with kueue.x-k8s.io/ are Kueue's keys, which the "
            "operator sets from the job's kueue.x-k8s.io/queue-name label; use another key",
        ),
        (
            {"podLabels": {"a" * 64: "x"}},
            "spec.podLabels",
            f"key {'a' * 64!r} {QUALIFIED}",
        ),
        (
            {"podAnnotations": {"Bad_Prefix.example.com/x": "1"}},
            "spec.podAnnotations",
            f"key 'Bad_Prefix.example.com/x' {QUALIFIED}",
        ),
        (
            {"podAnnotations": {"ascend.kubectl.kubernetes.io/ascend-910-configuration": "{}"}},
            "spec.podAnnotations",
            "ascend.kubectl.kubernetes.io/ascend-910-configuration is set by the operator (or the device "
            "plugin); use another key",
        ),
        (
            {"podLabels": {"team": "-vision-"}},
            "spec.podLabels.team",
            "must be a label value (letters, digits, '-', '_' and '.', starting and ending with a letter or "
            "digit, at most 63), not '-vision-'",
        ),
        (
            {"runtimeClassName": "Nvidia_Runtime"},
            "spec.runtimeClassName",
            "must be a DNS subdomain (lowercase letters, digits, '-' and '.', at most 253), not "
            "'Nvidia_Runtime'",
        ),
    ],
)
def test_validate_refuses(spec: dict[str, Any], field: str, message: str) -> None:
    assert [(e.field, e.message) for e in validate(resource(spec))] == [(field, message)]


def test_annotation_keys_are_checked_lower_cased_as_apimachinery_does() -> None:
    spec = {"podAnnotations": {"Example.COM/Owner": "x"}}
    assert validate(resource(spec)) == [] and server_errors(resource(spec)) == []


def test_the_annotations_total_size_is_bounded() -> None:
    limit = crd_spec.ANNOTATION_TOTAL_LIMIT
    fits = {"example.com/a": "x" * (limit - len("example.com/a"))}
    assert validate(resource({"podAnnotations": fits})) == []
    over = {"example.com/a": fits["example.com/a"], "example.com/b": ""}
    assert [(e.field, e.message) for e in validate(resource({"podAnnotations": over}))] == [
        (
            "spec.podAnnotations",
            f"keys and values total {limit + 13} bytes; at most {limit} (Kubernetes' 256 KiB less 1 KiB for "
            "the operator's own annotations): move large data into a ConfigMap",
        )
    ]


@pytest.mark.parametrize(
    "spec",
    [{"volumes": [{"name": name, "emptyDir": {}}]} for name in reserved.VOLUME_NAMES]
    + [
        {"volumes": [{"name": "a", "emptyDir": {}}], "volumeMounts": [{"name": "a", "mountPath": path}]}
        for path in [*reserved.MOUNT_PATHS, "/mnt/dataset/sub", "/mnt/output/", "/dev", "/user", "relative"]
    ]
    + [{"podLabels": {key: "x"}} for key in [*reserved.LABEL_KEYS, "finetune.mindspore.io/anything"]]
    + [
        {"podAnnotations": {key: "x"}}
        for key in [*reserved.ANNOTATION_KEYS, "kueue.x-k8s.io/pod-group-total-count"]
    ],
)
def test_the_crd_and_validate_refuse_the_same_field(spec: dict[str, Any]) -> None:
    """The CEL rules (cel-python, as the embedded API evaluates them) and their Python twins agree."""
    fields = [e.field for e in validate(resource(spec))]
    assert len(fields) == 1
    assert [p.split(": ", 1)[0] for p in server_errors(resource(spec))] == fields


def test_allowed_overrides_pass_both() -> None:
    spec = {
        "devicesPerWorker": 2,
        **OVERRIDES,
        "volumeMounts": [*OVERRIDES["volumeMounts"], {"name": "cache", "mountPath": "/mnt/cache"}],
    }
    assert validate(resource(spec)) == [] and server_errors(resource(spec)) == []


@pytest.mark.parametrize("version", ["1.33.0", "1.37.0"])
def test_rendered_pods_with_overrides_are_valid_kubernetes(version: str) -> None:
    mounts = [{"name": v["name"], "mountPath": f"/extra/{v['name']}"} for v in RESTRICTED_VOLUMES]
    spec = {**OVERRIDES, "volumes": RESTRICTED_VOLUMES, "volumeMounts": mounts, "platform": "Ascend"}
    for index in range(2):
        kubernetes_validate.validate(
            build_pod(job({**spec, "workers": 2, "devicesPerWorker": 8}), index, 0), version, strict=True
        )
