"""plan() on a job it cannot walk: a Failed/InvalidSpec status saying why, never an exception.

A real kube-apiserver stores objects nested up to 10,000 levels (apimachinery's JSON maxDepth); the
spec's defaulting and validation are recursive and hit Python's recursion limit near 500 levels."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from reconcile_world import T0

from mnft_operator.planner import TOO_DEEP, plan
from mnft_operator.types import Event, Observed, Plan


def nested(levels: int) -> dict[str, Any]:
    deep: Any = "x"
    for _ in range(levels):
        deep = {"a": deep}
    return {"nodeAffinity": deep}


def observed(affinity: dict[str, Any]) -> Observed:
    job = {
        "apiVersion": "finetune.mindspore.io/v1alpha1",
        "kind": "MobileNetFineTune",
        "metadata": {"name": "deep", "namespace": "ml", "uid": "job-uid", "generation": 3},
        "spec": {
            "platform": "CPU",
            "image": "mnft:0.1",
            "workers": 1,
            "dataset": {"path": "/data"},
            "affinity": affinity,
        },
    }
    return Observed(job=job, pods=[], services=[], configmaps=[], podgroups=[], rank0_log_tail=None, now=T0)


@pytest.fixture
def default_recursion_limit() -> Iterator[None]:
    """Python's default limit (some libraries loaded by other tests raise it)."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


@pytest.mark.usefixtures("default_recursion_limit")
def test_a_job_nested_700_levels_deep_fails_with_a_reason_and_creates_nothing() -> None:
    message = f"spec: {TOO_DEEP}"
    assert plan(observed(nested(700))) == Plan(
        status={
            "conditions": [
                {
                    "type": "Failed",
                    "status": "True",
                    "reason": "InvalidSpec",
                    "message": message,
                    "lastTransitionTime": "2026-03-01T12:00:00Z",
                }
            ],
            "phase": "Failed",
            "message": message,
            "completionTime": "2026-03-01T12:00:00Z",
            "observedGeneration": 3,
        },
        events=(Event("Warning", "InvalidSpec", message),),
    )


REAL_AFFINITY = {  # as deep as a core/v1 Affinity gets (8 levels)
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]
        }
    }
}


def test_a_job_with_an_affinity_as_deep_as_real_ones_is_planned_as_usual() -> None:
    created = plan(observed(REAL_AFFINITY)).create
    assert [o["kind"] for o in created] == ["Service", "Pod"]
    assert created[1]["spec"]["affinity"] == REAL_AFFINITY
