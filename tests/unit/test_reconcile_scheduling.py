"""The planner's gang and Kueue parts through job lifecycles (reconcile_world.World)."""

from __future__ import annotations

import json
from typing import Any

from reconcile_world import World

from mnft_operator.types import Event, ObjectRef

CPU: dict[str, Any] = {
    "platform": "CPU",
    "image": "mnft:0.1",
    "workers": 2,
    "dataset": {"path": "/data"},
    "output": {"path": "out", "volume": {"persistentVolumeClaim": {"claimName": "checkpoints"}}},
    "runPolicy": {"backoffLimit": 2},
}
QUEUED = {"kueue.x-k8s.io/queue-name": "team-a"}
GATE = [{"name": "kueue.x-k8s.io/admission"}]
WAITING = (
    "2/2 worker pods are gated by kueue.x-k8s.io/admission: waiting for Kueue to admit pod group "
    "flowers-job-uid (LocalQueue team-a)"
)


def queued_world(spec: dict[str, Any] | None = None) -> World:
    w = World(json.loads(json.dumps(spec or CPU)))
    w.job["metadata"]["labels"] = dict(QUEUED)
    return w


def test_kubernetes_gang_creates_one_podgroup_per_generation() -> None:
    w = World({**CPU, "scheduling": {"gang": "kubernetes"}})
    first = w.step()
    assert [(o["kind"], o["metadata"]["name"]) for o in first.create] == [
        ("Service", "flowers"),
        ("PodGroup", "flowers-gang-0"),
        ("Pod", "flowers-worker-0"),
        ("Pod", "flowers-worker-1"),
    ]
    assert first.create[1]["spec"]["schedulingPolicy"] == {"gang": {"minCount": 2}}
    assert {p["spec"]["schedulingGroup"]["podGroupName"] for p in first.create[2:]} == {"flowers-gang-0"}
    assert w.settle().create == ()

    w.run(0, 1)
    w.step()
    w.exit(1, 137, reason="OOMKilled")  # retryable: a whole-job restart
    restart = w.step()
    assert w.status()["phase"] == "Restarting"
    assert [d.name for d in restart.delete] == ["flowers-worker-0", "flowers-worker-1"]
    nxt = w.step()  # generation 1: its group at once, the old group goes
    assert [(o["kind"], o["metadata"]["name"]) for o in nxt.create] == [("PodGroup", "flowers-gang-1")]
    assert ObjectRef("scheduling.k8s.io/v1beta1", "PodGroup", "flowers-gang-0") in nxt.delete
    w.finish_deletions()
    pods = w.step()
    assert [o["spec"]["schedulingGroup"] for o in pods.create] == [{"podGroupName": "flowers-gang-1"}] * 2
    assert sorted(n for k, n in w.objects if k == "PodGroup") == ["flowers-gang-1"]


def test_kubernetes_podgroup_of_another_job_is_a_conflict_not_adopted() -> None:
    w = World({**CPU, "scheduling": {"gang": "kubernetes"}})
    w.objects[("PodGroup", "flowers-gang-0")] = {
        "apiVersion": "scheduling.k8s.io/v1beta1",
        "kind": "PodGroup",
        "metadata": {
            "name": "flowers-gang-0",
            "labels": {"finetune.mindspore.io/job-name": "flowers"},
            "ownerReferences": [{"kind": "MobileNetFineTune", "uid": "other", "controller": True}],
        },
    }
    p = w.step()
    assert p.create == () and p.delete == ()
    assert w.conditions()["Created"] == ("False", "NameConflict")


def test_volcano_gang_is_unchanged_by_kubernetes_groups() -> None:
    w = World({**CPU, "scheduling": {"gang": "volcano"}})
    kinds = [(o["apiVersion"], o["metadata"]["name"]) for o in w.step().create if o["kind"] == "PodGroup"]
    assert kinds == [("scheduling.volcano.sh/v1beta1", "flowers")]


def test_kueue_gated_pods_wait_for_admission_then_run() -> None:
    w = queued_world()
    first = w.step()
    pods = [o for o in first.create if o["kind"] == "Pod"]
    assert [p["spec"]["schedulingGates"] for p in pods] == [GATE, GATE]
    w.step()  # the pods' ADDED events: the first reconcile that sees them
    assert w.conditions()["Admitted"] == ("False", "WaitingForAdmission")
    assert w.status()["phase"] == "Pending"
    assert w.status()["message"] == f"0/2 workers ready; WaitingForAdmission: {WAITING}"
    assert Event("Normal", "WaitingForAdmission", WAITING) in w.events
    quiet = w.settle()
    assert quiet.update == ()  # the operator never touches the gate

    w.ungate(0)  # Kueue admits the group: it removes the gate from every pod
    w.step()
    assert w.conditions()["Admitted"] == ("False", "WaitingForAdmission")
    assert "1/2 worker pods are gated" in w.status()["message"]
    w.ungate(1)
    admitted = w.step()
    assert w.conditions()["Admitted"] == ("True", "Admitted")
    assert admitted.events == (
        Event("Normal", "Admitted", "Kueue admitted pod group flowers-job-uid (LocalQueue team-a)"),
    )
    assert w.status()["message"] == "0/2 workers ready"
    w.run(0, 1)
    w.step()
    assert w.status()["phase"] == "Running"
    w.exit(0, 0)
    w.exit(1, 0)
    w.step()
    assert w.status()["phase"] == "Succeeded"
    # success finishes the group by itself (succeeded pods == total count): no annotation needed
    assert [w.pod(i)["metadata"]["annotations"] for i in (0, 1)] == [
        {"kueue.x-k8s.io/pod-group-total-count": "2"}
    ] * 2


def test_kueue_restart_keeps_the_group_and_a_final_failure_marks_it_not_retriable() -> None:
    w = queued_world()
    w.step()
    w.ungate(0)
    w.ungate(1)
    w.run(0, 1)
    w.step()
    w.exit(0, 137, reason="OOMKilled")
    w.step()  # whole-job restart
    w.finish_deletions()
    again = w.step()
    groups = {p["metadata"]["labels"]["kueue.x-k8s.io/pod-group-name"] for p in again.create}
    assert groups == {"flowers-job-uid"}  # replacement pods stay in the admitted group
    assert [p["spec"]["schedulingGates"] for p in again.create] == [GATE, GATE]
    w.step()
    assert w.conditions()["Admitted"] == ("False", "WaitingForAdmission")

    w.ungate(0)
    w.ungate(1)
    w.run(0, 1)
    w.step()
    w.exit(1, 2, message="bad dataset")  # a trainer error: the job fails for good
    failed = w.step()
    assert w.status()["phase"] == "Failed"
    assert failed.update == tuple(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": f"flowers-worker-{i}",
                "namespace": "ml",
                "annotations": {"kueue.x-k8s.io/retriable-in-group": "false"},
            },
        }
        for i in (0, 1)
    )
    assert w.pod(1)["metadata"]["annotations"]["kueue.x-k8s.io/retriable-in-group"] == "false"
    assert w.settle().update == ()


def test_no_admission_condition_without_kueue() -> None:
    w = World(json.loads(json.dumps(CPU)))
    w.step()
    assert "Admitted" not in w.conditions()
    assert all("schedulingGates" not in w.pod(i)["spec"] for i in (0, 1))
