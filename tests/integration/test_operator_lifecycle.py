"""The real operator against the embedded API: a job from create to Succeeded, then deletion."""

from __future__ import annotations

import contextlib
import json

from operator_fixtures import Api, Operator, job_manifest, run_operator, wait_for


def phase(api: Api, name: str) -> str | None:
    return api.status(name).get("phase")


def test_cpu_job_create_run_succeed_delete(operator_api: Api, operator: Operator) -> None:
    api = operator_api
    api.create_job(job_manifest("cpu", workers=2))

    pods = wait_for("2 worker pods", lambda: len(api.pods("cpu")) == 2 and api.pods("cpu"))
    assert [p["metadata"]["name"] for p in pods] == ["cpu-worker-0", "cpu-worker-1"]
    for index, pod in enumerate(pods):
        assert pod["metadata"]["labels"]["finetune.mindspore.io/replica-index"] == str(index)
        assert pod["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "mnft-operator"
        assert pod["metadata"]["ownerReferences"][0]["name"] == "cpu"
        assert pod["spec"]["subdomain"] == "cpu"
        env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
        assert env["MNFT_WORKER_INDEX"] == str(index)
        assert env["MS_SCHED_HOST"] == "cpu-worker-0.cpu.default.svc"
    services = wait_for("the headless service", lambda: api.services("cpu"))
    assert [s["metadata"]["name"] for s in services] == ["cpu"]
    assert services[0]["spec"]["clusterIP"] == "None"
    assert api.configmaps("cpu") == []  # no rank table on CPU
    wait_for("phase Pending", lambda: phase(api, "cpu") == "Pending")
    assert (api.condition("cpu", "Created") or {}).get("status") == "True"

    api.write_log(
        "cpu-worker-0", "[rank-0] epoch[1/2], iter[3] cost: 10.0 ms, per step time: 3.3 ms, avg loss: 0.75\n"
    )
    for index, pod in enumerate(pods):
        api.set_running(pod["metadata"]["name"], ip=f"10.244.0.{index + 2}")
    wait_for("phase Running", lambda: phase(api, "cpu") == "Running")
    progress = wait_for("progress from rank 0's log", lambda: api.status("cpu").get("progress"))
    assert progress["epoch"] == 1 and progress["totalEpochs"] == 2 and progress["loss"] == 0.75
    assert (api.condition("cpu", "Running") or {}).get("status") == "True"

    summary = {
        "epochs": 2,
        "final_loss": 0.5,
        "accuracy": 0.875,
        "checkpoint": "/out/ckpt_0/mobilenetv2_2.ckpt",
    }
    api.set_terminated("cpu-worker-1", 0)
    api.set_terminated("cpu-worker-0", 0, message=json.dumps(summary))
    wait_for("phase Succeeded", lambda: phase(api, "cpu") == "Succeeded")
    status = api.status("cpu")
    assert status["result"]["accuracy"] == 0.875
    assert status["result"]["checkpoint"] == "/out/ckpt_0/mobilenetv2_2.ckpt"
    assert status.get("completionTime")
    assert (api.condition("cpu", "Succeeded") or {}).get("status") == "True"
    reasons = wait_for(
        "a Succeeded event", lambda: "Succeeded" in api.event_reasons("cpu") and api.event_reasons("cpu")
    )
    assert all(e["involvedObject"]["kind"] == "MobileNetFineTune" for e in api.events("cpu"))
    assert len(reasons) == len(set(reasons)), f"an event was posted twice: {reasons}"
    assert len(api.pods("cpu")) == 2  # nothing recreated; cleanPodPolicy Running keeps finished pods

    api.delete_job("cpu")
    wait_for("the job to be gone", lambda: api.job("cpu") is None)
    wait_for("children garbage-collected", lambda: not api.pods("cpu") and not api.services("cpu"))


def test_delete_running_job_stops_its_daemon_and_removes_children(
    operator_api: Api, operator: Operator
) -> None:
    api = operator_api
    api.create_job(job_manifest("doomed", workers=1))
    wait_for("the pod", lambda: api.pods("doomed"))
    api.set_running("doomed-worker-0")
    wait_for("phase Running", lambda: phase(api, "doomed") == "Running")
    job = api.job("doomed")
    assert job is not None and job["metadata"].get("finalizers")  # held by the running daemon
    api.delete_job("doomed")
    wait_for("the job to be gone", lambda: api.job("doomed") is None)
    wait_for("children garbage-collected", lambda: not api.pods("doomed") and not api.services("doomed"))


def test_suspend_and_resume_wake_the_job_through_its_spec(operator_api: Api, operator: Operator) -> None:
    api = operator_api
    api.create_job(job_manifest("pause", workers=2))
    wait_for("2 pods", lambda: len(api.live_pods("pause")) == 2)
    api.patch_job("pause", {"spec": {"runPolicy": {"suspend": True}}})
    wait_for("Suspended", lambda: phase(api, "pause") == "Suspended")
    wait_for("pods removed", lambda: api.live_pods("pause") == [])
    api.patch_job("pause", {"spec": {"runPolicy": {"suspend": False}}})
    wait_for("pods again", lambda: len(api.live_pods("pause")) == 2)
    wait_for("Pending again", lambda: phase(api, "pause") == "Pending")


def test_active_deadline_fails_the_job_with_no_event_to_wake_it(operator_api: Api) -> None:
    api = operator_api
    # A resync far beyond the wait below: the pod stays Pending and nothing changes, so only plan()'s
    # requeue_after (the deadline, 2 s) can bring the operator back in time.
    with contextlib.contextmanager(run_operator)(api, progress_seconds=3600.0, resync_seconds=3600.0):
        api.create_job(job_manifest("slow", workers=1, runPolicy={"activeDeadlineSeconds": 2}))
        wait_for("the pod", lambda: api.pods("slow"))
        failed = wait_for("DeadlineExceeded", lambda: api.condition("slow", "Failed"), timeout=600)
        assert failed["status"] == "True" and failed["reason"] == "DeadlineExceeded"
        assert phase(api, "slow") == "Failed"
