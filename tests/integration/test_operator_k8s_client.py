"""k8s.py against the embedded API over HTTP: create answers, idempotent delete, optional kinds, status."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import kopf
import pytest
from kopf._cogs.clients import auth
from kopf._cogs.structs import credentials
from operator_fixtures import NS, Api, job_manifest, wait_for

from mnft_operator.k8s import KubeClient
from mnft_operator.types import CreateResult, Event, ObjectRef


@pytest.fixture
async def client(operator_api: Api) -> AsyncIterator[KubeClient]:
    """A KubeClient with kopf's credentials vault set up the way a running operator has it."""
    vault = credentials.Vault()
    await vault.populate({"test": kopf.ConnectionInfo(server=operator_api.url, insecure=True)})
    token = auth.vault_var.set(vault)
    settings = kopf.OperatorSettings()
    settings.networking.error_backoffs = [0.1]
    try:
        yield KubeClient(settings, logging.getLogger("test"), parallelism=4)
    finally:
        await vault.close()
        auth.vault_var.reset(token)


def configmap(name: str, job: str, data: dict[str, str]) -> dict[str, object]:
    labels = {"finetune.mindspore.io/job-name": job, "app.kubernetes.io/managed-by": "mnft-operator"}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels},
        "data": data,
    }


async def test_create_answers_and_delete_tolerates_absence(operator_api: Api, client: KubeClient) -> None:
    obj = configmap("rings-config-j", "j", {"hccl.json": '{"status":"initializing"}'})
    assert await client.create(NS, obj) == CreateResult("ConfigMap", "rings-config-j", 201)
    again = await client.create(NS, obj)  # 409: the answer carries who holds the name, for settle()
    assert (again.code, again.reason) == (409, "AlreadyExists")
    assert again.existing is not None and again.existing["name"] == "rings-config-j"
    assert again.existing["uid"] == operator_api.configmaps("j")[0]["metadata"]["uid"]
    assert [c["metadata"]["name"] for c in await client.list_labelled("v1", "ConfigMap", NS, "j")] == [
        "rings-config-j"
    ]
    assert await client.list_labelled("v1", "ConfigMap", NS, "other") == []

    await client.update(NS, configmap("rings-config-j", "j", {"hccl.json": "{}"}))
    assert operator_api.configmaps("j")[0]["data"] == {"hccl.json": "{}"}
    await client.update(NS, configmap("vanished", "j", {}))  # 404: skipped, the next reconcile sees it

    await client.delete(NS, ObjectRef("v1", "ConfigMap", "rings-config-j"))
    await client.delete(NS, ObjectRef("v1", "ConfigMap", "rings-config-j"))  # 404: success
    assert operator_api.configmaps("j") == []


async def test_absent_kinds_logs_and_jobs_read_as_nothing(operator_api: Api, client: KubeClient) -> None:
    children = await client.list_children(NS, "j")  # Volcano's PodGroup is not served here
    assert (children.pods, children.services, children.configmaps, children.podgroups) == ([], [], [], [])
    assert await client.read_log_tail(NS, "no-such-pod") is None
    assert await client.get_job(NS, "no-such-job") is None
    bad = await client.create(
        NS, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bad"}, "spec": {}}
    )
    assert (bad.code, bad.reason, bad.existing) == (422, "Invalid", None)
    assert "spec.containers: Required value" in bad.message
    assert await client.get_node("no-such-node") is None


async def test_status_patch_only_on_change_and_events_name_the_job(
    operator_api: Api, client: KubeClient
) -> None:
    operator_api.create_job(job_manifest("s", workers=1))
    job = await client.get_job(NS, "s")
    assert job is not None
    status = {"phase": "Pending", "workers": {"active": 1}}
    assert await client.patch_status(job, status) is True
    job = await client.get_job(NS, "s")
    assert job is not None and job["status"] == status
    before = client.requests
    assert await client.patch_status(job, status) is False  # nothing changed: no request
    assert client.requests == before
    assert await client.patch_status(job, {"phase": "Running"}) is True
    assert operator_api.status("s") == {"phase": "Running"}  # removed keys are removed

    await client.post_event(
        job, Event("Normal", "PodsCreated", "created 1 worker pod"), datetime.now(timezone.utc)
    )
    event = wait_for("the event", lambda: operator_api.events("s"))[0]
    assert (event["type"], event["reason"], event["message"]) == (
        "Normal",
        "PodsCreated",
        "created 1 worker pod",
    )
    assert event["involvedObject"]["uid"] == job["metadata"]["uid"]
