"""The local kubelet against the embedded API over real HTTP, running real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from kubernetes import client as k8s
from kubernetes import watch as k8s_watch

from api_helpers import k8s_configuration, run_kubectl
from kube_emulator.apiserver.apiserver import EmbeddedAPI
from kube_emulator.kubelet.kubelet import LocalKubelet
from mnft_local.ascend_devices import AscendDevicePlugin

NS = "default"


class Bed:
    def __init__(self, api: Any, kubelet: LocalKubelet, state_dir: Path, kubeconfig: Path) -> None:
        self.api, self.kubelet, self.state_dir, self.kubeconfig = api, kubelet, state_dir, kubeconfig
        self.client = k8s.ApiClient(k8s_configuration(api))
        self.core = k8s.CoreV1Api(self.client)

    def create_pod(self, name: str, containers: list[dict[str, Any]], **spec: Any) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "labels": {"app": "t"}},
            "spec": {
                "restartPolicy": "Never",
                "terminationGracePeriodSeconds": 2,
                "containers": containers,
                **spec,
            },
        }
        self.core.create_namespaced_pod(NS, cast(Any, body))  # the client sends a dict as it is

    def pod(self, name: str) -> dict[str, Any] | None:
        try:
            obj = self.core.read_namespaced_pod(name, NS)
        except k8s.ApiException as exc:
            if exc.status == 404:
                return None
            raise
        result: dict[str, Any] = self.client.sanitize_for_serialization(obj)
        return result

    def wait_pod(
        self, name: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 120
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        pod = None
        while time.monotonic() < deadline:
            pod = self.pod(name)
            if pod is not None and predicate(pod):
                return pod
            time.sleep(0.05)
        raise AssertionError(f"pod {name} never matched; last seen: {json.dumps(pod, indent=1)[:3000]}")

    def wait_events(
        self, name: str, *reasons: str, timeout: float = 60
    ) -> list[tuple[str | None, str | None, str | None]]:
        """(type, reason, message) of the pod's events, once every reason in `reasons` is among them."""
        deadline = time.monotonic() + timeout
        while True:
            events = [
                (e.type, e.reason, e.message)
                for e in self.core.list_namespaced_event(NS).items
                if e.involved_object.name == name
            ]
            if set(reasons) <= {e[1] for e in events} or time.monotonic() > deadline:
                return events
            time.sleep(0.05)

    def wait_phase(self, name: str, *phases: str, timeout: float = 120) -> dict[str, Any]:
        return self.wait_pod(name, lambda p: p.get("status", {}).get("phase") in phases, timeout)


@pytest.fixture(scope="module")
def bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    root = tmp_path_factory.mktemp("kubelet")
    (root / "logs").mkdir()
    (root / "mounted").mkdir()
    api = EmbeddedAPI(log_dir=str(root / "logs"))
    api.start()
    kubelet = LocalKubelet(
        api_url=api.url,
        state_dir=root / "state",
        log_dir=root / "logs",
        mounts={"shared-claim": root / "mounted"},
        device_plugins=[AscendDevicePlugin()],
        token=api.token,
        ca_pem=api.ca_pem,
    )
    kubeconfig = root / "kubeconfig"
    try:
        kubelet.start()
        api.write_kubeconfig(str(kubeconfig))
        bed = Bed(api, kubelet, root, kubeconfig)
        yield bed
        bed.client.close()
    finally:
        kubelet.stop()
        api.stop()


def terminated(pod: dict[str, Any], index: int = 0, key: str = "containerStatuses") -> dict[str, Any]:
    state: dict[str, Any] = pod["status"][key][index]["state"]["terminated"]
    return state


def process_exists(pid: int) -> bool:
    """True while `pid` is a live process (a zombie awaiting its parent counts as gone)."""
    stat = subprocess.run(
        ["ps", "-p", str(pid), "-o", "stat="], capture_output=True, text=True
    ).stdout.strip()
    return stat not in ("", "Z") and not stat.startswith("Z")


def pid_of(pod: dict[str, Any]) -> int:
    return int(pod["status"]["containerStatuses"][0]["containerID"].removeprefix("mnft://"))


def test_node_is_registered(bed: Bed) -> None:
    node = bed.client.sanitize_for_serialization(bed.core.read_node("mnft-local"))
    assert {"type": "InternalIP", "address": "127.0.0.1"} in node["status"]["addresses"]
    assert [c["status"] for c in node["status"]["conditions"] if c["type"] == "Ready"] == ["True"]
    assert node["status"]["capacity"]["huawei.com/Ascend910"] == "8"


def test_env_pod_succeeds_with_message_and_logs(bed: Bed) -> None:
    bed.core.create_namespaced_config_map(
        NS, cast(Any, {"metadata": {"name": "env-settings"}, "data": {"lr": "0.05", "epochs": "3"}})
    )
    script = (
        'echo "POD=$MY_POD NS=$MY_NS IP=$MY_IP LABEL=$MY_LABEL LR=$LR IMAGE=$KUBE_EMULATOR_IMAGE"; '
        'printf "all good" > "$TERMINATION_MESSAGE_PATH"; echo to-stderr >&2'
    )
    bed.create_pod(
        "env-pod",
        [
            {
                "name": "main",
                "image": "busybox:1.36",
                "command": ["sh", "-c", script],
                "env": [
                    {"name": "TERMINATION_MESSAGE_PATH", "value": "/dev/termination-log"},
                    {"name": "MY_POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "MY_NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                    {"name": "MY_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                    {"name": "MY_LABEL", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
                    {"name": "LR", "valueFrom": {"configMapKeyRef": {"name": "env-settings", "key": "lr"}}},
                ],
            }
        ],
    )
    pod = bed.wait_phase("env-pod", "Succeeded", "Failed")
    ip = bed.kubelet.pod_ip(NS, "env-pod")
    assert pod["spec"]["nodeName"] == "mnft-local"
    assert pod["status"]["phase"] == "Succeeded"
    assert pod["status"]["podIP"] == ip
    assert pod["status"]["hostIP"] == "127.0.0.1"
    state = terminated(pod)
    assert (state["exitCode"], state["reason"], state["message"]) == (0, "Completed", "all good")
    conditions = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
    assert conditions == {
        "PodScheduled": "True",
        "Initialized": "True",
        "Ready": "False",
        "ContainersReady": "False",
    }
    events = bed.wait_events("env-pod", "Scheduled", "Started")
    assert ("Normal", "Scheduled", "Successfully assigned default/env-pod to mnft-local") in events
    assert ("Normal", "Started", "Started container main") in events
    expected = f"POD=env-pod NS=default IP={ip} LABEL=t LR=0.05 IMAGE=busybox:1.36\nto-stderr\n"
    assert bed.core.read_namespaced_pod_log("env-pod", NS, container="main") == expected
    out = run_kubectl(bed.kubeconfig, "logs", "env-pod", "-c", "main", timeout=30)
    assert (out.returncode, out.stdout) == (0, expected), out.stderr


def test_failing_pod_reports_exit_code(bed: Bed) -> None:
    bed.create_pod("fail-pod", [{"name": "main", "image": "x", "command": ["sh", "-c", "echo bye; exit 3"]}])
    pod = bed.wait_phase("fail-pod", "Succeeded", "Failed")
    assert pod["status"]["phase"] == "Failed"
    state = terminated(pod)
    assert (state["exitCode"], state["reason"]) == (3, "Error")
    assert "message" not in state


def test_missing_command_fails_with_127(bed: Bed) -> None:
    bed.create_pod("nocmd-pod", [{"name": "main", "image": "x", "command": ["no-such-binary-mnft", "--x"]}])
    pod = bed.wait_phase("nocmd-pod", "Succeeded", "Failed")
    state = terminated(pod)
    assert (pod["status"]["phase"], state["exitCode"], state["reason"]) == ("Failed", 127, "StartError")
    assert state["message"] == 'exec: "no-such-binary-mnft": executable file not found in $PATH'
    assert (
        "Warning",
        "Failed",
        'Error: exec: "no-such-binary-mnft": executable file not found in $PATH',
    ) in bed.wait_events("nocmd-pod", "Failed")


def test_fallback_to_logs_on_error(bed: Bed) -> None:
    bed.create_pod(
        "fallback-pod",
        [
            {
                "name": "main",
                "image": "x",
                "command": ["sh", "-c", "echo first; echo 'error: dataset missing'; exit 1"],
                "terminationMessagePolicy": "FallbackToLogsOnError",
            }
        ],
    )
    state = terminated(bed.wait_phase("fallback-pod", "Failed"))
    assert state["message"] == "first\nerror: dataset missing\n"


def test_deleting_a_running_pod_kills_its_process_group(bed: Bed) -> None:
    bed.create_pod(
        "sleeper", [{"name": "main", "image": "x", "command": ["sh", "-c", "sleep 300 & sleep 300; wait"]}]
    )
    pod = bed.wait_phase("sleeper", "Running")
    pid = pid_of(pod)
    os.kill(pid, 0)  # running
    group = [
        int(p)
        for p in subprocess.run(["pgrep", "-g", str(pid)], capture_output=True, text=True).stdout.split()
    ]
    assert len(group) >= 3, group  # sh + two sleeps
    bed.core.delete_namespaced_pod("sleeper", NS)
    deadline = time.monotonic() + 10
    while bed.pod("sleeper") is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bed.pod("sleeper") is None
    alive = set(group)
    while alive and time.monotonic() < deadline + 5:  # SIGTERM reaches the group within the grace period
        alive = {p for p in alive if process_exists(p)}
        time.sleep(0.05)
    assert alive == set()
    assert ("Normal", "Killing", "Stopping container main") in bed.wait_events("sleeper", "Killing")


def test_configmap_volume_follows_updates(bed: Bed) -> None:
    bed.core.create_namespaced_config_map(
        NS, cast(Any, {"metadata": {"name": "live"}, "data": {"value": "one"}})
    )
    bed.create_pod(
        "cm-reader",
        [
            {
                "name": "main",
                "image": "x",
                "command": ["sh", "-c", "cat /etc/app.conf; sleep 300"],
                "volumeMounts": [
                    {"name": "cfg", "mountPath": "/etc/cfg"},
                    {"name": "cfg", "mountPath": "/etc/app.conf", "subPath": "value"},  # one key as a file
                ],
            }
        ],
        volumes=[{"name": "cfg", "configMap": {"name": "live"}}],
    )
    bed.wait_phase("cm-reader", "Running")
    file = bed.state_dir / "state" / "pods" / NS / "cm-reader" / "volumes" / "cfg" / "value"
    assert file.read_text() == "one"
    deadline = time.monotonic() + 5
    while bed.core.read_namespaced_pod_log("cm-reader", NS) != "one" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bed.core.read_namespaced_pod_log("cm-reader", NS) == "one"
    bed.core.patch_namespaced_config_map("live", NS, {"data": {"value": "two"}})
    deadline = time.monotonic() + 10
    while file.read_text() != "two" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert file.read_text() == "two"
    bed.core.delete_namespaced_pod("cm-reader", NS)


def test_dns_names_and_mount_paths_are_rewritten_and_init_containers_run_in_order(bed: Bed) -> None:
    mounts = [{"name": "work", "mountPath": "/work"}, {"name": "shared", "mountPath": "/shared"}]
    # `rw-1.grp` is the pod whose spec.hostname is rw-1 (its name differs), as cluster DNS answers.
    bed.create_pod(
        "peer-pod", [{"name": "main", "image": "x", "command": ["true"]}], hostname="rw-1", subdomain="grp"
    )
    bed.create_pod(
        "rw-0",
        initContainers=[
            {
                "name": f"init-{i}",
                "image": "x",
                "command": ["sh", "-c", f"echo init-{i} >> /work/order"],
                "volumeMounts": mounts,
            }
            for i in (1, 2)
        ],
        containers=[
            {
                "name": "main",
                "image": "x",
                "workingDir": "/work",
                "command": ["sh", "-c"],
                "args": [
                    'cat order; echo "$PEER $SELF $1 $(pwd)"; echo hello > /shared/out.txt',
                    "sh",
                    "--sched=rw-1.grp.default.svc.cluster.local:8118",
                ],
                "env": [
                    {"name": "PEER", "value": "tcp://rw-1.grp.default.svc:8118"},
                    {"name": "SELF", "value": "rw-0.grp"},
                ],
                "volumeMounts": mounts,
            }
        ],
        subdomain="grp",
        volumes=[
            {"name": "work", "emptyDir": {}},
            {"name": "shared", "persistentVolumeClaim": {"claimName": "shared-claim"}},
        ],
    )
    pod = bed.wait_phase("rw-0", "Succeeded", "Failed")
    assert pod["status"]["phase"] == "Succeeded", pod["status"]
    assert [s["state"]["terminated"]["exitCode"] for s in pod["status"]["initContainerStatuses"]] == [0, 0]
    peer, me = bed.kubelet.pod_ip(NS, "peer-pod"), bed.kubelet.pod_ip(NS, "rw-0")
    assert peer != bed.kubelet.pod_ip(NS, "rw-1")
    work = bed.state_dir / "state" / "pods" / NS / "rw-0" / "volumes" / "work"
    assert bed.core.read_namespaced_pod_log("rw-0", NS, container="main") == (
        f"init-1\ninit-2\ntcp://{peer}:8118 {me} --sched={peer}:8118 {work}\n"
    )
    assert (bed.state_dir / "mounted" / "out.txt").read_text() == "hello\n"


def test_host_path_volumes_are_the_host_paths_themselves(bed: Bed, tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("from the host\n")
    bed.create_pod(
        "hostpath-pod",
        [
            {
                "name": "main",
                "image": "x",
                "command": ["sh", "-c", "cat /in/file.txt /one.txt; echo out > /in/written"],
                "volumeMounts": [
                    {"name": "dir", "mountPath": "/in"},
                    {"name": "file", "mountPath": "/one.txt"},
                ],
            }
        ],
        volumes=[
            {"name": "dir", "hostPath": {"path": str(tmp_path)}},
            {"name": "file", "hostPath": {"path": str(tmp_path / "file.txt"), "type": "File"}},
        ],
    )
    assert bed.wait_phase("hostpath-pod", "Succeeded", "Failed")["status"]["phase"] == "Succeeded"
    assert bed.core.read_namespaced_pod_log("hostpath-pod", NS) == "from the host\nfrom the host\n"
    assert (tmp_path / "written").read_text() == "out\n"


def test_a_claim_outlives_its_pods(bed: Bed) -> None:
    def claim_pod(name: str, script: str) -> None:
        bed.create_pod(
            name,
            [
                {
                    "name": "main",
                    "image": "x",
                    "command": ["sh", "-c", script],
                    "volumeMounts": [{"name": "out", "mountPath": "/out"}],
                }
            ],
            volumes=[{"name": "out", "persistentVolumeClaim": {"claimName": "results"}}],
        )

    claim_pod("writer-pod", "echo kept > /out/result.txt")
    bed.wait_phase("writer-pod", "Succeeded")
    bed.core.delete_namespaced_pod("writer-pod", NS)
    claim_pod("reader-pod", "cat /out/result.txt")
    bed.wait_phase("reader-pod", "Succeeded")
    assert bed.core.read_namespaced_pod_log("reader-pod", NS) == "kept\n"
    assert (bed.state_dir / "state" / "pvcs" / NS / "results" / "result.txt").read_text() == "kept\n"


def test_ascend_pods_get_device_annotation(bed: Bed) -> None:
    bed.create_pod(
        "npu-pod",
        [
            {
                "name": "main",
                "image": "x",
                "command": ["true"],
                "resources": {"limits": {"huawei.com/Ascend910": "2"}},
            }
        ],
    )
    pod = bed.wait_phase("npu-pod", "Succeeded")
    annotation = json.loads(
        pod["metadata"]["annotations"]["ascend.kubectl.kubernetes.io/ascend-910-configuration"]
    )
    assert annotation["pod_name"] == "npu-pod"
    assert annotation["server_id"] == "127.0.0.1"
    assert [d["device_id"] for d in annotation["devices"]] == ["0", "1"]
    assert len({d["device_ip"] for d in annotation["devices"]}) == 2


def test_on_failure_restarts_the_container_in_place(bed: Bed) -> None:
    script = "if [ -f /data/once ]; then echo second; exit 0; fi; touch /data/once; echo first; exit 1"
    bed.create_pod(
        "retry-pod",
        [
            {
                "name": "main",
                "image": "x",
                "command": ["sh", "-c", script],
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
            }
        ],
        restartPolicy="OnFailure",
        volumes=[{"name": "data", "emptyDir": {}}],
    )
    pod = bed.wait_phase("retry-pod", "Succeeded", "Failed")
    status = pod["status"]["containerStatuses"][0]
    assert (pod["status"]["phase"], status["restartCount"]) == ("Succeeded", 1)
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert bed.core.read_namespaced_pod_log("retry-pod", NS) == "first\nsecond\n"


def test_deletion_with_a_finalizer_stops_the_pod_and_waits_for_the_finalizer(bed: Bed) -> None:
    bed.core.create_namespaced_pod(
        NS,
        cast(
            Any,
            {
                "metadata": {"name": "held", "finalizers": ["test.mnft.io/hold"]},
                "spec": {
                    "restartPolicy": "Never",
                    "terminationGracePeriodSeconds": 1,
                    "containers": [{"name": "main", "image": "x", "command": ["sleep", "300"]}],
                },
            },
        ),
    )
    pid = pid_of(bed.wait_phase("held", "Running"))
    bed.core.delete_namespaced_pod("held", NS)
    pod = bed.wait_phase("held", "Failed")
    assert pod["metadata"]["deletionTimestamp"]
    assert terminated(pod)["exitCode"] == 128 + 15
    deadline = time.monotonic() + 5
    while process_exists(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_exists(pid)
    bed.core.patch_namespaced_pod("held", NS, {"metadata": {"finalizers": None}})
    deadline = time.monotonic() + 5
    while bed.pod("held") is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bed.pod("held") is None


def test_containers_run_concurrently_and_mnft_is_the_venvs(bed: Bed) -> None:
    mounts = [{"name": "x", "mountPath": "/x"}]
    bed.create_pod(
        "duo",
        [
            {
                "name": "waiter",
                "image": "x",
                "volumeMounts": mounts,
                "command": ["sh", "-c", "while [ ! -f /x/flag ]; do sleep 0.05; done; command -v mnft"],
            },
            {
                "name": "writer",
                "image": "x",
                "volumeMounts": mounts,
                "command": ["sh", "-c", "touch /x/flag"],
            },
        ],
        volumes=[{"name": "x", "emptyDir": {}}],
    )
    pod = bed.wait_phase("duo", "Succeeded", "Failed")
    assert pod["status"]["phase"] == "Succeeded"
    assert [s["name"] for s in pod["status"]["containerStatuses"]] == ["waiter", "writer"]
    assert (
        bed.core.read_namespaced_pod_log("duo", NS, container="waiter")
        == f"{Path(sys.executable).parent}/mnft\n"
    )


def test_a_recreated_pod_of_the_same_name_is_not_given_the_old_ones_status(bed: Bed) -> None:
    # The old pod takes 1 s to exit on SIGTERM, with code 7: that exit must never show on the new object.
    slow_exit = "trap 'sleep 1; exit 7' TERM; sleep 300 & wait"
    bed.create_pod("reborn", [{"name": "main", "image": "x", "command": ["sh", "-c", slow_exit]}])
    old_pid = pid_of(bed.wait_phase("reborn", "Running"))
    bed.core.delete_namespaced_pod("reborn", NS)
    deadline = time.monotonic() + 10
    while bed.pod("reborn") is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    bed.create_pod("reborn", [{"name": "main", "image": "x", "command": ["sh", "-c", "echo new"]}])
    new = bed.pod("reborn")
    assert new is not None
    seen = []
    for event in k8s_watch.Watch().stream(
        bed.core.list_namespaced_pod,
        NS,
        field_selector="metadata.name=reborn",
        resource_version=new["metadata"]["resourceVersion"],
        timeout_seconds=10,
    ):
        status = bed.client.sanitize_for_serialization(event["object"]).get("status") or {}
        seen.append(status.get("phase"))
        if status.get("phase") in ("Succeeded", "Failed"):
            break
    assert seen[-1] == "Succeeded" and "Failed" not in seen, seen
    pod = bed.wait_phase("reborn", "Succeeded")
    assert terminated(pod)["exitCode"] == 0 and pid_of(pod) != old_pid
    assert bed.core.read_namespaced_pod_log("reborn", NS) == "new\n"


def test_missing_configmap_waits_with_config_error_until_it_exists(bed: Bed) -> None:
    bed.create_pod(
        "needs-cm",
        [
            {
                "name": "main",
                "image": "x",
                "command": ["sh", "-c", 'echo "lr=$LR"'],
                "env": [{"name": "LR", "valueFrom": {"configMapKeyRef": {"name": "late", "key": "lr"}}}],
            }
        ],
    )
    pod = bed.wait_pod(
        "needs-cm",
        lambda p: (
            "waiting" in ((p.get("status") or {}).get("containerStatuses") or [{}])[0].get("state", {})
            and p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
            == "CreateContainerConfigError"
        ),
    )
    assert pod["status"]["phase"] == "Pending"
    assert (
        pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"]
        == "env LR: configMap 'late' not found"
    )
    bed.core.create_namespaced_config_map(
        NS, cast(Any, {"metadata": {"name": "late"}, "data": {"lr": "0.1"}})
    )
    bed.wait_phase("needs-cm", "Succeeded")
    assert bed.core.read_namespaced_pod_log("needs-cm", NS) == "lr=0.1\n"


def test_a_gated_pod_is_not_bound_until_its_gates_are_removed(bed: Bed) -> None:
    """Pod Scheduling Readiness: the kubelet (our scheduler) skips pods with spec.schedulingGates."""
    run = [{"name": "main", "image": "x", "command": ["sh", "-c", "exit 0"]}]
    bed.create_pod("gated-pod", run, schedulingGates=[{"name": "kueue.x-k8s.io/admission"}])
    bed.create_pod("after-gated", run)
    # The kubelet handles watch events in order: once the later pod is bound, the gated one was seen.
    bed.wait_phase("after-gated", "Succeeded")
    gated = bed.pod("gated-pod")
    assert gated is not None and gated["spec"].get("nodeName") is None
    assert gated["status"]["phase"] == "Pending"
    [scheduled] = gated["status"]["conditions"]  # as kube-scheduler reports it
    assert (scheduled["type"], scheduled["status"], scheduled["reason"], scheduled["message"]) == (
        "PodScheduled",
        "False",
        "SchedulingGated",
        "Scheduling is blocked due to non-empty scheduling gates",
    )
    bed.core.patch_namespaced_pod("gated-pod", NS, {"spec": {"schedulingGates": None}})
    done = bed.wait_phase("gated-pod", "Succeeded")
    assert done["spec"]["nodeName"] == "mnft-local"
    assert [
        (c["type"], c["status"]) for c in done["status"]["conditions"] if c["type"] == "PodScheduled"
    ] == [("PodScheduled", "True")]


def test_a_status_the_api_refused_is_sent_again_until_it_lands(bed: Bed) -> None:
    # Every status patch of the kubelet answers 503 while the pod runs and ends; the kubelet keeps
    # resending its latest status, so once the API recovers it shows the pod Succeeded (as the kubelet's
    # status manager resyncs). Without resending, the last report before recovery would be lost.
    from kube_emulator.apiserver.api_faults import FaultPlan

    faults = bed.api.faults

    def errors() -> int:
        return int(faults.counts["error-503"])

    faults.plan = FaultPlan(
        error_rate=1.0, codes=(503,), verbs={"patch"}, resources={"pods/status"}, user_agents={"aiohttp"}
    )
    try:
        bed.create_pod("resent", [{"name": "main", "image": "x", "command": ["sh", "-c", "exit 0"]}])
        deadline = time.monotonic() + 120  # guards against a hang only
        while not ((w := bed.kubelet._by_name.get((NS, "resent"))) and w.phase == "Succeeded"):
            assert time.monotonic() < deadline, "the pod's process never ended"
            time.sleep(0.05)
        ended = errors()
        while errors() <= ended:  # a status sent after the end, refused as well
            assert time.monotonic() < deadline, "the kubelet did not send the pod's status again"
            time.sleep(0.05)
        shown = (bed.pod("resent") or {}).get("status", {}).get("phase")
        assert shown == "Pending"  # nothing of it reached the API
    finally:
        faults.plan = None
    pod = bed.wait_phase("resent", "Succeeded", "Failed", timeout=120)
    assert pod["status"]["phase"] == "Succeeded"
    assert terminated(pod)["exitCode"] == 0


def test_a_status_patch_for_a_recreated_pod_of_the_same_name_is_refused(bed: Bed) -> None:
    # The kubelet's status patches carry its pod's uid: the API answers 409 when the name now belongs to
    # another pod, so a late report of a deleted pod never lands on its successor.
    bed.create_pod("successor", [{"name": "main", "image": "x", "command": ["sh", "-c", "exit 0"]}])
    bed.wait_phase("successor", "Succeeded", "Failed", timeout=120)
    body = {"metadata": {"uid": "0a7d1c3e-0000-4000-8000-000000000000"}, "status": {"phase": "Failed"}}
    with pytest.raises(k8s.ApiException) as refused:
        bed.core.patch_namespaced_pod_status("successor", NS, body)
    assert refused.value.status == 409
    uid = (bed.pod("successor") or {})["metadata"]["uid"]
    assert refused.value.body is not None
    assert json.loads(refused.value.body)["message"] == (
        'Operation cannot be fulfilled on pods "successor": Precondition failed: UID in precondition: '
        f"0a7d1c3e-0000-4000-8000-000000000000, UID in object meta: {uid}"
    )
    assert (bed.pod("successor") or {})["status"]["phase"] == "Succeeded"
