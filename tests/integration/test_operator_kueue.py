"""A job queued through Kueue (kueue.x-k8s.io/queue-name): its pods are created gated and the job waits
for admission; the test removes the gates as Kueue would, and the job runs; a final failure marks the
pods retriable-in-group "false" so Kueue finishes the group."""

from __future__ import annotations

from operator_fixtures import Api, Operator, job_manifest, wait_for

GATE = "kueue.x-k8s.io/admission"


def reason(api: Api, name: str, type_: str) -> str | None:
    condition = api.condition(name, type_)
    return condition.get("reason") if condition else None


def test_kueue_job_waits_for_admission_then_runs(operator_api: Api, operator: Operator) -> None:
    api = operator_api
    manifest = job_manifest("queued", workers=2)
    manifest["metadata"]["labels"] = {"kueue.x-k8s.io/queue-name": "team-a"}
    api.create_job(manifest)

    pods = wait_for("2 gated worker pods", lambda: len(api.pods("queued")) == 2 and api.pods("queued"))
    job = api.job("queued")
    assert job is not None
    uid = job["metadata"]["uid"]
    for pod in pods:
        assert pod["spec"]["schedulingGates"] == [{"name": GATE}]
        assert pod["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-a"
        assert pod["metadata"]["labels"]["kueue.x-k8s.io/pod-group-name"] == f"queued-{uid[:8]}"
        assert pod["metadata"]["annotations"]["kueue.x-k8s.io/pod-group-total-count"] == "2"
    wait_for("WaitingForAdmission", lambda: reason(api, "queued", "Admitted") == "WaitingForAdmission")
    status = api.status("queued")
    assert status["phase"] == "Pending"
    assert "WaitingForAdmission: 2/2 worker pods are gated by kueue.x-k8s.io/admission" in status["message"]

    for pod in pods:  # Kueue admits the group: its pod reconciler removes the gate
        api.patch_pod(pod["metadata"]["name"], {"spec": {"schedulingGates": None}})
    wait_for("Admitted", lambda: reason(api, "queued", "Admitted") == "Admitted")
    assert "Admitted" in api.event_reasons("queued")
    for index, pod in enumerate(pods):
        api.set_running(pod["metadata"]["name"], ip=f"10.244.0.{index + 2}")
    wait_for("phase Running", lambda: api.status("queued").get("phase") == "Running")

    api.set_terminated("queued-worker-1", 2, message="bad dataset")  # a trainer error: no retry
    wait_for("phase Failed", lambda: api.status("queued").get("phase") == "Failed")

    def marked() -> list[str] | None:
        names = [
            p["metadata"]["name"]
            for p in api.pods("queued")
            if (p["metadata"].get("annotations") or {}).get("kueue.x-k8s.io/retriable-in-group") == "false"
        ]
        return names if names else None

    assert "queued-worker-1" in wait_for("a pod marked retriable-in-group false", marked)
    api.delete_job("queued")
    wait_for("the job to be gone", lambda: api.job("queued") is None)
