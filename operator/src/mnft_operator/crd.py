"""The MobileNetFineTune CustomResourceDefinition as a Python dict: the single source of truth.

The Helm chart, `manifests/` and the README field reference are generated from `crd()`, and
`mnft_operator.spec` validates and defaults a resource by walking the same schema, so the cluster and the
operator agree. Every CEL rule here has a Python twin in `spec.cross_field_errors` (a cluster may lack CEL);
transition rules (`self == oldSelf`) can only be enforced by the API server.
"""

from __future__ import annotations

from typing import Any

GROUP = "finetune.mindspore.io"
VERSION = "v1alpha1"
KIND = "MobileNetFineTune"
PLURAL = "mobilenetfinetunes"
SINGULAR = "mobilenetfinetune"
SHORT_NAME = "mft"
API_VERSION = f"{GROUP}/{VERSION}"

# Pod names are `<job>-worker-<i>` and double as hostnames (63 characters at most); workers <= 4096 means
# at most 4 index digits, so 63 - len("-worker-") - 4 = 51.
MAX_NAME_LENGTH = 51
MAX_WORKERS = 4096
NAME_PATTERN = "^[a-z]([-a-z0-9]*[a-z0-9])?$"
SHA256_PATTERN = "^[0-9a-f]{64}$"
IMMUTABLE_MESSAGE = "is immutable while the job exists; delete and recreate the job to change it"

Schema = dict[str, Any]


def _int(description: str, minimum: int | None = None, maximum: int | None = None, **extra: Any) -> Schema:
    schema: Schema = {"type": "integer", "format": "int32", "description": description}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    schema.update(extra)
    return schema


def _num(
    description: str, minimum: float | None = None, maximum: float | None = None, **extra: Any
) -> Schema:
    schema: Schema = {"type": "number", "description": description}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    schema.update(extra)
    return schema


def _str(description: str, **extra: Any) -> Schema:
    return {"type": "string", "description": description, **extra}


def _enum(description: str, values: list[str], **extra: Any) -> Schema:
    return {"type": "string", "description": description, "enum": values, **extra}


def _free_object(description: str) -> Schema:
    """A core/v1 structure passed through verbatim (volume source, affinity, ...)."""
    return {"type": "object", "description": description, "x-kubernetes-preserve-unknown-fields": True}


def _immutable(schema: Schema) -> Schema:
    rules = schema.setdefault("x-kubernetes-validations", [])
    rules.append({"rule": "self == oldSelf", "message": IMMUTABLE_MESSAGE})
    return schema


def _rule(rule: str, message: str, field_path: str | None = None, reason: str | None = None) -> Schema:
    out: Schema = {"rule": rule, "message": message}
    if field_path is not None:
        out["fieldPath"] = field_path
    if reason is not None:
        out["reason"] = reason
    return out


def _volume_path(what: str, mount: str) -> Schema:
    return _str(
        f"Path of the {what}. Relative to the volume (mounted at {mount}) when `volume` is set; an absolute "
        "path inside the container otherwise.",
        minLength=1,
        maxLength=1024,
    )


def _path_rules(parent: str) -> list[Schema]:
    return [
        _rule(
            "has(self.volume) ? !self.path.startsWith('/') : self.path.startsWith('/')",
            f"{parent}.path must be relative to the volume when {parent}.volume is set, "
            "and absolute otherwise",
            ".path",
        ),
        _rule("!self.path.contains('..')", f"{parent}.path must not contain '..'", ".path"),
    ]


HYPERPARAMETERS: dict[str, Schema] = {
    "numClasses": _int("Number of classes of the new head (num_classes).", 2, 100000),
    "imageHeight": _int("Input image height in pixels (image_height).", 32, 1024),
    "imageWidth": _int("Input image width in pixels (image_width).", 32, 1024),
    "batchSize": _int("Per-device batch size (batch_size).", 1, 4096),
    "epochSize": _int("Number of training epochs (epoch_size).", 1, 10000),
    "warmupEpochs": _int("Epochs of linear learning-rate warm-up (warmup_epochs).", 0, 10000),
    "lrMax": _num("Peak learning rate of the cosine schedule (lr_max).", 0, 100, exclusiveMinimum=True),
    "lrEnd": _num("Final learning rate of the cosine schedule (lr_end).", 0, 100),
    "momentum": _num("Momentum of the optimizer (momentum).", 0, 1),
    "weightDecay": _num("Weight decay (weight_decay).", 0, 1),
    "labelSmooth": _num("Label smoothing factor (label_smooth).", 0, 1, exclusiveMaximum=True),
    "lossScale": _num("Static loss scale (loss_scale).", 1, 16777216),
    "saveCheckpointEpochs": _int(
        "Save a checkpoint every this many epochs (save_checkpoint_epochs).", 1, 10000
    ),
    "keepCheckpointMax": _int("Keep at most this many checkpoints per rank (keep_checkpoint_max).", 1, 10000),
}


def spec_schema() -> Schema:
    return {
        "type": "object",
        "description": "What to fine-tune, where and how.",
        "required": ["platform", "image", "dataset"],
        "properties": {
            "platform": _immutable(_enum("Device type of every worker.", ["Ascend", "GPU", "CPU"])),
            "image": _str("Trainer container image (runs `mnft launch train`).", minLength=1),
            "workers": _immutable(_int("Number of worker pods.", 1, MAX_WORKERS, default=1)),
            "devicesPerWorker": _immutable(
                _int(
                    "Devices (Ascend NPUs, GPUs) per pod, one training process each; on CPU the number of "
                    "local training processes. Ascend: 1, 2, 4 or 8, and exactly 8 when workers > 1.",
                    1,
                    16,
                    default=1,
                )
            ),
            "dataset": _immutable(
                {
                    "type": "object",
                    "description": "The training data: an ImageFolder tree (one directory per class).",
                    "required": ["path"],
                    "properties": {
                        "path": _volume_path("dataset", "/mnt/dataset"),
                        "volume": _free_object("A core/v1 volume source (persistentVolumeClaim, nfs, ...)."),
                    },
                    "x-kubernetes-validations": _path_rules("spec.dataset"),
                }
            ),
            "pretrained": _immutable(
                {
                    "type": "object",
                    "description": "The checkpoint to start from: `checkpoint` (with optional `volume`) or "
                    "`url` with `sha256`. Absent: train from scratch.",
                    "properties": {
                        "checkpoint": _volume_path("checkpoint file", "/mnt/pretrained"),
                        "volume": _free_object("A core/v1 volume source holding `checkpoint`."),
                        "url": _str(
                            "HTTP(S) URL of the checkpoint, fetched by an init container.",
                            pattern="^https?://",
                            maxLength=2048,
                        ),
                        "sha256": _str(
                            "SHA-256 of the file at `url`, 64 lowercase hex digits.", pattern=SHA256_PATTERN
                        ),
                        "freezeLayer": _enum(
                            "Train only the head (`backbone` frozen) or every layer (`none`).",
                            ["none", "backbone"],
                            default="none",
                        ),
                    },
                    "x-kubernetes-validations": [
                        _rule(
                            "has(self.checkpoint) != has(self.url)",
                            "set exactly one of spec.pretrained.checkpoint and spec.pretrained.url",
                        ),
                        _rule(
                            "!has(self.url) || has(self.sha256)",
                            "spec.pretrained.sha256 is required with spec.pretrained.url",
                            ".sha256",
                        ),
                        _rule(
                            "!has(self.url) || !has(self.volume)",
                            "spec.pretrained.volume cannot be used with spec.pretrained.url",
                            ".volume",
                        ),
                        _rule(
                            "!has(self.checkpoint) || (has(self.volume) ? !self.checkpoint.startsWith('/') "
                            ": self.checkpoint.startsWith('/'))",
                            "spec.pretrained.checkpoint must be relative to the volume when "
                            "spec.pretrained.volume is set, and absolute otherwise",
                            ".checkpoint",
                        ),
                        _rule(
                            "!has(self.checkpoint) || !self.checkpoint.contains('..')",
                            "spec.pretrained.checkpoint must not contain '..'",
                            ".checkpoint",
                        ),
                    ],
                }
            ),
            "output": _immutable(
                {
                    "type": "object",
                    "description": "Where checkpoints and summary.json go; an emptyDir without `volume`.",
                    "default": {},
                    "properties": {
                        "path": _str(
                            "Checkpoint directory, relative to the output volume (at /mnt/output).",
                            default="checkpoint",
                            maxLength=1024,
                        ),
                        "volume": _free_object("A core/v1 volume source for the outputs."),
                    },
                    "x-kubernetes-validations": [
                        _rule(
                            "!has(self.path) || (!self.path.startsWith('/') && !self.path.contains('..'))",
                            "spec.output.path must be relative to /mnt/output and not contain '..'",
                            ".path",
                        )
                    ],
                }
            ),
            "hyperparameters": _immutable(
                {
                    "type": "object",
                    "description": "The recipe's settings (r1.2 config keys in camelCase); unset keys keep "
                    "the recipe's per-platform defaults.",
                    "default": {},
                    "properties": dict(HYPERPARAMETERS),
                    "x-kubernetes-validations": [
                        _rule(
                            "!has(self.warmupEpochs) || !has(self.epochSize) || "
                            "self.warmupEpochs <= self.epochSize",
                            "spec.hyperparameters.warmupEpochs must not exceed epochSize",
                            ".warmupEpochs",
                        ),
                        _rule(
                            "!has(self.lrEnd) || !has(self.lrMax) || "
                            "double(self.lrEnd) <= double(self.lrMax)",
                            "spec.hyperparameters.lrEnd must not exceed lrMax",
                            ".lrEnd",
                        ),
                    ],
                }
            ),
            "eval": {
                "type": "object",
                "description": "Evaluation after training (rank 0 reports the accuracy).",
                "default": {},
                "properties": {"enabled": {"type": "boolean", "description": "Run eval.", "default": True}},
            },
            "communication": _immutable(
                {
                    "type": "object",
                    "description": "How ranks find each other.",
                    "default": {},
                    "properties": {
                        "mode": _enum(
                            "`auto`: rankTable on Ascend, dynamicCluster on GPU/CPU. rankTable: Ascend only.",
                            ["auto", "rankTable", "dynamicCluster"],
                            default="auto",
                        ),
                        "schedulerPort": _int(
                            "Port of the dynamic-cluster scheduler on worker 0 (MS_SCHED_PORT).",
                            1024,
                            65535,
                            default=8118,
                        ),
                    },
                }
            ),
            "resources": {
                "type": "object",
                "description": "Container resources; the device request is added by the operator.",
                "properties": {
                    "limits": {
                        "type": "object",
                        "description": "Resource limits.",
                        "additionalProperties": {"x-kubernetes-int-or-string": True},
                    },
                    "requests": {
                        "type": "object",
                        "description": "Resource requests.",
                        "additionalProperties": {"x-kubernetes-int-or-string": True},
                    },
                },
            },
            "nodeSelector": {
                "type": "object",
                "description": "Node labels the worker pods must match.",
                "additionalProperties": {"type": "string"},
            },
            "tolerations": {
                "type": "array",
                "description": "Pod tolerations (core/v1 Toleration).",
                "items": _free_object("A core/v1 Toleration."),
            },
            "affinity": _free_object("Pod affinity (core/v1 Affinity)."),
            "priorityClassName": _str("PriorityClass of the pods (and of the PodGroup)."),
            "schedulerName": _str("Scheduler of the pods; `volcano` when scheduling.gang is volcano."),
            "serviceAccountName": _str("ServiceAccount of the pods (needs no API permissions)."),
            "env": {
                "type": "array",
                "description": "Extra container env (core/v1 EnvVar), appended after the operator's, "
                "e.g. NCCL_* settings.",
                "items": {
                    "type": "object",
                    "description": "A core/v1 EnvVar (value or valueFrom).",
                    "required": ["name"],
                    "properties": {"name": _str("Variable name.", minLength=1)},
                    "x-kubernetes-preserve-unknown-fields": True,
                },
            },
            "imagePullSecrets": {
                "type": "array",
                "description": "Secrets for pulling the image.",
                "items": {
                    "type": "object",
                    "description": "A reference to a docker-registry Secret.",
                    "required": ["name"],
                    "properties": {"name": _str("Secret name.", minLength=1)},
                },
            },
            "runPolicy": {
                "type": "object",
                "description": "Restarts, deadlines and clean-up.",
                "default": {},
                "properties": {
                    "backoffLimit": _int(
                        "Whole-job restarts allowed after retryable failures.", 0, 100, default=3
                    ),
                    "activeDeadlineSeconds": _int(
                        "Fail the job (DeadlineExceeded) after this many seconds.", 1
                    ),
                    "ttlSecondsAfterFinished": _int("Delete the finished job after this many seconds.", 0),
                    "cleanPodPolicy": _enum(
                        "Pods deleted when the job ends: `Running` (only still-running ones; failed pods "
                        "keep their logs), `All`, or `None`.",
                        ["Running", "All", "None"],
                        default="Running",
                    ),
                    "suspend": {
                        "type": "boolean",
                        "description": "true removes the pods and suspends the job; false resumes it.",
                        "default": False,
                    },
                },
            },
            "scheduling": _immutable(
                {
                    "type": "object",
                    "description": "Gang scheduling.",
                    "default": {},
                    "properties": {
                        "gang": _enum(
                            "`volcano` creates a Volcano PodGroup.", ["none", "volcano"], default="none"
                        ),
                        "queue": _str("Volcano queue of the PodGroup."),
                        "minAvailable": _int("PodGroup minMember (default: workers).", 1, MAX_WORKERS),
                    },
                }
            ),
        },
        "x-kubernetes-validations": [
            _rule(
                "has(self.pretrained) == has(oldSelf.pretrained)",
                "spec.pretrained cannot be added or removed; delete and recreate the job",
                ".pretrained",
            ),
            _rule(
                "self.platform != 'Ascend' || self.devicesPerWorker in [1, 2, 4, 8]",
                "spec.devicesPerWorker must be 1, 2, 4 or 8 on Ascend",
                ".devicesPerWorker",
            ),
            _rule(
                "self.platform != 'Ascend' || self.workers == 1 || self.devicesPerWorker == 8",
                "spec.devicesPerWorker must be 8 on Ascend when spec.workers > 1",
                ".devicesPerWorker",
            ),
            _rule(
                "!has(self.communication) || !has(self.communication.mode) || "
                "self.communication.mode != 'rankTable' || self.platform == 'Ascend'",
                "spec.communication.mode rankTable needs platform Ascend; use auto or dynamicCluster",
                ".communication.mode",
            ),
            _rule(
                "!has(self.scheduling) || !has(self.scheduling.minAvailable) || "
                "self.scheduling.minAvailable <= self.workers",
                "spec.scheduling.minAvailable must not exceed spec.workers",
                ".scheduling.minAvailable",
            ),
        ],
    }


def status_schema() -> Schema:
    condition = {
        "type": "object",
        "description": "One condition.",
        "required": ["type", "status"],
        "properties": {
            "type": _str("Created, RankTableReady, Running, Restarting, Succeeded, Failed or Suspended."),
            "status": _enum("Condition status.", ["True", "False", "Unknown"]),
            "reason": _str("CamelCase reason."),
            "message": _str("Human-readable detail."),
            "lastTransitionTime": _str("When status last changed.", format="date-time"),
        },
    }
    counts = {
        "type": "object",
        "description": "Worker pods by state.",
        "properties": {
            "active": _int("Pods pending or running."),
            "ready": _int("Pods running with a ready trainer."),
            "succeeded": _int("Pods that exited 0."),
            "failed": _int("Pods that failed."),
        },
    }
    return {
        "type": "object",
        "description": "Observed state, written by the operator.",
        "properties": {
            "phase": _enum(
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
            "workersReady": _str("Ready worker pods of the total, e.g. 1/2."),
            "restarts": _int("Whole-job restarts so far (the pods' generation)."),
            "startTime": _str("When the first pods were created.", format="date-time"),
            "completionTime": _str("When the job succeeded or failed.", format="date-time"),
            "progress": {
                "type": "object",
                "description": "Read from rank 0's log while it runs.",
                "properties": {
                    "epoch": _int("Last epoch reported."),
                    "totalEpochs": _int("Epochs in the run."),
                    "loss": _num("Last average loss."),
                },
            },
            "result": {
                "type": "object",
                "description": "From rank 0's termination message.",
                "properties": {
                    "accuracy": _num("Eval accuracy (absent when not evaluated)."),
                    "checkpoint": _str("Path of the final checkpoint inside the output volume."),
                    "finalLoss": _num("Loss of the last epoch."),
                },
            },
            "rankTableVersion": _str("Version of the current hccl.json (Ascend)."),
            "observedGeneration": {"type": "integer", "format": "int64", "description": "Generation seen."},
            "message": _str("Summary of the current state."),
        },
    }


def crd() -> dict[str, Any]:
    """The CustomResourceDefinition (apiextensions.k8s.io/v1) as a fresh dict."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{PLURAL}.{GROUP}",
            "labels": {"app.kubernetes.io/name": "mnft-operator", "app.kubernetes.io/part-of": "mnft"},
        },
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": KIND,
                "listKind": f"{KIND}List",
                "plural": PLURAL,
                "singular": SINGULAR,
                "shortNames": [SHORT_NAME],
                "categories": ["all", "mindspore", "training"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": [
                        {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                        {"name": "Platform", "type": "string", "jsonPath": ".spec.platform"},
                        {"name": "Workers", "type": "string", "jsonPath": ".status.workersReady"},
                        {"name": "Epoch", "type": "integer", "jsonPath": ".status.progress.epoch"},
                        {"name": "Accuracy", "type": "number", "jsonPath": ".status.result.accuracy"},
                        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                    ],
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": "A distributed MindSpore MobileNetV2 fine-tuning job.",
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {"type": "string"},
                                "kind": {"type": "string"},
                                "metadata": {"type": "object"},
                                "spec": spec_schema(),
                                "status": status_schema(),
                            },
                            "x-kubernetes-validations": [
                                _rule(
                                    f"size(self.metadata.name) <= {MAX_NAME_LENGTH}",
                                    f"metadata.name must be at most {MAX_NAME_LENGTH} characters (pod "
                                    "hostnames are <name>-worker-<i>)",
                                    ".metadata.name",
                                ),
                                _rule(
                                    f"self.metadata.name.matches('{NAME_PATTERN}')",
                                    "metadata.name must be a DNS-1035 label (lowercase letters, digits, '-', "
                                    "starting with a letter): it names the job's Service",
                                    ".metadata.name",
                                ),
                            ],
                        }
                    },
                }
            ],
        },
    }
