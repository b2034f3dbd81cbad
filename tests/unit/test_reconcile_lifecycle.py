"""plan() through whole job lifecycles, applied to an in-memory cluster (reconcile_world.World)."""

from __future__ import annotations

import json
from typing import Any

from reconcile_world import T0, World

from mnft_operator.planner import plan
from mnft_operator.types import Event, ObjectRef, Observed, Plan

CPU: dict[str, Any] = {
    "platform": "CPU",
    "image": "mnft:0.1",
    "workers": 2,
    "dataset": {"path": "/data"},
    "output": {"path": "out", "volume": {"persistentVolumeClaim": {"claimName": "checkpoints"}}},
    "hyperparameters": {"epochSize": 3},
}
SUMMARY = json.dumps(
    {"epochs": 3, "final_loss": 0.25, "accuracy": 0.9375, "checkpoint": "/mnt/output/c.ckpt"}
)


def spec(**changes: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(CPU))
    for key, value in changes.items():
        out[key] = value
    return out


def test_create_pending_running_succeeded() -> None:
    w = World(spec())
    first = w.step()
    assert [(o["kind"], o["metadata"]["name"]) for o in first.create] == [
        ("Service", "flowers"),
        ("Pod", "flowers-worker-0"),
        ("Pod", "flowers-worker-1"),
    ]
    assert first.events == (Event("Normal", "PodsCreated", "created 2 worker pods (generation 0)"),)
    assert w.status()["phase"] == "Pending"
    assert w.settle().requeue_after is None  # converged: an operator restart here creates nothing

    w.advance(5)
    w.run(0)
    assert w.step().status is not None and w.status()["phase"] == "Pending"
    assert w.status()["workersReady"] == "1/2"
    w.run(1)
    running = w.step()
    assert w.status()["phase"] == "Running"
    assert running.events == (Event("Normal", "Running", "all 2 worker pods are running"),)
    assert running.requeue_after == 10.0

    w.log_tail = "[rank-1] epoch[2/3], iter[4] cost: 9 ms, per step time: 2 ms, avg loss: 0.9\n" + (
        "[rank-0] epoch[2/3], iter[4] cost: 1.0 ms, per step time: 0.25 ms, avg loss: 0.4321\n"
        "[rank-0] saving\n"
    )
    w.step()
    assert w.status()["progress"] == {"epoch": 2, "totalEpochs": 3, "loss": 0.4321}
    assert w.status()["message"] == "2/2 workers ready, epoch 2/3, loss 0.4321"
    assert w.step().status is None  # nothing new: no patch

    w.advance(60)
    w.exit(1, 0)
    assert w.step().status is not None and w.status()["phase"] == "Running"  # rank 1 done, rank 0 still runs
    w.exit(0, 0, message=SUMMARY)
    done = w.step()
    assert done.delete == ()  # cleanPodPolicy Running: nothing is still running
    assert done.events == (Event("Normal", "Succeeded", "all 2 workers succeeded; accuracy 0.9375"),)
    assert w.status() == {
        "restarts": 0,
        "startTime": "2026-03-01T12:00:00Z",
        "conditions": [
            {
                "type": "Created",
                "status": "True",
                "reason": "PodsCreated",
                "message": "worker pods of generation 0 created",
                "lastTransitionTime": "2026-03-01T12:00:00Z",
            },
            {
                "type": "Running",
                "status": "False",
                "reason": "Succeeded",
                "message": "all 2 workers succeeded; accuracy 0.9375",
                "lastTransitionTime": "2026-03-01T12:01:05Z",
            },
            {
                "type": "Succeeded",
                "status": "True",
                "reason": "AllWorkersSucceeded",
                "message": "all 2 workers succeeded; accuracy 0.9375",
                "lastTransitionTime": "2026-03-01T12:01:05Z",
            },
        ],
        "workers": {"active": 0, "ready": 0, "succeeded": 2, "failed": 0},
        "workersReady": "0/2",
        "phase": "Succeeded",
        "message": "all 2 workers succeeded; accuracy 0.9375",
        "observedGeneration": 1,
        "progress": {"epoch": 3, "totalEpochs": 3, "loss": 0.4321},
        "result": {"accuracy": 0.9375, "checkpoint": "/mnt/output/c.ckpt", "finalLoss": 0.25},
        "completionTime": "2026-03-01T12:01:05Z",
    }
    assert w.settle().requeue_after is None
    assert w.reasons() == ["PodsCreated", "Running", "Succeeded"]


def test_retryable_failure_restarts_the_whole_job() -> None:
    w = World(spec())
    w.step()
    w.run(0, 1)
    w.step()
    running_since = next(c for c in w.status()["conditions"] if c["type"] == "Running")["lastTransitionTime"]
    w.advance(30)
    w.exit(1, 137)
    restart = w.step()
    assert set(restart.delete) == {
        ObjectRef("v1", "Pod", "flowers-worker-0"),
        ObjectRef("v1", "Pod", "flowers-worker-1"),
    }
    assert restart.events == (
        Event(
            "Warning",
            "Restarting",
            "flowers-worker-1: container trainer exited 137 (signal 9); restart 1 of 3",
        ),
    )
    assert (w.status()["phase"], w.status()["restarts"]) == ("Restarting", 1)
    assert w.conditions()["Restarting"] == ("True", "ExitCode")
    assert w.conditions()["Running"] == ("False", "Restarting")

    waiting = w.step()  # old pods still terminating: same names, so nothing may be created yet
    assert (waiting.create, waiting.delete) == ((), ())
    w.finish_deletions()
    recreate = w.step()
    assert [o["metadata"]["labels"]["finetune.mindspore.io/generation"] for o in recreate.create] == [
        "1",
        "1",
    ]
    assert w.pod_names() == ["flowers-worker-0", "flowers-worker-1"]
    assert w.status()["phase"] == "Restarting"
    w.run(0, 1)
    w.step()
    assert (w.status()["phase"], w.status()["restarts"]) == ("Running", 1)
    assert w.conditions()["Restarting"] == ("False", "Recovered")
    rerun = next(c for c in w.status()["conditions"] if c["type"] == "Running")["lastTransitionTime"]
    assert rerun != running_since
    assert w.reasons() == ["PodsCreated", "Running", "Restarting", "PodsCreated", "Running"]


def test_backoff_limit_exhausted_fails_and_cleans_running_pods() -> None:
    w = World(spec(runPolicy={"backoffLimit": 1}))
    w.step()
    w.run(0, 1)
    w.step()
    w.exit(0, 143)
    w.step()
    w.finish_deletions()
    w.step()
    w.run(0, 1)
    w.step()
    w.exit(1, 0, reason="OOMKilled")
    w.pod(1)["status"]["phase"] = "Failed"
    w.pod(1)["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] = 137
    failed = w.step()
    assert w.status()["phase"] == "Failed"
    assert w.conditions()["Failed"] == ("True", "BackoffLimitExceeded")
    assert failed.delete == (ObjectRef("v1", "Pod", "flowers-worker-0"),)  # the running one; failed pod kept
    assert failed.events[-1].reason == "BackoffLimitExceeded"
    assert "OOMKilled; backoffLimit (1) reached after 1 restarts" in failed.events[-1].message
    assert w.status()["restarts"] == 1


def test_trainer_error_fails_at_once_with_the_termination_message() -> None:
    w = World(spec())
    w.step()
    w.run(0, 1)
    w.step()
    w.exit(0, 1, message="error: dataset_path: /data has no class folders")
    failed = w.step()
    assert w.status()["phase"] == "Failed"
    message = "flowers-worker-0: container trainer exited 1: error: dataset_path: /data has no class folders"
    assert w.conditions()["Failed"] == ("True", "TrainerError")
    assert w.status()["message"] == message
    assert failed.events == (Event("Warning", "TrainerError", message),)
    assert failed.delete == (ObjectRef("v1", "Pod", "flowers-worker-1"),)
    assert w.status()["restarts"] == 0


def test_earliest_failure_decides() -> None:
    w = World(spec())
    w.step()
    w.run(0, 1)
    w.step()
    w.exit(0, 1, message="error: lost connection to peer", at=20)
    w.exit(1, 137, at=10)  # killed first; rank 0's error is a consequence
    w.step()
    assert (w.status()["phase"], w.status()["restarts"]) == ("Restarting", 1)


def test_pod_disappearing_while_running_restarts() -> None:
    w = World(spec())
    w.step()
    w.run(0, 1)
    w.step()
    del w.objects[("Pod", "flowers-worker-1")]
    p = w.step()
    assert p.events[0].message == "flowers-worker-1: pod disappeared; restart 1 of 3"
    assert p.delete == (ObjectRef("v1", "Pod", "flowers-worker-0"),)


def test_active_deadline() -> None:
    w = World(spec(runPolicy={"activeDeadlineSeconds": 100}))
    assert w.step().requeue_after == 100.0
    w.run(0, 1)
    w.advance(40)
    assert w.step().requeue_after == 10.0  # progress polling comes sooner than the deadline
    w.advance(59)
    w.step()
    assert w.status()["phase"] == "Running"
    w.advance(1)
    p = w.step()
    assert w.conditions()["Failed"] == ("True", "DeadlineExceeded")
    assert p.events == (
        Event("Warning", "DeadlineExceeded", "the job ran longer than activeDeadlineSeconds (100 s)"),
    )
    assert len(p.delete) == 2


def test_suspend_and_resume() -> None:
    w = World(spec())
    w.step()
    w.run(0, 1)
    w.step()
    w.job["spec"]["runPolicy"] = {"suspend": True}
    p = w.step()
    assert len(p.delete) == 2 and p.create == ()
    assert (w.status()["phase"], w.conditions()["Suspended"]) == ("Suspended", ("True", "Suspended"))
    assert p.status is not None and p.status["startTime"] is None  # removed by the merge patch
    assert "startTime" not in w.status()
    assert w.step().events == ()
    w.job["spec"]["runPolicy"] = {"suspend": False}
    resumed = w.step()
    assert resumed.events == (Event("Normal", "Resumed", "job resumed; creating worker pods"),)
    assert resumed.create == ()  # the suspended pods are still terminating
    w.finish_deletions()
    again = w.step()
    assert len(again.create) == 2
    assert w.conditions()["Suspended"] == ("False", "Resumed")
    assert w.status()["restarts"] == 0


def test_job_created_suspended_creates_no_pods() -> None:
    w = World(spec(runPolicy={"suspend": True}))
    p = w.step()
    assert [o["kind"] for o in p.create] == ["Service"]
    assert w.status()["phase"] == "Suspended"


def test_clean_pod_policy_all_and_none() -> None:
    w = World(spec(runPolicy={"cleanPodPolicy": "All"}))
    w.step()
    w.exit(0, 0, message=SUMMARY)
    w.exit(1, 0)
    assert len(w.step().delete) == 2
    w = World(spec(runPolicy={"cleanPodPolicy": "None"}))
    w.step()
    w.run(1)
    w.exit(0, 1, message="error: bad")
    assert w.step().delete == ()
    assert w.status()["phase"] == "Failed"


def test_ttl_deletes_the_job() -> None:
    w = World(spec(runPolicy={"ttlSecondsAfterFinished": 30}))
    w.step()
    w.exit(0, 0, message=SUMMARY)
    w.exit(1, 0)
    assert w.step().requeue_after == 30.0
    w.finish_deletions()
    w.advance(20)
    assert w.step().requeue_after == 10.0
    w.advance(10)
    assert w.step().delete_job


def test_invalid_spec_fails_without_creating_and_warns_once() -> None:
    w = World(spec(workers=0))
    p = w.step()
    assert p.create == () and p.delete == ()
    assert p.events == (Event("Warning", "InvalidSpec", "spec.workers: must be at least 1, not 0"),)
    assert w.conditions()["Failed"] == ("True", "InvalidSpec")
    assert w.status()["phase"] == "Failed"
    again = w.step()
    assert (again.status, again.events) == (None, ())
    w.job["spec"]["workers"] = 1  # fixing the spec (where the cluster allows it) recovers
    fixed = w.step()
    assert len(fixed.create) == 2 and w.conditions()["Failed"] == ("False", "SpecCorrected")


def test_ascend_rank_table_flow() -> None:
    w = World(
        {"platform": "Ascend", "image": "i", "workers": 2, "devicesPerWorker": 8, "dataset": {"path": "/d"}}
    )
    p = w.step()
    assert [o["kind"] for o in p.create] == ["Service", "ConfigMap", "Pod", "Pod"]
    cm = w.objects[("ConfigMap", "rings-config-flowers")]
    assert json.loads(cm["data"]["hccl.json"]) == {"status": "initializing"}
    assert w.conditions()["RankTableReady"] == ("False", "WaitingForDevices")
    w.settle()
    for i in range(2):
        info: dict[str, Any] = {"pod_name": f"flowers-worker-{i}", "server_id": f"10.0.0.{i}", "devices": []}
        info["devices"] = [{"device_id": str(d), "device_ip": f"192.168.{d}.{i}"} for d in range(8)]
        w.pod(i)["metadata"]["annotations"]["ascend.kubectl.kubernetes.io/ascend-910-configuration"] = (
            json.dumps(info)
        )
        w.pod(i)["status"] = {"phase": "Pending", "podIP": f"10.244.0.{i}"}
    ready = w.step()
    assert len(ready.update) == 1 and ready.update[0]["metadata"] == {
        "name": "rings-config-flowers",
        "namespace": "ml",
    }
    table = json.loads(cm["data"]["hccl.json"])
    assert table["status"] == "completed" and table["server_list"][1]["device"][7]["rank_id"] == "15"
    assert ready.events == (Event("Normal", "RankTableReady", "hccl.json completed for 16 devices"),)
    assert w.status()["rankTableVersion"] == cm["data"]["version"]
    w.settle()
    completed_version = cm["data"]["version"]
    w.run(0, 1)
    w.step()
    w.exit(1, 137)
    w.step()  # restart: the table goes back to initializing at once
    assert json.loads(cm["data"]["hccl.json"]) == {"status": "initializing"}
    assert cm["data"]["version"] != completed_version


def test_volcano_podgroup_and_deleted_job() -> None:
    w = World(spec(scheduling={"gang": "volcano", "queue": "q"}))
    p = w.step()
    assert [o["kind"] for o in p.create] == ["Service", "PodGroup", "Pod", "Pod"]
    assert w.settle().create == ()
    w.job["metadata"]["deletionTimestamp"] = "2026-03-01T12:00:00Z"
    assert plan(w.observe()) == Plan()


def test_foreign_generation_pods_are_replaced() -> None:
    """An operator restart that finds pods of an older generation deletes them before creating new ones."""
    w = World(spec())
    w.step()
    w.job["status"]["restarts"] = 1
    p = w.step()
    assert len(p.delete) == 2 and p.create == ()
    w.finish_deletions()
    again = w.step()
    assert [o["metadata"]["labels"]["finetune.mindspore.io/generation"] for o in again.create] == ["1", "1"]


def test_plan_needs_only_the_observed_contract() -> None:
    observed = Observed({"metadata": {"name": "x"}, "spec": {}}, [], [], [], [], None, T0)
    result = plan(observed)
    assert result.create == () and result.status is not None and result.status["phase"] == "Failed"


def test_pending_message_says_why_pods_wait() -> None:
    w = World(spec())
    w.step()
    w.pod(1)["status"] = {
        "phase": "Pending",
        "conditions": [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 Insufficient cpu.",
            }
        ],
    }
    w.step()
    assert w.status()["message"] == (
        "0/2 workers ready; flowers-worker-1: Unschedulable: 0/3 nodes are available: 3 Insufficient cpu."
    )
    w.pod(1)["status"] = {
        "phase": "Pending",
        "containerStatuses": [{"name": "trainer", "state": {"waiting": {"reason": "ImagePullBackOff"}}}],
    }
    w.step()
    assert w.status()["message"] == "0/2 workers ready; flowers-worker-1: ImagePullBackOff"
