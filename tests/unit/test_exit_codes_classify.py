"""Failed worker pods: retryable (whole-job restart) versus trainer errors (fail at once)."""

from __future__ import annotations

from typing import Any

import pytest

from mnft_operator.exit_codes import RETRYABLE, TRAINER_ERROR, Failure, classify, termination_message


def pod(status: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {"metadata": {"name": "j-worker-1", **meta}, "status": status}


def terminated(code: int, reason: str = "Error", message: str = "", name: str = "trainer") -> dict[str, Any]:
    term = {"exitCode": code, "reason": reason, "message": message, "finishedAt": "2026-01-01T00:00:05Z"}
    return {"phase": "Failed", "containerStatuses": [{"name": name, "state": {"terminated": term}}]}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"phase": "Running"}, None),
        ({"phase": "Pending"}, None),
        ({"phase": "Succeeded", "reason": "Evicted"}, None),
        (
            terminated(137),
            Failure(RETRYABLE, "ExitCode", "j-worker-1: container trainer exited 137 (signal 9)", 137),
        ),
        (
            terminated(128 + 15),
            Failure(RETRYABLE, "ExitCode", "j-worker-1: container trainer exited 143 (signal 15)", 143),
        ),
        (
            terminated(137, reason="OOMKilled"),
            Failure(RETRYABLE, "OOMKilled", "j-worker-1: container trainer was OOMKilled", 137),
        ),
        (
            terminated(1, message="[rank-0] starting\nerror: dataset_path: /d has no class folders\n"),
            Failure(
                TRAINER_ERROR,
                "TrainerError",
                "j-worker-1: container trainer exited 1: error: dataset_path: /d has no class folders",
                1,
            ),
        ),
        (
            terminated(75, message="error: distributed init failed (dynamicCluster, scheduler h:8118): x"),
            Failure(
                RETRYABLE,
                "ClusterFormation",
                "j-worker-1: container trainer exited 75: "
                "error: distributed init failed (dynamicCluster, scheduler h:8118): x",
                75,
            ),
        ),
        (
            terminated(75),
            Failure(RETRYABLE, "ClusterFormation", "j-worker-1: container trainer exited 75: exited 75", 75),
        ),
        (
            terminated(74),
            Failure(TRAINER_ERROR, "TrainerError", "j-worker-1: container trainer exited 74: exited 74", 74),
        ),
        (
            terminated(2),
            Failure(TRAINER_ERROR, "TrainerError", "j-worker-1: container trainer exited 2: exited 2", 2),
        ),
        (
            {"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory."},
            Failure(RETRYABLE, "Evicted", "j-worker-1: The node was low on resource: memory."),
        ),
        ({"phase": "Failed", "reason": "NodeLost"}, Failure(RETRYABLE, "NodeLost", "j-worker-1: NodeLost")),
        (
            {
                "phase": "Running",
                "conditions": [
                    {
                        "type": "DisruptionTarget",
                        "status": "True",
                        "reason": "DeletionByTaintManager",
                        "message": "x",
                    }
                ],
            },
            Failure(RETRYABLE, "Disrupted", "j-worker-1: DeletionByTaintManager: x"),
        ),
        ({"phase": "Failed"}, Failure(RETRYABLE, "PodFailed", "j-worker-1: pod failed: unknown")),
    ],
)
def test_classify(status: dict[str, Any], expected: Failure | None) -> None:
    assert classify(pod(status)) == expected


def test_init_container_failure_is_a_trainer_error_with_its_message() -> None:
    status = {
        "phase": "Failed",
        "initContainerStatuses": [
            {
                "name": "fetch-checkpoint",
                "state": {
                    "terminated": {"exitCode": 1, "message": "error: sha256 mismatch for https://x/c.ckpt"}
                },
            }
        ],
        "containerStatuses": [{"name": "trainer", "state": {"waiting": {"reason": "PodInitializing"}}}],
    }
    assert classify(pod(status)) == Failure(
        TRAINER_ERROR,
        "TrainerError",
        "j-worker-1: container fetch-checkpoint exited 1: error: sha256 mismatch for https://x/c.ckpt",
        1,
    )


def test_pod_deleted_by_someone_else_is_retryable() -> None:
    got = classify(pod({"phase": "Running"}, deletionTimestamp="2026-01-01T00:00:00Z"))
    assert got == Failure(RETRYABLE, "PodDeleted", "j-worker-1: pod is being deleted")


def test_termination_message_last_line() -> None:
    assert termination_message({"message": "a\n\nerror: b\n  "}) == "error: b"
    assert termination_message({}) == ""
