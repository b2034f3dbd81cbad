"""plan() and settle() under faults: refused creates, foreign objects, lost nodes, vanished pods, emptyDir."""

from __future__ import annotations

import json
from typing import Any

import pytest
from reconcile_world import World

from mnft_operator import create_results
from mnft_operator.planner import create_backoff
from mnft_operator.types import CreateResult, Event, ObjectRef

PVC = {"path": "out", "volume": {"persistentVolumeClaim": {"claimName": "checkpoints"}}}
QUOTA = (
    'pods "flowers-worker-1" is forbidden: exceeded quota: compute, requested: cpu=1, used: cpu=2, '
    "limited: cpu=2"
)


def spec(**changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "platform": "CPU",
        "image": "i",
        "workers": 2,
        "dataset": {"path": "/d"},
        "output": PVC,
    }
    out.update(json.loads(json.dumps(changes)))
    return out


def created(w: World) -> dict[str, Any]:
    return next(c for c in w.status()["conditions"] if c["type"] == "Created")


def test_backoff_doubles_from_5_s_to_at_most_120_s() -> None:
    assert [create_backoff(n) for n in range(1, 9)] == [5.0, 10.0, 20.0, 40.0, 80.0, 120.0, 120.0, 120.0]


@pytest.mark.parametrize(
    ("code", "reason", "message", "expected"),
    [
        (201, "", "", create_results.CREATED),
        (422, "Invalid", "Pod x is invalid", create_results.PERMANENT),
        (400, "BadRequest", "bad", create_results.PERMANENT),
        (
            403,
            "Forbidden",
            'pods "x" is forbidden: violates PodSecurity "restricted:latest": ...',
            "permanent",
        ),
        (403, "Forbidden", QUOTA, create_results.TRANSIENT),
        (500, "InternalError", "etcd", create_results.TRANSIENT),
        (429, "TooManyRequests", "slow down", create_results.TRANSIENT),
        (409, "AlreadyExists", "exists", create_results.CONFLICT),
    ],
)
def test_create_answers_are_classified(code: int, reason: str, message: str, expected: str) -> None:
    assert create_results.classify(CreateResult("Pod", "x", code, reason, message), "job-uid") == expected


def test_a_409_for_an_object_this_job_controls_is_created_and_any_other_is_a_conflict() -> None:
    ours = {"name": "x", "ownerReferences": [{"uid": "job-uid", "controller": True}]}
    theirs = {"name": "x", "ownerReferences": [{"uid": "job-uid", "controller": False}]}
    assert create_results.classify(CreateResult("Pod", "x", 409, existing=ours), "job-uid") == "created"
    assert create_results.classify(CreateResult("Pod", "x", 409, existing=theirs), "job-uid") == "conflict"
    assert create_results.classify(CreateResult("Pod", "x", 409), "job-uid") == "conflict"  # unreadable


def test_a_transient_refusal_is_reported_at_once_warned_once_and_retried_with_backoff() -> None:
    w = World(spec())
    w.refuse["flowers-worker-1"] = CreateResult("Pod", "flowers-worker-1", 403, "Forbidden", QUOTA)
    first = w.step()
    line = f"creating Pod ml/flowers-worker-1 failed: HTTP 403 Forbidden: {QUOTA}"
    assert first.events == (
        Event("Normal", "PodsCreated", "created 1 worker pods (generation 0)"),
        Event("Warning", "PodCreateFailed", line),
    )
    assert created(w) == {
        "type": "Created",
        "status": "False",
        "reason": "PodCreateFailed",
        "message": line,
        "lastTransitionTime": "2026-03-01T12:00:00Z",
        "lastProbeTime": "2026-03-01T12:00:00Z",
    }
    assert w.status()["failedCreateAttempts"] == 1
    assert w.status()["message"] == f"{line}; next attempt at 2026-03-01T12:00:05Z"
    assert first.requeue_after == 5.0

    w.advance(1)
    waiting = w.step()  # woken early (a pod event): no create before the backoff is over
    assert (waiting.create, waiting.events, waiting.requeue_after) == ((), (), 4.0)
    w.advance(4)
    again = w.step()
    assert [o["metadata"]["name"] for o in again.create] == [
        "flowers-worker-1"
    ]  # generation 0 not started yet
    assert again.events == ()  # the same error: no second Warning
    assert (w.status()["failedCreateAttempts"], again.requeue_after) == (2, 10.0)
    assert created(w)["lastProbeTime"] == "2026-03-01T12:00:05Z"

    del w.refuse["flowers-worker-1"]  # the quota cleared
    w.advance(10)
    done = w.step()
    assert done.events == (Event("Normal", "PodsCreated", "created 1 worker pods (generation 0)"),)
    assert (created(w)["status"], created(w)["reason"]) == ("True", "PodsCreated")
    assert "lastProbeTime" not in created(w) and "failedCreateAttempts" not in w.status()
    assert w.pod_names() == ["flowers-worker-0", "flowers-worker-1"]


def test_a_refusal_that_can_never_succeed_fails_the_job_and_removes_what_it_created() -> None:
    w = World(spec())
    message = (
        'Pod "flowers-worker-1" is invalid: spec.containers[0].resources.limits[cpu]: Invalid value: "x"'
    )
    w.refuse["flowers-worker-1"] = CreateResult("Pod", "flowers-worker-1", 422, "Invalid", message)
    p = w.step()
    line = f"creating Pod ml/flowers-worker-1 failed: HTTP 422 Invalid: {message}"
    assert w.conditions()["Failed"] == ("True", "PodCreateFailed")
    assert w.conditions()["Created"] == ("False", "PodCreateFailed")
    assert (w.status()["phase"], w.status()["message"]) == ("Failed", line)
    assert [e.reason for e in p.events] == ["PodsCreated", "PodCreateFailed"]
    assert p.delete == (ObjectRef("v1", "Pod", "flowers-worker-0"),)  # cleanPodPolicy Running
    assert w.settle().create == ()


def test_a_409_from_a_foreign_object_is_a_name_conflict_and_the_job_holds_no_pods() -> None:
    w = World(spec())
    w.objects[("Pod", "flowers-worker-0")] = {
        "kind": "Pod",
        "metadata": {"name": "flowers-worker-0", "uid": "x"},
    }
    p = w.step()
    line = "Pod ml/flowers-worker-0 already exists and this job does not control it (it has no controller)"
    assert created(w)["reason"] == "NameConflict" and created(w)["message"] == f"{line}; delete or rename it"
    assert p.events == (Event("Warning", "NameConflict", f"{line}; delete or rename it"),)
    assert p.delete == (ObjectRef("v1", "Pod", "flowers-worker-1"),)  # created this round, removed again
    assert ObjectRef("v1", "Pod", "flowers-worker-0") not in p.delete


def orphan(name: str, job: str = "flowers") -> dict[str, Any]:
    labels = {"finetune.mindspore.io/job-name": job, "app.kubernetes.io/managed-by": "mnft-operator"}
    return {"kind": "Pod", "metadata": {"name": name, "uid": f"old-{name}", "labels": labels}, "status": {}}


def test_labelled_objects_without_our_controller_reference_are_conflicts_never_touched() -> None:
    w = World(spec())
    w.objects[("Pod", "flowers-worker-1")] = orphan("flowers-worker-1")  # left by an orphaning delete
    w.objects[("Pod", "flowers-debug")] = orphan("flowers-debug")  # labelled, not at one of our names
    p = w.step()
    line = (
        "Pod ml/flowers-worker-1 is labelled for this job but not controlled by it (it has no controller); "
        "delete or rename it"
    )
    assert (p.create, p.delete) == ((), ())  # nothing created next to it, nothing adopted or deleted
    assert created(w)["reason"] == "NameConflict" and created(w)["message"] == line
    assert p.events == (Event("Warning", "NameConflict", line),)
    assert w.status()["message"] == f"blocked by a name conflict: {line}"
    assert w.step().events == ()  # the same conflict: one event

    del w.objects[("Pod", "flowers-worker-1")]
    freed = w.step()
    assert [o["metadata"]["name"] for o in freed.create] == [
        "flowers",
        "flowers-worker-0",
        "flowers-worker-1",
    ]
    assert ObjectRef("v1", "Pod", "flowers-debug") not in freed.delete


def test_a_pod_missing_from_a_created_generation_restarts_the_whole_job_even_while_pending() -> None:
    w = World(spec(runPolicy={"backoffLimit": 2}))
    w.step()
    assert w.conditions()["Created"] == ("True", "PodsCreated")
    w.run(0)
    w.step()
    del w.objects[("Pod", "flowers-worker-1")]  # deleted while Pending, the event missed
    p = w.step()
    assert p.create == () and p.delete == (ObjectRef("v1", "Pod", "flowers-worker-0"),)
    assert w.status()["restarts"] == 1
    assert w.conditions()["Restarting"] == ("True", "PodMissing")
    assert w.conditions()["Created"] == ("False", "Restarting")
    w.finish_deletions()
    again = w.step()
    assert [o["metadata"]["labels"]["finetune.mindspore.io/generation"] for o in again.create] == ["1", "1"]


def restarted_on_node(w: World, node: dict[str, Any] | None) -> None:
    """Both pods of generation 0 run on n1, worker 1 is killed; the restart deletes both at T0 + 10 s."""
    w.step()
    for i in (0, 1):
        w.pod(i)["spec"]["nodeName"] = "n1"
    w.run(0, 1)
    w.step()
    w.exit(1, 137)
    w.advance(10)
    assert len(w.step().delete) == 2
    w.nodes = {"n1": node}


NOT_READY = {"metadata": {"name": "n1"}, "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}


def test_pods_terminating_on_a_lost_node_are_force_deleted_after_the_bound() -> None:
    w = World(spec(runPolicy={"forceDeleteLostPodsAfterSeconds": 60}))
    restarted_on_node(w, NOT_READY)
    w.advance(59)
    waiting = w.step()
    assert waiting.force_delete == () and waiting.requeue_after == 1.0
    assert w.status()["message"] == (
        "waiting for 2 pods of a previous attempt to terminate; flowers-worker-0 is on node n1 (NotReady "
        "(Unknown)): force-deleting it at 2026-03-01T12:01:10Z; flowers-worker-1 is on node n1 (NotReady "
        "(Unknown)): force-deleting it at 2026-03-01T12:01:10Z"
    )
    w.advance(1)
    forced = w.step()
    assert forced.force_delete == (
        ObjectRef("v1", "Pod", "flowers-worker-0"),
        ObjectRef("v1", "Pod", "flowers-worker-1"),
    )
    assert [e.reason for e in forced.events] == ["ForceDeleted", "ForceDeleted"]
    assert forced.events[0].message == (
        "flowers-worker-0: force-deleted (gracePeriodSeconds 0): still terminating after its grace period "
        "on node n1, which is NotReady (Unknown)"
    )
    nxt = w.step()  # the old pods are gone: the restart proceeds
    assert [o["metadata"]["labels"]["finetune.mindspore.io/generation"] for o in nxt.create] == ["1", "1"]


@pytest.mark.parametrize(
    ("node", "forced"),
    [
        (None, True),  # the Node object is gone
        ({"spec": {"taints": [{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]}}, True),
        ({"status": {"conditions": [{"type": "Ready", "status": "True"}]}}, False),
    ],
)
def test_which_nodes_count_as_lost(node: dict[str, Any] | None, forced: bool) -> None:
    w = World(spec(runPolicy={"forceDeleteLostPodsAfterSeconds": 0}))
    restarted_on_node(w, node)
    assert bool(w.step().force_delete) is forced


def test_an_out_of_service_node_has_its_pods_force_deleted_at_once() -> None:
    w = World(spec(runPolicy={"forceDeleteLostPodsAfterSeconds": 600}))
    taint = {"key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown", "effect": "NoExecute"}
    restarted_on_node(w, {"spec": {"taints": [taint]}})
    assert len(w.step().force_delete) == 2


def test_an_emptydir_output_with_restarts_warns_once_that_checkpoints_are_lost() -> None:
    w = World(spec(output={"path": "out"}, runPolicy={"backoffLimit": 2}))
    first = w.step()
    message = (
        "spec.output.volume is not set, so it is an emptyDir: checkpoints are deleted with the pods, so a "
        "whole-job restart (backoffLimit 2) starts training from the first epoch; set spec.output.volume "
        "to a persistentVolumeClaim to resume from the newest checkpoint"
    )
    assert first.events[0] == Event("Warning", "CheckpointsEphemeral", message)
    assert w.conditions()["CheckpointsEphemeral"] == ("True", "EmptyDirOutput")
    assert "CheckpointsEphemeral" not in [e.reason for e in w.step().events]
    for quiet in (spec(output={"path": "out"}, runPolicy={"backoffLimit": 0}), spec()):
        other = World(quiet)
        other.step()
        assert "CheckpointsEphemeral" not in other.conditions()
