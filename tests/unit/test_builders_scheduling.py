"""Kueue pod-group fields, Kubernetes' own PodGroup and Volcano's minResources, as exact objects; the
native objects also pass the Kubernetes 1.37 schemas (strict: unknown fields refused)."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from mnft_operator.builders.k8s_podgroup import build_k8s_podgroup, uses_kubernetes_gang
from mnft_operator.builders.kueue import not_retriable_patch
from mnft_operator.builders.podgroup import build_podgroup
from mnft_operator.builders.pods import build_pod
from mnft_operator.render_cli import render
from mnft_operator.spec import Job, parse

OWNER = {
    "apiVersion": "finetune.mindspore.io/v1alpha1",
    "kind": "MobileNetFineTune",
    "name": "flowers",
    "uid": "0123456789abcdef",
    "controller": True,
    "blockOwnerDeletion": True,
}
BASE_LABELS = {"finetune.mindspore.io/job-name": "flowers", "app.kubernetes.io/managed-by": "mnft-operator"}
CPU: dict[str, Any] = {"platform": "CPU", "image": "i", "workers": 2, "dataset": {"path": "/d"}}


def job(spec: dict[str, Any], labels: dict[str, str] | None = None) -> Job:
    meta: dict[str, Any] = {"name": "flowers", "namespace": "ml", "uid": "0123456789abcdef"}
    if labels:
        meta["labels"] = labels
    return parse({"metadata": meta, "spec": spec})


def validate_137(obj: dict[str, Any]) -> None:
    kubernetes_validate.validate(obj, "1.37.0", strict=True)


def test_kueue_queue_label_puts_every_pod_into_one_gated_group() -> None:
    queued = job(CPU, {"kueue.x-k8s.io/queue-name": "team-a"})
    for index in (0, 1):
        pod = build_pod(queued, index, 3)
        assert pod["metadata"] == {
            "name": f"flowers-worker-{index}",
            "namespace": "ml",
            "labels": {
                **BASE_LABELS,
                "finetune.mindspore.io/replica-index": str(index),
                "finetune.mindspore.io/generation": "3",
                "app.kubernetes.io/name": "mnft-trainer",
                "kueue.x-k8s.io/queue-name": "team-a",
                # the same group in every generation: a whole-job restart's pods replace the old ones
                "kueue.x-k8s.io/pod-group-name": "flowers-01234567",
            },
            "annotations": {"kueue.x-k8s.io/pod-group-total-count": "2"},
            "ownerReferences": [OWNER],
        }
        assert pod["spec"]["schedulingGates"] == [{"name": "kueue.x-k8s.io/admission"}]
        validate_137(pod)
    assert (
        build_pod(queued, 0, 0)["metadata"]["labels"]["kueue.x-k8s.io/pod-group-name"] == "flowers-01234567"
    )


def test_no_kueue_fields_without_the_label() -> None:
    pod = build_pod(job(CPU, {"team": "a"}), 0, 0)
    assert not any(k.startswith("kueue.x-k8s.io/") for k in pod["metadata"]["labels"])
    assert "annotations" not in pod["metadata"]
    assert "schedulingGates" not in pod["spec"]


def test_not_retriable_patch_exact() -> None:
    assert not_retriable_patch(job(CPU), "flowers-worker-1") == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "flowers-worker-1",
            "namespace": "ml",
            "annotations": {"kueue.x-k8s.io/retriable-in-group": "false"},
        },
    }


def test_kubernetes_podgroup_exact_and_pods_join_it() -> None:
    gang = job({**CPU, "workers": 4, "priorityClassName": "high", "scheduling": {"gang": "kubernetes"}})
    group = build_k8s_podgroup(gang, 2)
    assert group == {
        "apiVersion": "scheduling.k8s.io/v1beta1",
        "kind": "PodGroup",
        "metadata": {
            "name": "flowers-gang-2",
            "namespace": "ml",
            "labels": BASE_LABELS,
            "ownerReferences": [OWNER],
        },
        "spec": {
            "schedulingPolicy": {"gang": {"minCount": 4}},
            "disruptionMode": {"all": {}},
            "priorityClassName": "high",
        },
    }
    validate_137(group)
    pod = build_pod(gang, 3, 2)
    assert pod["spec"]["schedulingGroup"] == {"podGroupName": "flowers-gang-2"}
    assert "schedulerName" not in pod["spec"]  # the default scheduler runs gang scheduling itself
    validate_137(pod)
    fewer = job({**CPU, "workers": 4, "scheduling": {"gang": "kubernetes", "minAvailable": 3}})
    assert build_k8s_podgroup(fewer, 0)["spec"] == {
        "schedulingPolicy": {"gang": {"minCount": 3}},
        "disruptionMode": {"all": {}},
    }


def test_only_kubernetes_gang_jobs_list_kubernetes_podgroups() -> None:
    assert uses_kubernetes_gang({"spec": {"scheduling": {"gang": "kubernetes"}}})
    assert not uses_kubernetes_gang({"spec": {"scheduling": {"gang": "volcano"}}})
    assert not uses_kubernetes_gang({"spec": {"scheduling": "junk"}})
    assert not uses_kubernetes_gang({})


def test_kubernetes_podgroup_is_not_a_1_33_object() -> None:
    gang = job({**CPU, "scheduling": {"gang": "kubernetes"}})
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(build_pod(gang, 0, 0), "1.33.0", strict=True)


@pytest.mark.parametrize("gang", ["none", "volcano"])
def test_no_scheduling_group_without_the_kubernetes_gang(gang: str) -> None:
    assert "schedulingGroup" not in build_pod(job({**CPU, "scheduling": {"gang": gang}}), 0, 0)["spec"]


def test_volcano_min_resources_sum_the_min_member_pods_requests() -> None:
    gpu = job(
        {
            **CPU,
            "platform": "GPU",
            "workers": 3,
            "devicesPerWorker": 2,
            # memory only as a limit: the API server defaults the request to it
            "resources": {"requests": {"cpu": "1500m"}, "limits": {"cpu": 2, "memory": "3Gi"}},
            "scheduling": {"gang": "volcano", "minAvailable": 2},
        }
    )
    assert build_podgroup(gpu)["spec"] == {
        "minMember": 2,
        "minResources": {"cpu": "3", "memory": "6Gi", "nvidia.com/gpu": "4"},
    }
    ascend = job(
        {
            **CPU,
            "platform": "Ascend",
            "workers": 2,
            "devicesPerWorker": 8,
            "ascend": {"resourceName": "huawei.com/npu"},
            "resources": {"requests": {"memory": "500M"}},
            "scheduling": {"gang": "volcano"},
        }
    )
    assert build_podgroup(ascend)["spec"]["minResources"] == {"huawei.com/npu": "16", "memory": "1G"}


def test_rendered_kubernetes_gang_job_is_valid_1_37() -> None:
    manifest = {
        "apiVersion": "finetune.mindspore.io/v1alpha1",
        "kind": "MobileNetFineTune",
        "metadata": {"name": "flowers", "labels": {"kueue.x-k8s.io/queue-name": "team-a"}},
        "spec": {**CPU, "resources": {"requests": {"cpu": "1"}}, "scheduling": {"gang": "kubernetes"}},
    }
    objects = render(manifest)
    assert [(o["apiVersion"], o["kind"]) for o in objects] == [
        ("v1", "Service"),
        ("scheduling.k8s.io/v1beta1", "PodGroup"),
        ("v1", "Pod"),
        ("v1", "Pod"),
    ]
    for obj in objects:
        validate_137(obj)
