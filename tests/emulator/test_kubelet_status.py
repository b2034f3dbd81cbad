from datetime import datetime, timezone

from kube_emulator.kubelet import kubelet_status as ks
from kube_emulator.kubelet.device_plugin import requested
from kube_emulator.kubelet.kubelet_node import node_capacity

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
T1 = datetime(2026, 1, 2, 3, 4, 9, tzinfo=timezone.utc)


def rec(name, state):
    return ks.ContainerRecord(name, "img:1", state, container_id="mnft://42")


def test_phase_for_restart_policy_never():
    done_ok = ks.terminated(0, T0, T1)
    failed = ks.terminated(3, T0, T1)
    assert ks.pod_phase([], [rec("c", ks.waiting("ContainerCreating"))]) == "Pending"
    assert ks.pod_phase([rec("i", ks.running(T0))], [rec("c", ks.waiting("PodInitializing"))]) == "Pending"
    assert ks.pod_phase([rec("i", failed)], [rec("c", ks.waiting("PodInitializing"))]) == "Failed"
    assert ks.pod_phase([rec("i", done_ok)], [rec("c", ks.running(T0))]) == "Running"
    assert ks.pod_phase([], [rec("a", done_ok), rec("b", ks.running(T0))]) == "Running"
    assert ks.pod_phase([], [rec("a", done_ok), rec("b", done_ok)]) == "Succeeded"
    assert ks.pod_phase([], [rec("a", done_ok), rec("b", failed)]) == "Failed"


def test_terminated_state_reasons():
    assert ks.terminated(0, T0, T1) == {
        "terminated": {
            "exitCode": 0,
            "reason": "Completed",
            "startedAt": "2026-01-02T03:04:05Z",
            "finishedAt": "2026-01-02T03:04:09Z",
        }
    }
    assert ks.terminated(137, T0, T1, signal=9, oom_killed=True, message="m", container_id="mnft://1") == {
        "terminated": {
            "exitCode": 137,
            "reason": "OOMKilled",
            "startedAt": "2026-01-02T03:04:05Z",
            "finishedAt": "2026-01-02T03:04:09Z",
            "signal": 9,
            "message": "m",
            "containerID": "mnft://1",
        }
    }
    assert ks.terminated(3, T0, T1)["terminated"]["reason"] == "Error"


def test_termination_message_file_then_log_fallback():
    assert ks.termination_message(b"x" * 5000, "File", 1, b"log") == "x" * 4096
    assert ks.termination_message(b"", "File", 1, b"log") == ""
    assert ks.termination_message(b"", "FallbackToLogsOnError", 0, b"log") == ""
    lines = b"".join(b"line %d\n" % i for i in range(100))
    expected = b"".join(b"line %d\n" % i for i in range(20, 100)).decode()
    assert ks.termination_message(b"", "FallbackToLogsOnError", 2, lines) == expected


def test_pod_status_running_then_succeeded_keeps_transition_times():
    running = ks.pod_status(
        [], [rec("trainer", ks.running(T0))], pod_ip="127.1.1.1", host_ip="127.0.0.1", start_time=T0, now=T0
    )
    assert running == {
        "phase": "Running",
        "conditions": [
            {
                "type": "Initialized",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": "2026-01-02T03:04:05Z",
            },
            {
                "type": "Ready",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": "2026-01-02T03:04:05Z",
            },
            {
                "type": "ContainersReady",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": "2026-01-02T03:04:05Z",
            },
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": "2026-01-02T03:04:05Z",
            },
        ],
        "hostIP": "127.0.0.1",
        "hostIPs": [{"ip": "127.0.0.1"}],
        "podIP": "127.1.1.1",
        "podIPs": [{"ip": "127.1.1.1"}],
        "startTime": "2026-01-02T03:04:05Z",
        "qosClass": "BestEffort",
        "containerStatuses": [
            {
                "name": "trainer",
                "image": "img:1",
                "imageID": "",
                "ready": True,
                "restartCount": 0,
                "started": True,
                "state": {"running": {"startedAt": "2026-01-02T03:04:05Z"}},
                "lastState": {},
                "containerID": "mnft://42",
            }
        ],
    }
    done = ks.pod_status(
        [],
        [rec("trainer", ks.terminated(0, T0, T1))],
        pod_ip="127.1.1.1",
        host_ip="127.0.0.1",
        start_time=T0,
        now=T1,
        previous_conditions=running["conditions"],
    )
    assert done["phase"] == "Succeeded"
    by_type = {c["type"]: c for c in done["conditions"]}
    assert by_type["Initialized"]["lastTransitionTime"] == "2026-01-02T03:04:05Z"
    assert by_type["Ready"] == {
        "type": "Ready",
        "status": "False",
        "lastProbeTime": None,
        "lastTransitionTime": "2026-01-02T03:04:09Z",
        "reason": "PodCompleted",
    }
    assert done["containerStatuses"][0]["ready"] is False


def test_init_containers_block_initialized():
    status = ks.pod_status(
        [rec("fetch", ks.running(T0))],
        [rec("trainer", ks.waiting("PodInitializing"))],
        pod_ip="i",
        host_ip="h",
        start_time=T0,
        now=T0,
    )
    assert status["phase"] == "Pending"
    assert status["conditions"][0] == {
        "type": "Initialized",
        "status": "False",
        "lastProbeTime": None,
        "lastTransitionTime": "2026-01-02T03:04:05Z",
        "reason": "ContainersNotInitialized",
        "message": "containers with incomplete status: [fetch]",
    }
    assert [s["name"] for s in status["initContainerStatuses"]] == ["fetch"]


def test_node_capacity_and_requested_devices():
    assert node_capacity(2, 1024) == {
        "cpu": "2",
        "memory": "1024Ki",
        "pods": "110",
        "ephemeral-storage": "0",
    }
    assert node_capacity(2, 1024, {"example.com/dev": 8})["example.com/dev"] == "8"
    pod = {
        "spec": {
            "containers": [
                {"resources": {"limits": {"example.com/dev": "2"}}},
                {"resources": {"requests": {"example.com/dev": 1}}},
                {"resources": {"limits": {"cpu": "1"}}},
            ]
        }
    }
    assert requested(pod, "example.com/dev") == 3
    assert requested(pod, "example.com/other") == 0


def test_restart_policy_decisions():
    assert [ks.should_restart("Never", False, c) for c in (0, 1)] == [False, False]
    assert [ks.should_restart("OnFailure", False, c) for c in (0, 1)] == [False, True]
    assert [ks.should_restart("Always", False, c) for c in (0, 1)] == [True, True]
    assert [ks.should_restart("Always", True, c) for c in (0, 1)] == [False, True]
    backing_off = ks.ContainerRecord("c", "i", ks.waiting("CrashLoopBackOff"), restart_count=1)
    assert ks.pod_phase([], [backing_off]) == "Running"


def test_pod_event_object():
    from kube_emulator.kubelet.kubelet_events import pod_event

    pod = {"metadata": {"name": "p", "namespace": "ns", "uid": "u1"}}
    event = pod_event(
        pod, "Started", "Started container c", T0, host="mnft-local", field_path="spec.containers{c}"
    )
    name = event["metadata"].pop("name")
    assert name.startswith("p.") and len(name) == len("p.") + 16
    assert event == {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"namespace": "ns"},
        "involvedObject": {
            "apiVersion": "v1",
            "kind": "Pod",
            "name": "p",
            "namespace": "ns",
            "uid": "u1",
            "fieldPath": "spec.containers{c}",
        },
        "reason": "Started",
        "message": "Started container c",
        "type": "Normal",
        "source": {"component": "kubelet", "host": "mnft-local"},
        "firstTimestamp": "2026-01-02T03:04:05Z",
        "lastTimestamp": "2026-01-02T03:04:05Z",
        "count": 1,
        "reportingComponent": "kubelet",
        "reportingInstance": "mnft-local",
    }
    assert pod_event(pod, "Failed", "x", T0, warning=True)["type"] == "Warning"


def test_qos_class():
    def pod(*resources):
        return {"spec": {"containers": [{"name": f"c{i}", "resources": r} for i, r in enumerate(resources)]}}

    assert ks.qos_class(pod({}, {})) == "BestEffort"
    assert ks.qos_class(pod({"limits": {"cpu": "2", "memory": "4Gi"}})) == "Guaranteed"
    assert ks.qos_class(
        pod({"limits": {"cpu": "2", "memory": "4Gi"}, "requests": {"cpu": "2", "memory": "4Gi"}})
    ) == ("Guaranteed")
    assert (
        ks.qos_class(pod({"limits": {"cpu": "2", "memory": "4Gi"}, "requests": {"cpu": "1"}})) == "Burstable"
    )
    assert ks.qos_class(pod({"limits": {"cpu": "2", "memory": "4Gi"}}, {})) == "Burstable"
    assert ks.qos_class(pod({"limits": {"huawei.com/Ascend910": "8"}})) == "BestEffort"
