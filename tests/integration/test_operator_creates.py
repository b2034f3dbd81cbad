"""Refused creates through the real operator: the status says what the API said, and never claims success.

No kubelet runs; the embedded API really refuses the objects (403 from Pod Security Admission for a pod
the namespace forbids, 409 for a name held by a pod the job does not own).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from operator_fixtures import NS, Api, Operator, job_manifest, run_operator, wait_for


def reasons_of(api: Api, job: str, type_: str) -> list[str]:
    return [e["reason"] for e in api.events(job) if e["type"] == type_]


@pytest.fixture
def host_path_operator(operator_api: Api) -> Iterator[Operator]:
    """An operator started with --allow-host-path: the namespace's Pod Security level still applies."""
    yield from run_operator(operator_api, allow_host_path=True)


def test_a_pod_the_namespace_forbids_fails_the_job_with_the_apis_message(
    operator_api: Api, host_path_operator: Operator
) -> None:
    api = operator_api
    api.core.patch_namespace(
        NS, {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}
    )
    # The operator allows hostPath; Pod Security "restricted" does not: 403 on every attempt.
    output = {"path": "out", "volume": {"hostPath": {"path": "/tmp/mnft-out"}}}
    api.create_job(job_manifest("hostout", workers=2, output=output))
    failed = wait_for("Failed", lambda: api.condition("hostout", "Failed"))
    assert (failed["status"], failed["reason"]) == ("True", "PodCreateFailed")
    assert "creating Pod default/hostout-worker-0 failed: HTTP 403 Forbidden" in failed["message"]
    assert 'violates PodSecurity "restricted:latest"' in failed["message"]
    assert "hostPath volumes are forbidden" in failed["message"]
    created = api.condition("hostout", "Created")
    assert created is not None and (created["status"], created["reason"]) == ("False", "PodCreateFailed")
    assert api.status("hostout")["phase"] == "Failed"
    wait_for("the Warning event", lambda: "PodCreateFailed" in reasons_of(api, "hostout", "Warning"))
    assert reasons_of(api, "hostout", "Warning").count("PodCreateFailed") == 1
    assert "PodsCreated" not in api.event_reasons("hostout")
    assert api.pods("hostout") == []


def foreign_pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": {"app": "someone-else"}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1"}]},
    }


def test_a_foreign_pod_at_a_workers_name_is_a_conflict_never_adopted(
    operator_api: Api, operator: Operator
) -> None:
    api = operator_api
    created_pod = api.core.create_namespaced_pod(NS, cast(Any, foreign_pod("clash-worker-0")))
    assert created_pod.metadata is not None
    stranger = created_pod.metadata.uid
    api.create_job(job_manifest("clash", workers=2))
    created = wait_for(
        "Created=False/NameConflict",
        lambda: (c := api.condition("clash", "Created")) and c["reason"] == "NameConflict" and c,
    )
    assert created["status"] == "False"
    assert created["message"].startswith(
        "Pod default/clash-worker-0 already exists and this job does not control it (it has no controller)"
    )
    # Retries back off (5 s, 10 s, ...): wait for the second refused attempt; still one Warning event.
    wait_for("a second attempt", lambda: api.status("clash").get("failedCreateAttempts", 0) >= 2, timeout=30)
    assert reasons_of(api, "clash", "Warning").count("NameConflict") == 1
    assert "PodsCreated" not in api.event_reasons("clash")
    # Never adopted, never deleted; the job does not run half a generation next to it.
    pods = api.items("pods")
    assert [p["metadata"]["uid"] for p in pods if p["metadata"]["name"] == "clash-worker-0"] == [stranger]
    assert not [p for p in api.live_pods("clash") if p["metadata"]["name"] == "clash-worker-1"]
    assert api.status("clash")["phase"] == "Pending"

    api.core.delete_namespaced_pod("clash-worker-0", NS)  # the name is free: the job proceeds
    wait_for("both pods", lambda: len(api.live_pods("clash")) == 2, timeout=180)
    created = wait_for(
        "Created=True", lambda: (c := api.condition("clash", "Created")) and c["status"] == "True" and c
    )
    assert created["reason"] == "PodsCreated"
    assert "failedCreateAttempts" not in api.status("clash")
