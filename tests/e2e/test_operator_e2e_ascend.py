"""An Ascend job (2 workers x 8 NPUs) on the local kubelet with simulated device-plugin annotations: the
operator completes the rank table and `mnft launch` in each pod (dry run) gives every process the right
RANK_ID and DEVICE_ID. No NPU, no HCCL."""

from __future__ import annotations

import json
from pathlib import Path

from kubernetes import client as k8s
from local_e2e_helpers import JobWatch, job_manifest

WORKERS, DEVICES = 2, 8


def _dry_run_lines(watch: JobWatch, worker: int) -> list[dict]:
    prefix = f"[worker-{worker}] "
    return [json.loads(line[len(prefix) :]) for line in watch.lines if line.startswith(prefix + "{")]


def test_rank_table_completes_and_launch_assigns_rank_and_device_ids(tmp_path: Path, local_cluster):
    (tmp_path / "datasets" / "digits").mkdir(parents=True)
    cluster = local_cluster(
        {"data": tmp_path / "datasets", "out": tmp_path / "out"}, simulate_ascend_devices=True
    )
    job = job_manifest(
        "e2e-npu",
        "digits",
        workers=WORKERS,
        platform="Ascend",
        devicesPerWorker=DEVICES,
        env=[{"name": "MNFT_LAUNCH_DRY_RUN", "value": "1"}],
    )
    cluster.create_job(job)
    watch = JobWatch(cluster, "e2e-npu")
    watch.wait(
        lambda w: all(len(_dry_run_lines(w, i)) == DEVICES for i in range(WORKERS)),
        120,
        "every pod's launch dry run",
    )

    configmap = k8s.CoreV1Api(cluster.client).read_namespaced_config_map("rings-config-e2e-npu", "default")
    assert configmap.data is not None
    table = json.loads(configmap.data["hccl.json"])
    assert table["status"] == "completed"
    assert table["server_count"] == str(WORKERS)
    pods = {pod["metadata"]["name"]: pod for pod in cluster.pods("e2e-npu")}
    for worker in range(WORKERS):
        server = table["server_list"][worker]
        annotation = json.loads(
            pods[f"e2e-npu-worker-{worker}"]["metadata"]["annotations"][
                "ascend.kubectl.kubernetes.io/ascend-910-configuration"
            ]
        )
        assert server["server_id"] == annotation["server_id"]
        # The simulated plugin writes no host_ip (like older MindX plugins): the node's IP stands in.
        assert server["host_ip"] == pods[f"e2e-npu-worker-{worker}"]["status"]["hostIP"]
        assert [d["device_id"] for d in server["device"]] == [d["device_id"] for d in annotation["devices"]]
        processes = sorted(_dry_run_lines(watch, worker), key=lambda line: line["rank"])
        assert [p["rank"] for p in processes] == list(range(worker * DEVICES, (worker + 1) * DEVICES))
        for local, (process, device) in enumerate(zip(processes, server["device"], strict=True)):
            env = process["env"]
            assert env["RANK_ID"] == device["rank_id"] == str(worker * DEVICES + local)
            # The container's logical chip: the table's physical device_id, renumbered from 0.
            assert env["DEVICE_ID"] == env["ASCEND_DEVICE_ID"] == str(local)
            assert env["RANK_SIZE"] == str(WORKERS * DEVICES)
            # The table the process is pointed at is the completed one (the kubelet's copy of the ConfigMap).
            assert json.loads(Path(env["RANK_TABLE_FILE"]).read_text())["status"] == "completed"
