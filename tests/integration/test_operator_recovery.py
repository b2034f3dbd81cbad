"""Recovery through the real operator: lost nodes, deleted children, whole-job restarts, finished jobs.

No kubelet runs: the test binds pods to a Node object it created, sets their status, and marks the node
NotReady by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from operator_fixtures import NS, Api, Operator, job_manifest, run_operator, wait_for


def generations(api: Api, job: str) -> list[str]:
    return [p["metadata"]["labels"]["finetune.mindspore.io/generation"] for p in api.live_pods(job)]


def make_node(api: Api, name: str) -> None:
    api.core.create_node(cast(Any, {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}}))
    ready = {"type": "Ready", "status": "True", "reason": "KubeletReady", "lastHeartbeatTime": None}
    api.core.patch_node_status(name, {"status": {"conditions": [ready]}})


def bind(api: Api, pod: str, node: str) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": pod},
        "target": {"kind": "Node", "name": node},
    }
    api.core.create_namespaced_pod_binding(pod, NS, cast(Any, body), _preload_content=False)


def test_pods_stuck_terminating_on_a_lost_node_are_force_deleted_and_the_restart_proceeds(
    operator_api: Api, operator: Operator
) -> None:
    api = operator_api
    make_node(api, "n1")
    api.create_job(
        job_manifest("lost", workers=2, runPolicy={"backoffLimit": 2, "forceDeleteLostPodsAfterSeconds": 0})
    )
    wait_for("2 pods", lambda: len(api.pods("lost")) == 2)
    for pod in ("lost-worker-0", "lost-worker-1"):
        bind(api, pod, "n1")
        api.set_running(pod)
    wait_for("Running", lambda: api.status("lost").get("phase") == "Running")

    # The node stops answering; its pods are evicted (graceful deletion) and no kubelet will finish them.
    api.core.patch_node_status("n1", {"status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}})
    for pod in ("lost-worker-0", "lost-worker-1"):
        api.core.delete_namespaced_pod(pod, NS, grace_period_seconds=1)
    wait_for("restarts 1", lambda: api.status("lost").get("restarts") == 1)
    wait_for("generation 1 pods", lambda: generations(api, "lost") == ["1", "1"])
    forced = [e for e in api.events("lost") if e["reason"] == "ForceDeleted"]
    assert len(forced) == 2 and all(e["type"] == "Warning" for e in forced)
    assert "on node n1, which is NotReady (Unknown)" in forced[0]["message"]


def test_a_healthy_nodes_terminating_pods_are_left_to_its_kubelet(
    operator_api: Api, operator: Operator
) -> None:
    api = operator_api
    make_node(api, "n2")
    api.create_job(
        job_manifest("slow", workers=1, runPolicy={"backoffLimit": 2, "forceDeleteLostPodsAfterSeconds": 0})
    )
    wait_for("the pod", lambda: len(api.pods("slow")) == 1)
    bind(api, "slow-worker-0", "n2")
    api.set_running("slow-worker-0")
    wait_for("Running", lambda: api.status("slow").get("phase") == "Running")
    api.core.delete_namespaced_pod("slow-worker-0", NS, grace_period_seconds=1)
    message = wait_for(
        "waiting for the old pod",
        lambda: (m := api.status("slow").get("message", "")) and "previous attempt" in m and m,
    )
    assert "force" not in message
    assert "ForceDeleted" not in api.event_reasons("slow")
    assert [p["metadata"]["name"] for p in api.pods("slow")] == ["slow-worker-0"]  # still terminating


@pytest.fixture
def quiet_operator(operator_api: Api) -> Iterator[Operator]:
    """The operator with a 300 s resync, so only watch events can explain a quick reaction."""
    yield from run_operator(operator_api, progress_seconds=10.0, resync_seconds=300.0)


def test_a_deleted_service_or_configmap_is_recreated_at_once(
    operator_api: Api, quiet_operator: Operator
) -> None:
    api = operator_api
    api.create_job(job_manifest("kept", platform="Ascend", workers=1, devices=8))
    service = wait_for("the Service", lambda: api.services("kept"))[0]["metadata"]["uid"]
    configmap = wait_for("the ConfigMap", lambda: api.configmaps("kept"))[0]["metadata"]["uid"]
    wait_for("the pod", lambda: api.pods("kept"))  # pods stay Pending: no progress polling wakes the job

    api.core.delete_namespaced_service("kept", NS)
    wait_for("a new Service", lambda: [s for s in api.services("kept") if s["metadata"]["uid"] != service])
    api.core.delete_namespaced_config_map("rings-config-kept", NS)
    wait_for(
        "a new ConfigMap", lambda: [c for c in api.configmaps("kept") if c["metadata"]["uid"] != configmap]
    )


def test_a_pod_deleted_while_pending_restarts_the_whole_job(operator_api: Api, operator: Operator) -> None:
    api = operator_api
    api.create_job(job_manifest("half", workers=2, runPolicy={"backoffLimit": 2}))
    wait_for("2 pods", lambda: len(api.pods("half")) == 2)
    api.set_running("half-worker-0")  # worker 1 still Pending: the job is Pending
    wait_for("1/2 ready", lambda: api.status("half").get("workersReady") == "1/2")
    api.core.delete_namespaced_pod("half-worker-1", NS)  # unbound: gone at once
    wait_for("restarts 1", lambda: api.status("half").get("restarts") == 1)
    wait_for("generation 1 pods", lambda: generations(api, "half") == ["1", "1"])
    restarting = api.condition("half", "Restarting")
    assert restarting is not None and restarting["reason"] == "PodMissing"


def test_a_pod_deleted_while_the_operator_was_down_restarts_the_whole_job(
    operator_api: Api, operator: Operator
) -> None:
    api = operator_api
    api.create_job(job_manifest("gap", workers=2, runPolicy={"backoffLimit": 2}))
    wait_for("2 pods", lambda: len(api.pods("gap")) == 2)
    wait_for("Created=True", lambda: (api.condition("gap", "Created") or {}).get("status") == "True")
    operator.stop()  # a watch outage: nobody sees the deletion
    api.set_running("gap-worker-0")
    api.core.delete_namespaced_pod("gap-worker-1", NS)
    operator.start()
    wait_for("restarts 1", lambda: api.status("gap").get("restarts") == 1)
    wait_for("generation 1 pods", lambda: generations(api, "gap") == ["1", "1"])


def finalizers(api: Api, job: str) -> list[str]:
    return list(((api.job(job) or {}).get("metadata") or {}).get("finalizers") or [])


def finish(api: Api, job: str, workers: int) -> None:
    wait_for("pods", lambda: len(api.pods(job)) == workers)
    for i in range(workers):
        api.set_running(f"{job}-worker-{i}")
    summary = '{"epochs": 2, "final_loss": 0.5, "accuracy": 0.75, "checkpoint": "/mnt/output/c.ckpt"}'
    for i in range(workers):
        api.set_terminated(f"{job}-worker-{i}", 0, message=summary)
    wait_for("Succeeded", lambda: api.status(job).get("phase") == "Succeeded")


def test_a_finished_job_has_no_finalizer_and_deletes_with_the_operator_stopped(
    operator_api: Api, operator: Operator
) -> None:
    api = operator_api
    api.create_job(job_manifest("done", workers=2))
    wait_for("the operator's finalizer", lambda: finalizers(api, "done"))
    finish(api, "done", 2)
    wait_for("no finalizer", lambda: finalizers(api, "done") == [])
    operator.stop()
    api.delete_job("done")
    assert api.job("done") is None  # nothing waits for the stopped operator


def test_ttl_deletes_a_finished_job_without_a_finalizer(operator_api: Api, operator: Operator) -> None:
    api = operator_api
    api.create_job(job_manifest("brief", workers=1, runPolicy={"ttlSecondsAfterFinished": 1}))
    finish(api, "brief", 1)
    wait_for("no finalizer", lambda: api.job("brief") is None or finalizers(api, "brief") == [])
    wait_for("the job deleted by its TTL", lambda: api.job("brief") is None)


def test_an_emptydir_output_with_restarts_warns_that_checkpoints_are_lost(
    operator_api: Api, operator: Operator
) -> None:
    api = operator_api
    api.create_job(job_manifest("scratch", workers=1, runPolicy={"backoffLimit": 2}))
    pvc = {"path": "out", "volume": {"persistentVolumeClaim": {"claimName": "ckpt"}}}
    api.create_job(job_manifest("durable", workers=1, output=pvc))
    warned = wait_for("CheckpointsEphemeral", lambda: api.condition("scratch", "CheckpointsEphemeral"))
    assert (warned["status"], warned["reason"]) == ("True", "EmptyDirOutput")
    assert "set spec.output.volume to a persistentVolumeClaim" in warned["message"]
    event = wait_for(
        "the Warning event",
        lambda: [e for e in api.events("scratch") if e["reason"] == "CheckpointsEphemeral"],
    )
    assert event[0]["type"] == "Warning" and "backoffLimit 2" in event[0]["message"]
    wait_for("the durable job's pod", lambda: api.pods("durable"))
    assert api.condition("durable", "CheckpointsEphemeral") is None
