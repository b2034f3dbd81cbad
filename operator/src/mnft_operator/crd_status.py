"""The `status` schema of the MobileNetFineTune CRD (written only by the operator)."""

from __future__ import annotations

from mnft_operator.openapi import Schema, enum, int_, num, str_


def status_schema() -> Schema:
    condition = {
        "type": "object",
        "description": "One condition.",
        "required": ["type", "status"],
        "properties": {
            "type": str_(
                "Created, RankTableReady, Running, Restarting, Succeeded, Failed, Suspended or "
                "CheckpointsEphemeral."
            ),
            "status": enum("Condition status.", ["True", "False", "Unknown"]),
            "reason": str_("CamelCase reason."),
            "message": str_("Human-readable detail."),
            "lastTransitionTime": str_("When status last changed.", format="date-time"),
            "lastProbeTime": str_(
                "When the condition was last probed (Created: the last create attempt).", format="date-time"
            ),
        },
    }
    counts = {
        "type": "object",
        "description": "Worker pods by state.",
        "properties": {
            "active": int_("Pods pending or running."),
            "ready": int_("Pods running with a ready trainer."),
            "succeeded": int_("Pods that exited 0."),
            "failed": int_("Pods that failed."),
        },
    }
    return {
        "type": "object",
        "description": "Observed state, written by the operator.",
        "properties": {
            "phase": enum(
                "Lifecycle phase.", ["Pending", "Running", "Restarting", "Succeeded", "Failed", "Suspended"]
            ),
            "conditions": {
                "type": "array",
                "description": "Conditions in a fixed order.",
                "items": condition,
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["type"],
            },
            "workers": counts,
            "workersReady": str_("Ready worker pods of the total, e.g. 1/2."),
            "restarts": int_("Whole-job restarts so far (the pods' generation)."),
            "failedCreateAttempts": int_(
                "Consecutive refused create attempts (the retry backoff: 5 s doubling to 120 s); removed "
                "once creation succeeds."
            ),
            "startTime": str_("When the first pods were created.", format="date-time"),
            "completionTime": str_("When the job succeeded or failed.", format="date-time"),
            "progress": {
                "type": "object",
                "description": "Read from rank 0's log while it runs.",
                "properties": {
                    "epoch": int_("Last epoch reported."),
                    "totalEpochs": int_("Epochs in the run."),
                    "loss": num("Last average loss."),
                },
            },
            "result": {
                "type": "object",
                "description": "From rank 0's termination message.",
                "properties": {
                    "accuracy": num("Eval accuracy (absent when not evaluated)."),
                    "checkpoint": str_("Path of the final checkpoint inside the output volume."),
                    "finalLoss": num("Loss of the last epoch."),
                },
            },
            "rankTableVersion": str_("Version of the current hccl.json (Ascend)."),
            "observedGeneration": {"type": "integer", "format": "int64", "description": "Generation seen."},
            "message": str_("Summary of the current state."),
        },
    }
