"""Ownership through the real operator: a job's objects are those whose controller reference has its uid."""

from __future__ import annotations

from typing import Any

from operator_fixtures import GROUP, NS, PLURAL, VERSION, Api, Operator, job_manifest, wait_for


def test_a_job_recreated_after_an_orphaning_delete_does_not_take_over_the_old_pods(
    operator_api: Api, operator: Operator
) -> None:
    api = operator_api
    api.create_job(job_manifest("again", workers=2))
    wait_for("2 pods", lambda: len(api.pods("again")) == 2)
    for pod in ("again-worker-0", "again-worker-1"):
        api.set_running(pod)
    wait_for("Running", lambda: api.status("again").get("phase") == "Running")
    old_uid = api.job("again")["metadata"]["uid"]  # type: ignore[index]
    old = {p["metadata"]["name"]: p["metadata"]["uid"] for p in [*api.pods("again"), *api.services("again")]}

    api.custom.delete_namespaced_custom_object(
        GROUP, VERSION, NS, PLURAL, "again", propagation_policy="Orphan"
    )
    wait_for("the job gone", lambda: api.job("again") is None)
    orphans = api.pods("again")
    assert [p["metadata"].get("ownerReferences") for p in orphans] == [None, None]  # GC orphaned them

    api.create_job(job_manifest("again", workers=2, image="mnft-trainer:v2"))
    created = wait_for(
        "Created=False/NameConflict",
        lambda: (c := api.condition("again", "Created")) and c["reason"] == "NameConflict" and c,
    )
    assert api.job("again")["metadata"]["uid"] != old_uid  # type: ignore[index]
    assert created["status"] == "False"
    for name in ("again-worker-0", "again-worker-1"):
        assert f"Pod {NS}/{name} is labelled for this job but not controlled by it" in created["message"]
    assert f"Service {NS}/again is labelled for this job" in created["message"]
    new_uid = api.job("again")["metadata"]["uid"]  # type: ignore[index]
    warning = wait_for(
        "a NameConflict event",
        lambda: [e for e in events_of(api, "again", new_uid) if e["reason"] == "NameConflict"],
    )
    assert warning[0]["type"] == "Warning"
    # The old objects are left exactly as they were: not adopted, not deleted, no new pods next to them.
    now = {p["metadata"]["name"]: p["metadata"]["uid"] for p in [*api.pods("again"), *api.services("again")]}
    assert now == old
    assert all(p["spec"]["containers"][0]["image"] == "mnft-trainer:test" for p in api.pods("again"))
    status = api.status("again")
    assert status["phase"] == "Pending" and status.get("restarts", 0) == 0
    assert status["message"].startswith("blocked by a name conflict: Pod default/again-worker-0")
    assert "result" not in status
    assert "PodsCreated" not in [e["reason"] for e in events_of(api, "again", new_uid)]


def events_of(api: Api, job: str, uid: str) -> list[dict[str, Any]]:
    """Events about this incarnation of the job (the old one of the same name had its own)."""
    return [e for e in api.events(job) if e["involvedObject"].get("uid") == uid]
