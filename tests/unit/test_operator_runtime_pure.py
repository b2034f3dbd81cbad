"""Pure parts of the operator runtime: REST paths, patch bodies, events, wake-up and wait decisions."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from mnft_operator.handlers.job_daemon import next_wait, retry_delay, wait_for_wake
from mnft_operator.handlers.job_reconciler import Outcome, is_finished
from mnft_operator.handlers.settings import OperatorConfig, Wakers
from mnft_operator.k8s import event_body, merge_patch, resource_path, update_patch_body
from mnft_operator.operator_cli import build_parser, config_from_args
from mnft_operator.types import Event, Observed, Plan

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def test_resource_paths() -> None:
    assert resource_path("v1", "Pod", "ns") == "/api/v1/namespaces/ns/pods"
    assert resource_path("v1", "Pod", "ns", "j-worker-0") == "/api/v1/namespaces/ns/pods/j-worker-0"
    assert (
        resource_path("scheduling.volcano.sh/v1beta1", "PodGroup", "ns", "j")
        == "/apis/scheduling.volcano.sh/v1beta1/namespaces/ns/podgroups/j"
    )
    assert (
        resource_path("finetune.mindspore.io/v1alpha1", "MobileNetFineTune", "a b")
        == "/apis/finetune.mindspore.io/v1alpha1/namespaces/a%20b/mobilenetfinetunes"
    )
    with pytest.raises(ValueError, match="kind 'Secret'"):
        resource_path("v1", "Secret", "ns")


def test_update_patch_body_pod_sends_only_labels_and_annotations() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "uid": "u", "annotations": {"hccl/rankIndex": "1"}, "labels": {"a": "b"}},
        "spec": {"containers": []},
        "status": {"phase": "Running"},
    }
    assert update_patch_body(pod) == {
        "metadata": {"labels": {"a": "b"}, "annotations": {"hccl/rankIndex": "1"}}
    }


def test_update_patch_body_configmap_sends_data() -> None:
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "rings-config-j", "resourceVersion": "7", "annotations": {"v": "2"}},
        "data": {"hccl.json": "{}"},
    }
    assert update_patch_body(cm) == {"metadata": {"annotations": {"v": "2"}}, "data": {"hccl.json": "{}"}}


def test_merge_patch() -> None:
    old = {"phase": "Running", "progress": {"epoch": 1, "loss": 2.0}, "conditions": [1], "kopf": {"x": 1}}
    new = {"phase": "Succeeded", "progress": {"epoch": 2}, "conditions": [1], "result": {"accuracy": 0.9}}
    assert merge_patch(old, new, keep=("kopf",)) == {
        "phase": "Succeeded",
        "progress": {"epoch": 2, "loss": None},
        "result": {"accuracy": 0.9},
    }
    assert merge_patch(new, new) == {}
    assert merge_patch({"a": {"b": 1}}, {"a": 3}) == {"a": 3}
    assert merge_patch({}, {"a": {"b": 1}}) == {"a": {"b": 1}}


def test_event_body() -> None:
    job = {
        "apiVersion": "finetune.mindspore.io/v1alpha1",
        "kind": "MobileNetFineTune",
        "metadata": {"name": "j", "namespace": "ns", "uid": "u1", "resourceVersion": "5"},
    }
    assert event_body(job, Event("Warning", "InvalidSpec", "spec.workers: must be >= 1"), NOW, 255) == {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "j.ff", "namespace": "ns"},
        "involvedObject": {
            "apiVersion": "finetune.mindspore.io/v1alpha1",
            "kind": "MobileNetFineTune",
            "name": "j",
            "namespace": "ns",
            "uid": "u1",
            "resourceVersion": "5",
        },
        "type": "Warning",
        "reason": "InvalidSpec",
        "message": "spec.workers: must be >= 1",
        "source": {"component": "mnft-operator"},
        "reportingComponent": "mnft-operator",
        "firstTimestamp": "2026-01-02T03:04:05Z",
        "lastTimestamp": "2026-01-02T03:04:05Z",
        "count": 1,
    }


def observed(phase: str | None, rank0_phase: str | None = None) -> Observed:
    pods = (
        []
        if rank0_phase is None
        else [{"metadata": {"name": "j-worker-0"}, "status": {"phase": rank0_phase}}]
    )
    status = {} if phase is None else {"phase": phase}
    job = {"metadata": {"name": "j", "namespace": "ns"}, "status": status}
    return Observed(
        job=job, pods=pods, services=[], configmaps=[], podgroups=[], rank0_log_tail=None, now=NOW
    )


def test_next_wait() -> None:
    config = OperatorConfig(resync_seconds=300.0, progress_seconds=10.0)
    assert next_wait(Outcome(observed("Pending"), Plan(), 0), config) == 300.0
    assert next_wait(Outcome(observed("Pending"), Plan(requeue_after=42.0), 0), config) == 42.0
    assert next_wait(Outcome(observed("Running", "Running"), Plan(requeue_after=42.0), 0), config) == 10.0
    assert next_wait(Outcome(observed("Running", "Running"), Plan(requeue_after=-1.0), 0), config) == 0.0


def test_is_finished() -> None:
    assert is_finished(None, Plan())
    assert is_finished(observed("Succeeded"), Plan())
    assert not is_finished(observed("Succeeded"), Plan(requeue_after=60.0))  # ttlSecondsAfterFinished pending
    assert not is_finished(observed("Failed"), Plan(events=(Event("Warning", "Failed", "x"),)))
    assert not is_finished(observed("Running"), Plan())
    assert not is_finished(observed(None), Plan())
    invalid = observed("Failed")
    conditions = [{"type": "Failed", "status": "True", "reason": "InvalidSpec", "message": "spec.workers"}]
    invalid.job["status"]["conditions"] = conditions
    assert not is_finished(invalid, Plan())  # fixing the spec resumes the job
    conditions[0]["reason"] = "TrainerError"
    assert is_finished(invalid, Plan())


async def test_wakers_skip_status_only_changes() -> None:
    wakers = Wakers()
    event = wakers.register("ns", "j")
    job = {"metadata": {"name": "j", "generation": 1}}
    wakers.seen("ns", "j", job)
    assert not wakers.job_changed("ns", "j", job)
    assert wakers.job_changed("ns", "j", {"metadata": {"generation": 2}})
    assert wakers.job_changed("ns", "j", {"metadata": {"generation": 1, "deletionTimestamp": "t"}})
    assert wakers.job_changed("ns", "j", {"metadata": {}})
    assert not wakers.wake("ns", "other")
    assert wakers.wake("ns", "j") and event.is_set()
    wakers.unregister("ns", "j", asyncio.Event())  # someone else's event: kept
    assert wakers.wake("ns", "j")
    wakers.unregister("ns", "j", event)
    assert not wakers.wake("ns", "j")


async def test_wait_for_wake_returns_on_wake_stop_or_timeout() -> None:
    loop = asyncio.get_running_loop()
    wake, never = asyncio.Event(), asyncio.Event()
    loop.call_later(0.05, wake.set)
    start = loop.time()
    await wait_for_wake(wake, never.wait(), timeout=5.0)
    assert loop.time() - start < 1.0
    stop = asyncio.Event()
    loop.call_later(0.05, stop.set)
    start = loop.time()
    await wait_for_wake(asyncio.Event(), stop.wait(), timeout=5.0)
    assert loop.time() - start < 1.0
    start = loop.time()
    await wait_for_wake(asyncio.Event(), never.wait(), timeout=0.05)
    assert 0.04 < loop.time() - start < 1.0


def test_config_from_args(tmp_path: object) -> None:
    parser = build_parser()
    args = parser.parse_args(["-n", "a", "-n", "b", "-n", "a", "--peering", "mnft", "--priority", "5"])
    assert config_from_args(args) == OperatorConfig(
        namespaces=("a", "b"), peering="mnft", priority=5, metrics_port=8081
    )
    assert config_from_args(parser.parse_args([])) == OperatorConfig(metrics_port=8081)
    assert config_from_args(parser.parse_args(["--metrics-port", "0"])) == OperatorConfig()
    with pytest.raises(ValueError, match="--metrics-port 70000: give a TCP port"):
        config_from_args(parser.parse_args(["--metrics-port", "70000"]))
    with pytest.raises(ValueError, match="--kubeconfig /nonexistent: no such file"):
        config_from_args(parser.parse_args(["--kubeconfig", "/nonexistent"]))
    with pytest.raises(ValueError, match="--server localhost:1"):
        config_from_args(parser.parse_args(["--server", "localhost:1"]))
    with pytest.raises(SystemExit):
        parser.parse_args(["--peering", "x", "--standalone"])


def test_retry_delay_backs_off_exponentially_with_a_cap() -> None:
    assert [retry_delay(5.0, r) for r in range(7)] == [5.0, 10.0, 20.0, 40.0, 80.0, 120.0, 120.0]
    assert retry_delay(5.0, 10_000) == 120.0


def test_allow_host_path_flag_defaults_off() -> None:
    from mnft_operator.operator_cli import build_parser, config_from_args

    assert config_from_args(build_parser().parse_args([])).allow_host_path is False
    assert config_from_args(build_parser().parse_args(["--allow-host-path"])).allow_host_path is True
