"""Ascend rank table through the real operator, and an operator restart in the middle of a job."""

from __future__ import annotations

import json

from operator_fixtures import Api, Operator, job_manifest, wait_for


def rank_table(api: Api, job: str) -> dict | None:
    for cm in api.configmaps(job):
        if cm["metadata"]["name"] == f"rings-config-{job}":
            return json.loads(cm["data"]["hccl.json"])
    return None


def test_ascend_rank_table_completes_when_devices_are_annotated(
    operator_api: Api, operator: Operator
) -> None:
    api = operator_api
    api.create_job(job_manifest("npu", platform="Ascend", workers=2, devices=8))
    wait_for("2 pods", lambda: len(api.pods("npu")) == 2)
    assert wait_for("the rank-table ConfigMap", lambda: rank_table(api, "npu")) == {"status": "initializing"}
    pod = api.pods("npu")[0]
    assert pod["spec"]["containers"][0]["resources"]["limits"]["huawei.com/Ascend910"] == "8"

    api.annotate_devices("npu-worker-0", 0, 8)
    api.annotate_devices("npu-worker-1", 1, 8)
    assert (rank_table(api, "npu") or {}).get("status") == "initializing"  # no pod IPs yet
    api.set_running("npu-worker-0", ip="10.244.1.5")
    api.set_running("npu-worker-1", ip="10.244.2.5")
    table = wait_for(
        "a completed rank table", lambda: (rank_table(api, "npu") or {}).get("status") == "completed"
    )
    table = rank_table(api, "npu")
    assert table is not None and table["server_count"] == "2"
    assert [s["server_id"] for s in table["server_list"]] == ["10.0.0.1", "10.0.0.2"]
    assert [s["container_ip"] for s in table["server_list"]] == ["10.244.1.5", "10.244.2.5"]
    ranks = [d["rank_id"] for s in table["server_list"] for d in s["device"]]
    assert ranks == [str(r) for r in range(16)]
    assert table["server_list"][1]["device"][3] == {
        "device_id": "3",
        "device_ip": "192.168.1.4",
        "rank_id": "11",
    }
    wait_for("RankTableReady", lambda: (api.condition("npu", "RankTableReady") or {}).get("status") == "True")
    wait_for(
        "hccl/rankIndex on the pods",
        lambda: (
            [p["metadata"].get("annotations", {}).get("hccl/rankIndex") for p in api.pods("npu")]
            == ["0", "1"]
        ),
    )


def test_operator_restart_mid_job_duplicates_nothing(operator_api: Api, operator: Operator) -> None:
    api = operator_api
    api.create_job(job_manifest("survivor", workers=3))
    wait_for("3 pods", lambda: len(api.pods("survivor")) == 3)
    for pod in api.pods("survivor"):
        api.set_running(pod["metadata"]["name"])
    wait_for("Running", lambda: api.status("survivor").get("phase") == "Running")
    before = {p["metadata"]["name"]: p["metadata"]["uid"] for p in api.pods("survivor")}
    events_before = len(api.events("survivor"))

    operator.stop()
    api.set_terminated("survivor-worker-2", 0)  # progress while no operator runs
    operator.start()

    wait_for(
        "the new operator to count the finished worker",
        lambda: api.status("survivor")["workers"]["succeeded"] == 1,
    )
    after = {p["metadata"]["name"]: p["metadata"]["uid"] for p in api.pods("survivor")}
    assert after == before  # same pods: nothing deleted, nothing duplicated
    assert len(api.services("survivor")) == 1
    assert api.status("survivor")["phase"] == "Running"
    assert len(api.events("survivor")) == events_before  # no transition, so no new event

    api.set_terminated("survivor-worker-1", 0)
    api.set_terminated("survivor-worker-0", 0, message=json.dumps({"epochs": 2, "accuracy": 0.5}))
    wait_for("Succeeded", lambda: api.status("survivor").get("phase") == "Succeeded")
    assert {p["metadata"]["name"]: p["metadata"]["uid"] for p in api.pods("survivor")} == before


def test_operator_stopped_while_creating_pods_completes_the_set_after_restart(
    operator_api: Api, operator: Operator
) -> None:
    api = operator_api
    workers = 120
    api.create_job(job_manifest("wide", workers=workers))
    wait_for("the first pods", lambda: api.pods("wide"))
    operator.stop()  # most likely in the middle of the creates
    stopped_with = len(api.pods("wide"))
    operator.start()
    pods = wait_for("every pod", lambda: (p := api.pods("wide")) and len(p) >= workers and p, timeout=30)
    names = sorted(p["metadata"]["name"] for p in pods)
    assert names == sorted(f"wide-worker-{i}" for i in range(workers)), f"stopped with {stopped_with} pods"
    wait_for("status counting every pod", lambda: api.status("wide")["workers"]["active"] == workers)
    assert len(api.pods("wide")) == workers
