"""Pure parts of `mnft local`: log prefixes, the log follower, mounts, the resource file, status lines."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mnft_local.local_logs import LogFollower, prefix_line, worker_index
from mnft_local.local_manifest import ManifestError, load_resource, parse_mounts, unmounted_claims
from mnft_local.local_status import failure_reason, final_summary, phase_change


def test_prefix_line_maps_launch_rank_prefix():
    assert prefix_line(1, "[rank-3] epoch[1/2], iter[5]") == "[worker-1/rank-3] epoch[1/2], iter[5]"
    assert prefix_line(0, "[scheduler] up") == "[worker-0/scheduler] up"
    assert prefix_line(0, "launch: starting 2 processes") == "[worker-0] launch: starting 2 processes"
    assert prefix_line(0, "[rank-x] odd") == "[worker-0] [rank-x] odd"


def test_worker_index_only_for_this_jobs_workers():
    assert worker_index("demo", "demo-worker-12") == 12
    assert worker_index("demo", "demo-pretrain-worker-0") is None
    assert worker_index("demo-pretrain", "demo-pretrain-worker-0") == 0
    assert worker_index("demo", "demo-launcher") is None


def test_log_follower_streams_lines_and_restarts_on_truncation(tmp_path: Path):
    out: list[str] = []
    follower = LogFollower(tmp_path, "ns", "job", emit=out.append)
    assert follower.poll() == 0
    log0 = tmp_path / "ns" / "job-worker-0" / "trainer.log"
    log1 = tmp_path / "ns" / "job-worker-1" / "trainer.log"
    other = tmp_path / "ns" / "other-worker-0" / "trainer.log"
    for path in (log0, log1, other):
        path.parent.mkdir(parents=True)
    log0.write_text("[rank-0] a\n[rank-0] b")
    log1.write_text("[rank-1] c\n")
    other.write_text("[rank-0] not ours\n")
    assert follower.poll() == 2
    assert out == ["[worker-0/rank-0] a", "[worker-1/rank-1] c"]
    with open(log0, "a") as handle:
        handle.write("c\n")
    follower.poll()
    assert out[-1] == "[worker-0/rank-0] bc"
    # A recreated pod truncates its log: the follower starts over.
    log0.write_text("[rank-0] again\n")
    follower.poll()
    assert out[-1] == "[worker-0/rank-0] again"
    # A replaced file (new inode) is read from the start too, and `final` flushes a partial line.
    os.remove(log1)
    log1.write_text("[rank-1] new\n[rank-1] tail")
    follower.poll(final=True)
    assert out[-2:] == ["[worker-1/rank-1] new", "[worker-1/rank-1] tail"]


def test_parse_mounts_resolves_relative_dirs(tmp_path: Path):
    assert parse_mounts(["data=d", "out=/abs/o"], tmp_path) == {"data": str(tmp_path / "d"), "out": "/abs/o"}
    with pytest.raises(ManifestError, match=r"--mount 'data': expected VOLUME=DIR"):
        parse_mounts(["data"], tmp_path)
    with pytest.raises(ManifestError, match="--mount data: given twice"):
        parse_mounts(["data=a", "data=b"], tmp_path)


def test_load_resource_defaults_namespace_and_names_problems(tmp_path: Path):
    good = tmp_path / "job.yaml"
    good.write_text(
        "apiVersion: finetune.mindspore.io/v1alpha1\nkind: MobileNetFineTune\nmetadata: {name: j}\n"
        "spec: {platform: CPU}\n"
    )
    assert load_resource(good) == {
        "apiVersion": "finetune.mindspore.io/v1alpha1",
        "kind": "MobileNetFineTune",
        "metadata": {"name": "j", "namespace": "default"},
        "spec": {"platform": "CPU"},
    }
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [unclosed\n")
    with pytest.raises(ManifestError, match=r"bad\.yaml: not valid YAML at line \d+ \(.+\); fix the syntax$"):
        load_resource(bad)
    pod = tmp_path / "pod.yaml"
    pod.write_text("apiVersion: v1\nkind: Pod\n")
    with pytest.raises(ManifestError, match=r"pod\.yaml: no document with kind: MobileNetFineTune$"):
        load_resource(pod)
    two = tmp_path / "two.yaml"
    two.write_text(good.read_text() + "---\n" + good.read_text())
    with pytest.raises(
        ManifestError, match=r"two\.yaml: expected exactly one MobileNetFineTune document, found 2$"
    ):
        load_resource(two)
    with pytest.raises(ManifestError, match=r"missing\.yaml: cannot read it"):
        load_resource(tmp_path / "missing.yaml")


def test_phase_change_lines():
    assert phase_change(None, {}) == "phase Pending"
    assert phase_change({"phase": "Running"}, {"phase": "Running"}) is None
    restarting = {
        "phase": "Restarting",
        "restarts": 1,
        "conditions": [{"type": "Restarting", "status": "True", "reason": "WorkerFailed", "message": "x"}],
    }
    assert phase_change({"phase": "Running"}, restarting) == "phase Restarting (restarts 1): WorkerFailed: x"


def test_final_summary_success_and_failure():
    ok = {"phase": "Succeeded", "restarts": 1, "result": {"accuracy": 0.9375, "checkpoint": "/o/c.ckpt"}}
    assert final_summary("j", ok) == [
        "job j: Succeeded",
        "  accuracy:   0.9375",
        "  checkpoint: /o/c.ckpt",
        "  restarts:   1",
    ]
    failed = {
        "phase": "Failed",
        "conditions": [
            {"type": "Failed", "status": "True", "reason": "TrainerError", "message": "error: no data"}
        ],
    }
    assert failure_reason(failed) == "TrainerError: error: no data"
    assert final_summary("j", failed)[-1] == "  reason:     TrainerError: error: no data"
    assert failure_reason({"phase": "Running"}) == "phase Running"


def test_unmounted_claims_names_pvcs_without_a_mount():
    def pvc(name: str) -> dict:
        return {"persistentVolumeClaim": {"claimName": name}}

    job = {
        "spec": {
            "dataset": {"path": "d", "volume": pvc("data")},
            "pretrained": {"checkpoint": "c.ckpt", "volume": pvc("models")},
            "output": {"volume": pvc("out")},
        }
    }
    assert unmounted_claims(job, {}) == ["data", "models", "out"]
    # By claim name or by the pod's volume name (dataset, pretrained, output).
    assert unmounted_claims(job, {"data": "/d", "pretrained": "/m"}) == ["out"]
    assert unmounted_claims({"spec": {"dataset": {"path": "/abs"}}}, {}) == []
