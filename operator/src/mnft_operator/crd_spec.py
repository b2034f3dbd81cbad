"""The `spec` schema of the MobileNetFineTune CRD: fields, defaults, bounds and cross-field CEL rules.

`spec.hyperparameters` (its fields, bounds and ordering rules) is generated from the operator-trainer
contract's table, `mnft_contract.hyperparameters`.

Every CEL rule here has a Python twin in `spec.cross_field_errors` (a cluster may lack CEL); transition
rules (`self == oldSelf`) can only be enforced by the API server.
"""

from __future__ import annotations

import json

from mnft_contract import hyperparameters
from mnft_operator import core_v1, reserved
from mnft_operator.openapi import Schema, enum, immutable, int_, num, rule, str_

MAX_WORKERS = 4096
SHA256_PATTERN = "^[0-9a-f]{64}$"
MAX_LIST = 256  # tolerations, env, imagePullSecrets

# Spec fields holding an embedded core/v1 type (core_v1.ROOTS key): the README lists them as one row.
CORE_V1_FIELDS = {
    "spec.dataset.volume": "VolumeSource",
    "spec.pretrained.volume": "VolumeSource",
    "spec.output.volume": "VolumeSource",
    "spec.resources": "ResourceRequirements",
    "spec.tolerations": "Toleration",
    "spec.affinity": "Affinity",
    "spec.env": "EnvVar",
    "spec.imagePullSecrets": "LocalObjectReference",
    "spec.podSecurityContext": "PodSecurityContext",
    "spec.securityContext": "SecurityContext",
    "spec.volumes": "Volume",
    "spec.volumeMounts": "VolumeMount",
}

# resource.Quantity's serialised form (k8s.io/apimachinery/pkg/api/resource), non-negative.
QUANTITY_PATTERN = r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$"


def _volume_path(what: str, mount: str) -> Schema:
    return str_(
        f"Path of the {what}. Relative to the volume (mounted at {mount}) when `volume` is set; an absolute "
        "path inside the container otherwise.",
        minLength=1,
        maxLength=1024,
    )


def _path_rules(parent: str) -> list[Schema]:
    return [
        rule(
            "has(self.volume) ? !self.path.startsWith('/') : self.path.startsWith('/')",
            f"{parent}.path must be relative to the volume when {parent}.volume is set, "
            "and absolute otherwise",
            ".path",
        ),
        rule("!self.path.contains('..')", f"{parent}.path must not contain '..'", ".path"),
    ]


def _hyperparameter_schema(h: hyperparameters.Hyperparameter) -> Schema:
    if h.type is bool:
        return {"type": "boolean", "description": h.description}
    extra: dict[str, bool] = {}
    if h.exclusive_minimum:
        extra["exclusiveMinimum"] = True
    if h.exclusive_maximum:
        extra["exclusiveMaximum"] = True
    if h.type is int:
        low, high = (None if b is None else int(b) for b in (h.minimum, h.maximum))
        return int_(h.description, low, high, **extra)
    return num(h.description, h.minimum, h.maximum, **extra)


def _pair_rule(low: str, high: str) -> Schema:
    """`low <= high` when both are set; numbers are compared as doubles (a YAML 1 is an integer)."""
    lo, hi = f"self.{low}", f"self.{high}"
    if hyperparameters.BY_FIELD[low].type is float:
        lo, hi = f"double({lo})", f"double({hi})"
    return rule(
        f"!has(self.{low}) || !has(self.{high}) || {lo} <= {hi}",
        f"spec.hyperparameters.{low} must not exceed {high}",
        f".{low}",
    )


# Generated from the contract's table (mnft_contract.hyperparameters): field -> schema, CRD order.
HYPERPARAMETERS: dict[str, Schema] = {
    h.field: _hyperparameter_schema(h) for h in hyperparameters.TABLE if h.in_crd
}


def spec_schema() -> Schema:
    return {
        "type": "object",
        "description": "What to fine-tune, where and how.",
        "required": ["platform", "image", "dataset"],
        "properties": {
            "platform": immutable(enum("Device type of every worker.", ["Ascend", "GPU", "CPU"])),
            "image": str_("Trainer container image (runs `mnft launch train`).", minLength=1),
            "workers": immutable(int_("Number of worker pods.", 1, MAX_WORKERS, default=1)),
            "devicesPerWorker": immutable(
                int_(
                    "Devices (Ascend NPUs, GPUs) per pod, one training process each; on CPU the number of "
                    "local training processes. Ascend: 1, 2, 4 or 8, and exactly 8 when workers > 1.",
                    1,
                    16,
                    default=1,
                )
            ),
            "dataset": immutable(
                {
                    "type": "object",
                    "description": "The training data: an ImageFolder tree (one directory per class).",
                    "required": ["path"],
                    "properties": {
                        "path": _volume_path("dataset", "/mnt/dataset"),
                        "volume": core_v1.schema("VolumeSource"),
                    },
                    "x-kubernetes-validations": _path_rules("spec.dataset"),
                }
            ),
            "pretrained": immutable(
                {
                    "type": "object",
                    "description": "The checkpoint to start from: `checkpoint` (with optional `volume`) or "
                    "`url` with `sha256`. Absent: train from scratch.",
                    "properties": {
                        "checkpoint": _volume_path("checkpoint file", "/mnt/pretrained"),
                        "volume": core_v1.schema(
                            "VolumeSource", "A core/v1 volume source holding `checkpoint`."
                        ),
                        "url": str_(
                            "HTTP(S) URL of the checkpoint, fetched by an init container.",
                            pattern="^https?://",
                            maxLength=2048,
                        ),
                        "sha256": str_(
                            "SHA-256 of the file at `url`, 64 lowercase hex digits.", pattern=SHA256_PATTERN
                        ),
                        "freezeLayer": enum(
                            "Train only the head (`backbone` frozen) or every layer (`none`).",
                            ["none", "backbone"],
                            default="none",
                        ),
                        "filterHead": {
                            "type": "boolean",
                            "description": "Never load the checkpoint's head, start a new one (the recipe's "
                            "`filter_head`); unset or false: the head is loaded when its shape fits.",
                        },
                    },
                    "x-kubernetes-validations": [
                        rule(
                            "has(self.checkpoint) != has(self.url)",
                            "set exactly one of spec.pretrained.checkpoint and spec.pretrained.url",
                        ),
                        rule(
                            "!has(self.url) || has(self.sha256)",
                            "spec.pretrained.sha256 is required with spec.pretrained.url",
                            ".sha256",
                        ),
                        rule(
                            "!has(self.url) || !has(self.volume)",
                            "spec.pretrained.volume cannot be used with spec.pretrained.url",
                            ".volume",
                        ),
                        rule(
                            "!has(self.checkpoint) || (has(self.volume) ? !self.checkpoint.startsWith('/') "
                            ": self.checkpoint.startsWith('/'))",
                            "spec.pretrained.checkpoint must be relative to the volume when "
                            "spec.pretrained.volume is set, and absolute otherwise",
                            ".checkpoint",
                        ),
                        rule(
                            "!has(self.checkpoint) || !self.checkpoint.contains('..')",
                            "spec.pretrained.checkpoint must not contain '..'",
                            ".checkpoint",
                        ),
                    ],
                }
            ),
            "output": immutable(
                {
                    "type": "object",
                    "description": "Where checkpoints and summary.json go; an emptyDir without `volume`.",
                    "default": {},
                    "properties": {
                        "path": str_(
                            "Checkpoint directory, relative to the output volume (at /mnt/output).",
                            default="checkpoint",
                            maxLength=1024,
                        ),
                        "volume": core_v1.schema("VolumeSource", "A core/v1 volume source for the outputs."),
                    },
                    "x-kubernetes-validations": [
                        rule(
                            "!has(self.path) || (!self.path.startsWith('/') && !self.path.contains('..'))",
                            "spec.output.path must be relative to /mnt/output and not contain '..'",
                            ".path",
                        )
                    ],
                }
            ),
            "hyperparameters": immutable(
                {
                    "type": "object",
                    "description": "The recipe's settings (r1.2 config keys in camelCase); unset keys keep "
                    "the recipe's per-platform defaults.",
                    "default": {},
                    "properties": dict(HYPERPARAMETERS),
                    "x-kubernetes-validations": [_pair_rule(*p) for p in hyperparameters.ORDERED_PAIRS],
                }
            ),
            "eval": {
                "type": "object",
                "description": "Evaluation after training (rank 0 reports the accuracy).",
                "default": {},
                "properties": {
                    "enabled": {"type": "boolean", "description": "Run eval.", "default": True},
                    "everyEpochs": int_(
                        "Also evaluate after every this many epochs (summary.json history); 0: only at "
                        "the end.",
                        0,
                        10000,
                        default=0,
                    ),
                },
            },
            "export": immutable(
                {
                    "type": "object",
                    "description": "Inference models rank 0 writes, with labels.json, into spec.output.path "
                    "after training.",
                    "default": {},
                    "properties": {
                        "formats": {
                            "type": "array",
                            "description": "`MINDIR` (MindSpore, dynamic batch) and/or `ONNX` (opset 11, "
                            "dynamic batch); empty: no export.",
                            "items": enum("A model format.", ["MINDIR", "ONNX"]),
                            "maxItems": 2,
                            "x-kubernetes-list-type": "set",
                        }
                    },
                }
            ),
            "communication": immutable(
                {
                    "type": "object",
                    "description": "How ranks find each other.",
                    "default": {},
                    "properties": {
                        "mode": enum(
                            "`auto`: rankTable on Ascend, dynamicCluster on GPU/CPU. rankTable: Ascend only.",
                            ["auto", "rankTable", "dynamicCluster"],
                            default="auto",
                        ),
                        "schedulerPort": int_(
                            "Port of the dynamic-cluster scheduler on worker 0 (MS_SCHED_PORT).",
                            1024,
                            65535,
                            default=8118,
                        ),
                        "timeoutSeconds": int_(
                            "Seconds the ranks may take to form the cluster (MS_TOPO_TIMEOUT; on Ascend "
                            "with rankTable the wait for the completed table); then the job restarts.",
                            1,
                            86400,
                            default=600,
                        ),
                    },
                }
            ),
            "shmSize": str_(
                "Size limit of the memory-backed emptyDir mounted at /dev/shm in every trainer pod "
                "(NCCL, data pipeline); counts against the pod's memory.",
                pattern=QUANTITY_PATTERN,
                default="2Gi",
            ),
            "ascend": {
                "type": "object",
                "description": "Ascend device plugin settings.",
                "default": {},
                "properties": {
                    "resourceName": enum(
                        "Extended resource the operator requests devicesPerWorker of: the MindX device "
                        "plugin's `huawei.com/Ascend910`, or `huawei.com/npu` of newer plugins.",
                        ["huawei.com/Ascend910", "huawei.com/npu"],
                        default="huawei.com/Ascend910",
                    ),
                },
            },
            "resources": core_v1.schema(
                "ResourceRequirements",
                "Container resources (core/v1 ResourceRequirements); the device request is added by the "
                "operator. Each request must not exceed its limit.",
            ),
            "nodeSelector": {
                "type": "object",
                "description": "Node labels the worker pods must match.",
                "maxProperties": MAX_LIST,
                "additionalProperties": {"type": "string", "maxLength": 63},
            },
            "tolerations": {
                "type": "array",
                "description": "Pod tolerations (core/v1 Toleration).",
                "maxItems": MAX_LIST,
                "items": core_v1.schema("Toleration"),
            },
            "affinity": core_v1.schema("Affinity", "Pod affinity (core/v1 Affinity)."),
            "priorityClassName": str_(
                "PriorityClass of the pods (and of the PodGroup).", **core_v1.SUBDOMAIN
            ),
            "schedulerName": str_(
                "Scheduler of the pods; `volcano` when scheduling.gang is volcano.", **core_v1.SUBDOMAIN
            ),
            "serviceAccountName": str_(
                "ServiceAccount of the pods (needs no API permissions).", **core_v1.SUBDOMAIN
            ),
            "env": {
                "type": "array",
                "description": "Extra container env (core/v1 EnvVar), appended after the operator's, "
                "e.g. NCCL_* settings. Names the operator or mnft launch set (MNFT_*, MS_SCHED_*, RANK_*, "
                "DEVICE_ID, CUDA_VISIBLE_DEVICES, ...) are refused, naming the setting to use instead.",
                "maxItems": MAX_LIST,
                "items": env_item_schema(),
            },
            "imagePullSecrets": {
                "type": "array",
                "description": "Secrets for pulling the image.",
                "maxItems": MAX_LIST,
                "items": core_v1.schema("LocalObjectReference", "A reference to a docker-registry Secret."),
            },
            **pod_override_properties(),
            "podSecurityContext": core_v1.schema(
                "PodSecurityContext",
                "Pod securityContext (core/v1 PodSecurityContext) merged over the operator's restricted "
                "defaults (runAsNonRoot, uid/gid/fsGroup 65532, seccomp RuntimeDefault), e.g. "
                "supplementalGroups for device files or another uid. Only values the Pod Security Standard "
                '"restricted" allows are accepted.',
            ),
            "securityContext": core_v1.schema(
                "SecurityContext",
                "Container securityContext (core/v1 SecurityContext) of the trainer and fetch-checkpoint "
                "containers, merged over the operator's restricted defaults (no privilege escalation, all "
                'capabilities dropped, runAsNonRoot). Only values the Pod Security Standard "restricted" '
                "allows are accepted.",
            ),
            "runPolicy": {
                "type": "object",
                "description": "Restarts, deadlines and clean-up.",
                "default": {},
                "properties": {
                    "backoffLimit": int_(
                        "Whole-job restarts allowed after retryable failures.", 0, 100, default=3
                    ),
                    "activeDeadlineSeconds": int_(
                        "Fail the job (DeadlineExceeded) after this many seconds.", 1
                    ),
                    "ttlSecondsAfterFinished": int_("Delete the finished job after this many seconds.", 0),
                    "cleanPodPolicy": enum(
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
                    "forceDeleteLostPodsAfterSeconds": int_(
                        "A worker pod still terminating this many seconds after its grace period ended, on "
                        "a node that is gone, NotReady or tainted node.kubernetes.io/unreachable, is "
                        "force-deleted (gracePeriodSeconds 0) so the restart can proceed; with the taint "
                        "node.kubernetes.io/out-of-service it is force-deleted at once.",
                        0,
                        86400,
                        default=60,
                    ),
                },
            },
            "scheduling": immutable(
                {
                    "type": "object",
                    "description": "Gang scheduling: the workers are scheduled all or none.",
                    "default": {},
                    "properties": {
                        "gang": enum(
                            "`volcano` creates a Volcano PodGroup `<job>` (minMember, minResources); "
                            "`kubernetes` creates a scheduling.k8s.io/v1beta1 PodGroup "
                            "`<job>-gang-<restarts>` per whole-job restart (gang policy; Kubernetes 1.37+ "
                            "with the GenericWorkload feature gate) and sets each pod's "
                            "spec.schedulingGroup; `none` schedules each pod alone.",
                            ["none", "volcano", "kubernetes"],
                            default="none",
                        ),
                        "queue": str_("Volcano queue of the PodGroup."),
                        "minAvailable": int_(
                            "PodGroup minMember (Volcano) or gang minCount (kubernetes); default: workers.",
                            1,
                            MAX_WORKERS,
                        ),
                    },
                }
            ),
        },
        "x-kubernetes-validations": [
            rule(
                "has(self.pretrained) == has(oldSelf.pretrained)",
                "spec.pretrained cannot be added or removed; delete and recreate the job",
                ".pretrained",
            ),
            *pod_override_rules(),
            rule(
                "self.platform != 'Ascend' || self.devicesPerWorker in [1, 2, 4, 8]",
                "spec.devicesPerWorker must be 1, 2, 4 or 8 on Ascend",
                ".devicesPerWorker",
            ),
            rule(
                "self.platform != 'Ascend' || self.workers == 1 || self.devicesPerWorker == 8",
                "spec.devicesPerWorker must be 8 on Ascend when spec.workers > 1",
                ".devicesPerWorker",
            ),
            rule(
                "!has(self.communication) || !has(self.communication.mode) || "
                "self.communication.mode != 'rankTable' || self.platform == 'Ascend'",
                "spec.communication.mode rankTable needs platform Ascend; use auto or dynamicCluster",
                ".communication.mode",
            ),
            rule(
                "!has(self.scheduling) || !has(self.scheduling.minAvailable) || "
                "self.scheduling.minAvailable <= self.workers",
                "spec.scheduling.minAvailable must not exceed spec.workers",
                ".scheduling.minAvailable",
            ),
        ],
    }


# ---- reserved env and pod overrides (reserved.py holds what the operator keeps for itself) ------------


def _cel(value: str) -> str:
    return json.dumps(value)  # a CEL string literal (double quotes, JSON escapes)


def _cel_list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(_cel(v) for v in values) + "]"


def env_item_schema() -> Schema:
    """A core/v1 EnvVar whose name is not one the operator or mnft launch sets."""
    item = core_v1.schema("EnvVar", "A core/v1 EnvVar (value or valueFrom).")
    fixes = (
        "{"
        + ", ".join(f"{_cel(k)}: {_cel(f'{who}; {fix}')}" for k, (who, fix) in reserved.RESERVED_ENV.items())
        + "}"
    )
    prefix = _cel(reserved.RESERVED_ENV_PREFIX)
    item["x-kubernetes-validations"] = [
        {
            "rule": f"!(self.name in {_cel_list(list(reserved.RESERVED_ENV))}) && "
            f"(!self.name.startsWith({prefix}) || self.name in {_cel_list(reserved.ALLOWED_MNFT_ENV)})",
            "message": "names a variable the operator or mnft launch sets (docs/architecture.md, "
            '"Pod environment rendered by the operator"); use the spec setting for it',
            "messageExpression": f'self.name in {fixes} ? self.name + " " + {fixes}[self.name] : '
            f"self.name + {_cel(': ' + reserved.PREFIX_FIX)}",
            "fieldPath": ".name",
        }
    ]
    return item


# apimachinery's TotalAnnotationSizeLimitB, less room for the operator's own annotations.
ANNOTATION_TOTAL_LIMIT = 256 * 1024 - 1024


def _key_rule(field: str, keys: tuple[str, ...], prefixes: tuple[str, ...]) -> Schema:
    # A map key takes no maxLength, so a cost estimator sizes it by the request: only `startsWith` with a
    # constant (its cost is the constant's length) and `size` (constant cost) touch the keys, an exact key
    # being a prefix of the same size. The qualified-name format is left to spec.validate.
    bad = " || ".join(
        [
            *(f"k.startsWith({_cel(p)})" for p in prefixes),
            *(f"(k.startsWith({_cel(k)}) && size(k) == {len(k)})" for k in keys),
        ]
    )
    shown = ", ".join([*(f"{p}*" for p in prefixes), *keys])
    return {
        "rule": f"!self.exists(k, {bad})",
        "message": f"{field} must not set the operator's keys ({shown}); use another key",
        "messageExpression": f"{_cel(field + ' must not set ')} + self.filter(k, {bad})[0] + "
        f"{_cel(f': the operator sets it (reserved: {shown}); use another key')}",
    }


def pod_override_properties() -> dict[str, Schema]:
    """spec.volumes, volumeMounts, podLabels, podAnnotations, runtimeClassName."""
    volume = core_v1.schema("Volume", "A core/v1 Volume (a name plus exactly one volume source).")
    names = _cel_list(reserved.VOLUME_NAMES)
    volume["x-kubernetes-validations"] = [
        {
            "rule": f"!(self.name in {names})",
            "message": f"the volume names {', '.join(reserved.VOLUME_NAMES)} are the operator's; "
            "pick another name",
            "messageExpression": f"{_cel('the volume name ')} + self.name + {_cel(reserved.VOLUME_NAME_FIX)}",
            "fieldPath": ".name",
        }
    ]
    mount = core_v1.schema("VolumeMount", "A core/v1 VolumeMount of one of spec.volumes.")
    checks = " && ".join(
        f"self.mountPath != {_cel(p)} && !self.mountPath.startsWith({_cel(p + '/')}) && "
        f"!{_cel(p)}.startsWith(self.mountPath.endsWith('/') ? self.mountPath : self.mountPath + '/')"
        for p in reserved.MOUNT_PATHS
    )
    mount["x-kubernetes-validations"] = [
        rule("self.mountPath.startsWith('/')", "must be an absolute path", ".mountPath"),
        rule(
            checks,
            "must not be at, under or above the operator's mounts "
            f"({', '.join(reserved.MOUNT_PATHS)}); mount it elsewhere",
            ".mountPath",
        ),
        rule(
            "!has(self.subPath) || (!self.subPath.startsWith('/') && "
            "!self.subPath.matches('(^|/)[.][.](/|$)'))",
            "must be a relative path without '..'",
            ".subPath",
        ),
    ]
    strings = {"type": "object", "maxProperties": MAX_LIST}
    return {
        "volumes": {
            "type": "array",
            "description": "Extra pod volumes (core/v1 Volume) for spec.volumeMounts; hostPath only with the "
            "operator's --allow-host-path. Names must not be the operator's: "
            f"{', '.join(reserved.VOLUME_NAMES)}.",
            "maxItems": MAX_LIST,
            "items": volume,
            "x-kubernetes-validations": [
                rule(
                    "self.all(v, self.exists_one(w, w.name == v.name))",
                    "spec.volumes names must be unique",
                )
            ],
        },
        "volumeMounts": {
            "type": "array",
            "description": "Extra volumeMounts (core/v1 VolumeMount) of the trainer container, each of a "
            "volume in spec.volumes, away from the operator's mounts "
            f"({', '.join(reserved.MOUNT_PATHS)}).",
            "maxItems": MAX_LIST,
            "items": mount,
            "x-kubernetes-validations": [
                rule(
                    "self.all(m, self.exists_one(n, n.mountPath == m.mountPath))",
                    "spec.volumeMounts mountPaths must be unique",
                )
            ],
        },
        "podLabels": {
            **strings,
            "description": "Extra labels of the worker pods (not the operator's: "
            f"{', '.join([*(p + '*' for p in reserved.LABEL_PREFIXES), *reserved.LABEL_KEYS])}).",
            "additionalProperties": {"type": "string", "maxLength": 63, "pattern": core_v1.LABEL_VALUE},
            "x-kubernetes-validations": [
                _key_rule("spec.podLabels", reserved.LABEL_KEYS, reserved.LABEL_PREFIXES)
            ],
        },
        "podAnnotations": {
            **strings,
            "description": "Extra annotations of the worker pods (not the operator's: "
            f"{', '.join([*(p + '*' for p in reserved.ANNOTATION_PREFIXES), *reserved.ANNOTATION_KEYS])}); "
            f"keys and values at most {ANNOTATION_TOTAL_LIMIT} bytes in all.",
            "additionalProperties": {"type": "string", "maxLength": ANNOTATION_TOTAL_LIMIT},
            "x-kubernetes-validations": [
                _key_rule("spec.podAnnotations", reserved.ANNOTATION_KEYS, reserved.ANNOTATION_PREFIXES)
            ],
        },
        "runtimeClassName": str_(
            "RuntimeClass of the worker pods (e.g. `nvidia` or `ascend`).", **core_v1.SUBDOMAIN
        ),
    }


def pod_override_rules() -> list[Schema]:
    """Spec-level rules of the pod overrides: each volumeMount names one of spec.volumes."""
    return [
        rule(
            "!has(self.volumeMounts) || self.volumeMounts.all(m, has(self.volumes) && "
            "self.volumes.exists(v, v.name == m.name))",
            "spec.volumeMounts must each name a volume of spec.volumes",
            ".volumeMounts",
        )
    ]
