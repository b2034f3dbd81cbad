"""Failure semantics through the real operator: whole-job restart, trainer error, invalid spec."""

from __future__ import annotations

from operator_fixtures import Api, Operator, job_manifest, wait_for


def uids(api: Api, job: str) -> set[str]:
    return {pod["metadata"]["uid"] for pod in api.live_pods(job)}


def test_retryable_failure_restarts_the_whole_job(operator_api: Api, operator: Operator) -> None:
    api = operator_api
    api.create_job(job_manifest("retry", workers=2, runPolicy={"backoffLimit": 2}))
    wait_for("2 pods", lambda: len(api.pods("retry")) == 2)
    first = uids(api, "retry")
    for pod in ("retry-worker-0", "retry-worker-1"):
        api.set_running(pod)
    wait_for("Running", lambda: api.status("retry").get("phase") == "Running")

    api.set_terminated("retry-worker-1", 137, reason="OOMKilled")
    wait_for("restarts 1", lambda: api.status("retry").get("restarts") == 1)
    # Every pod of the old generation is replaced, under the same names.
    wait_for("2 new pods", lambda: len(api.live_pods("retry")) == 2 and not (uids(api, "retry") & first))
    assert [p["metadata"]["name"] for p in api.live_pods("retry")] == ["retry-worker-0", "retry-worker-1"]
    assert "Restarting" in wait_for("a Restarting event", lambda: api.event_reasons("retry"))
    assert api.status("retry").get("phase") in ("Restarting", "Pending")
    failed = api.condition("retry", "Failed")
    assert failed is None or failed["status"] == "False"


def test_trainer_error_fails_the_job_with_its_message(operator_api: Api, operator: Operator) -> None:
    api = operator_api
    api.create_job(job_manifest("broken", workers=2))
    wait_for("2 pods", lambda: len(api.pods("broken")) == 2)
    for pod in ("broken-worker-0", "broken-worker-1"):
        api.set_running(pod)
    message = "error: dataset_path /data/data: no such directory"
    api.set_terminated("broken-worker-0", 1, message=message)
    wait_for("Failed", lambda: api.status("broken").get("phase") == "Failed")
    failed = api.condition("broken", "Failed")
    assert failed is not None and failed["status"] == "True"
    assert message in failed["message"]
    assert api.status("broken").get("restarts", 0) == 0
    warnings = wait_for(
        "a Warning event", lambda: [e for e in api.events("broken") if e["type"] == "Warning"]
    )
    assert any(message in e["message"] for e in warnings)
    # The job is never left Running while a worker has failed, and the failed pod is kept for its logs.
    assert "broken-worker-0" in [p["metadata"]["name"] for p in api.pods("broken")]


def test_invalid_spec_creates_nothing_and_says_why(
    operator_api_without_cel: Api, operator_without_cel: Operator
) -> None:
    api = operator_api_without_cel
    # Passes the OpenAPI schema; only the CEL rule (absent on this cluster) forbids it.
    api.create_job(job_manifest("bad", platform="Ascend", workers=2, devices=4))
    failed = wait_for("Failed/InvalidSpec", lambda: api.condition("bad", "Failed"))
    assert failed["status"] == "True" and failed["reason"] == "InvalidSpec"
    assert "devicesPerWorker" in failed["message"]
    assert api.status("bad")["phase"] == "Failed"
    warning = wait_for(
        "an InvalidSpec event", lambda: [e for e in api.events("bad") if e["reason"] == "InvalidSpec"]
    )
    assert warning[0]["type"] == "Warning" and "devicesPerWorker" in warning[0]["message"]
    assert api.pods("bad") == [] and api.services("bad") == [] and api.configmaps("bad") == []

    api.patch_job("bad", {"spec": {"devicesPerWorker": 8}})  # fixed: the same operator picks it up
    wait_for("pods of the fixed job", lambda: len(api.pods("bad")) == 2)
    wait_for("Failed cleared", lambda: (api.condition("bad", "Failed") or {}).get("status") != "True")
