"""Parse and validate a MobileNetFineTune into a frozen dataclass tree.

`validate(job)` returns every problem as a SpecError naming the field and the fix; `parse(job)` returns a
`Job` or raises `InvalidSpec`. Defaults, types, enums and bounds come from walking `crd.spec_schema()` with
`kube_schema.structural`, worded by `schema_messages` (the API server's own defaulting, applied once per
parse, so the operator sees what a cluster stores); `cross_field_errors` re-checks each
CEL rule of the CRD in Python because a cluster may lack CEL. The transition rules (`self == oldSelf`) need
the old object and are left to the API server.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kube_schema import quantity, structural
from mnft_contract import hyperparameters
from mnft_contract.env import DYNAMIC_CLUSTER as DYNAMIC_CLUSTER  # the resolved communication modes
from mnft_contract.env import RANK_TABLE as RANK_TABLE
from mnft_operator import core_v1, crd, crd_spec, reserved, schema_messages

PLATFORMS = ("Ascend", "GPU", "CPU")


@dataclass(frozen=True)
class SpecError:
    field: str  # e.g. "spec.workers"
    message: str  # what is wrong and how to fix it

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidSpec(ValueError):
    def __init__(self, errors: list[SpecError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class DataSource:
    """A path plus the optional core/v1 volume source holding it (None: the path is absolute)."""

    path: str
    volume: Mapping[str, Any] | None


@dataclass(frozen=True)
class Pretrained:
    checkpoint: str | None
    volume: Mapping[str, Any] | None
    url: str | None
    sha256: str | None
    freeze_layer: str  # "none" | "backbone"
    filter_head: bool = False


@dataclass(frozen=True)
class RunPolicy:
    backoff_limit: int
    active_deadline_seconds: int | None
    ttl_seconds_after_finished: int | None
    clean_pod_policy: str  # "Running" | "All" | "None"
    suspend: bool
    force_delete_lost_pods_after_seconds: int = 60


KUEUE_QUEUE_LABEL = "kueue.x-k8s.io/queue-name"  # on the MobileNetFineTune: admit it through Kueue


@dataclass(frozen=True)
class Scheduling:
    gang: str  # "none" | "volcano" | "kubernetes"
    queue: str | None
    min_available: int  # defaults to workers
    kueue_queue: str | None = None  # the job's kueue.x-k8s.io/queue-name label: Kueue's pod-group integration


@dataclass(frozen=True)
class FineTuneSpec:
    platform: str
    image: str
    workers: int
    devices_per_worker: int
    dataset: DataSource
    pretrained: Pretrained | None
    output: DataSource
    hyperparameters: tuple[tuple[str, int | float | bool], ...]  # (camelCase key, value), schema order
    eval_enabled: bool
    comm_mode: str  # resolved: "rankTable" | "dynamicCluster"
    scheduler_port: int
    resources: Mapping[str, Any]
    node_selector: Mapping[str, str]
    tolerations: tuple[Mapping[str, Any], ...]
    affinity: Mapping[str, Any] | None
    priority_class_name: str | None
    scheduler_name: str | None
    service_account_name: str | None
    env: tuple[Mapping[str, Any], ...]
    image_pull_secrets: tuple[Mapping[str, Any], ...]
    pod_security_context: Mapping[str, Any]  # the user's, merged over the restricted defaults by builders
    security_context: Mapping[str, Any]  # likewise, for every container
    run_policy: RunPolicy
    scheduling: Scheduling
    topology_timeout_s: int = 600  # communication.timeoutSeconds
    shm_size: str = "2Gi"
    ascend_resource: str = "huawei.com/Ascend910"  # ascend.resourceName
    eval_every_epochs: int = 0
    export_formats: tuple[str, ...] = ()  # "MINDIR", "ONNX"
    # pod overrides (spec.volumes, volumeMounts, podLabels, podAnnotations, runtimeClassName)
    volumes: tuple[Mapping[str, Any], ...] = ()
    volume_mounts: tuple[Mapping[str, Any], ...] = ()
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    pod_annotations: Mapping[str, str] = field(default_factory=dict)
    runtime_class_name: str | None = None

    @property
    def world_size(self) -> int:
        return self.workers * self.devices_per_worker


@dataclass(frozen=True)
class Job:
    """The resource's identity plus its parsed spec: everything the builders need."""

    name: str
    namespace: str
    uid: str
    spec: FineTuneSpec


@functools.cache
def _spec_schema() -> Mapping[str, Any]:
    """`crd.spec_schema()` built once: every reconcile defaults and checks against it (read only)."""
    return crd.spec_schema()


def defaulted_spec(job: Mapping[str, Any]) -> dict[str, Any]:
    """The job's spec with the CRD's defaults applied (what the API server stores)."""
    spec = job.get("spec")
    defaulted: dict[str, Any] = structural.apply_defaults(
        _spec_schema(), spec if isinstance(spec, dict) else {}
    )
    return defaulted


def validate(job: Mapping[str, Any], allow_host_path: bool = False) -> list[SpecError]:
    """Every problem with the resource, each naming its field and the fix; empty when valid.

    `allow_host_path`: the operator was started with --allow-host-path (hostPath volume sources pass).
    """
    return _checked(job, allow_host_path)[0]


def _checked(job: Mapping[str, Any], allow_host_path: bool) -> tuple[list[SpecError], dict[str, Any]]:
    """`validate`'s errors and the defaulted spec they were found in (empty when there is no spec)."""
    errors = [SpecError(f, m) for f, m in _name_errors(job)]
    raw = job.get("spec")
    if not isinstance(raw, dict):
        return [*errors, SpecError("spec", "is required: add a spec with platform, image and dataset")], {}
    non_finite = [SpecError(f, m) for f, m in non_finite_numbers(raw, "spec")]
    if non_finite:
        return errors + non_finite, {}
    spec = defaulted_spec(job)
    found = structural.violations(_spec_schema(), spec, path="spec", options=schema_messages.OPTIONS)
    structural_errors = [
        SpecError(v.path, _restricted_hint(v.path, schema_messages.message(v))) for v in found
    ]
    if structural_errors:
        return errors + structural_errors, spec
    more = cross_field_errors(spec) + volume_source_errors(spec) + resource_errors(spec)
    more += reserved_env_errors(spec) + pod_override_errors(spec)
    if not allow_host_path:
        more += host_path_errors(spec)
    return errors + [SpecError(f, m) for f, m in more], spec


def _restricted_hint(field: str, message: str) -> str:
    if field.startswith(("spec.securityContext.", "spec.podSecurityContext.")):
        return f'{message} (only what the Pod Security Standard "restricted" allows is accepted)'
    return message


def non_finite_numbers(value: Any, path: str) -> list[tuple[str, str]]:
    """NaN and infinities anywhere under `value` (YAML `.nan`, `.inf`): JSON cannot carry them."""
    if isinstance(value, float) and not math.isfinite(value):
        return [(path, f"must be a finite number, not {value} (JSON has no NaN or Infinity)")]
    if isinstance(value, Mapping):
        return [e for k, v in value.items() for e in non_finite_numbers(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [e for i, v in enumerate(value) for e in non_finite_numbers(v, f"{path}[{i}]")]
    return []


VOLUME_FIELDS = ("dataset", "pretrained", "output")  # every spec field holding a core/v1 volume source
HOST_PATH_FIX = (
    "hostPath volumes are not allowed: they expose the node's filesystem to the job; use a "
    "persistentVolumeClaim (or another volume source), or start the operator with --allow-host-path "
    "(chart value security.allowHostPath)"
)


def host_path_errors(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """hostPath volume sources, refused unless the operator allows them (a CRD cannot know that flag)."""
    return [
        (f"spec.{parent}.volume.hostPath", HOST_PATH_FIX)
        for parent in VOLUME_FIELDS
        if "hostPath" in ((spec.get(parent) or {}).get("volume") or {})
    ] + [
        (f"spec.volumes[{i}].hostPath", HOST_PATH_FIX)
        for i, volume in enumerate(spec.get("volumes") or ())
        if "hostPath" in volume
    ]


def resource_errors(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Each request at most its limit (what pod validation checks; a schema cannot compare quantities)."""
    resources = spec.get("resources") or {}
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
    out = []
    for name, request in requests.items():
        if name not in limits:
            continue
        try:
            below = quantity.parse(limits[name])[0] < quantity.parse(request)[0]
        except quantity.QuantityError:
            continue  # the schema's pattern already named it
        if below:
            out.append(
                (
                    f"spec.resources.requests.{name}",
                    f"must be less than or equal to the limit spec.resources.limits.{name} "
                    f"({limits[name]}); raise the limit or lower the request",
                )
            )
    return out


def _name_errors(job: Mapping[str, Any]) -> list[tuple[str, str]]:
    name = (job.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not name:
        return [("metadata.name", "is required")]
    if len(name) > crd.MAX_NAME_LENGTH:
        return [("metadata.name", f"must be at most {crd.MAX_NAME_LENGTH} characters; pick a shorter name")]
    if not re.match(crd.NAME_PATTERN, name):
        return [("metadata.name", "must be lowercase letters, digits and '-', starting with a letter")]
    return []


def _path_error(field: str, path: str, has_volume: bool, volume_field: str) -> tuple[str, str] | None:
    if ".." in path:
        return (field, "must not contain '..'")
    if has_volume and path.startswith("/"):
        return (field, f"must be relative to the volume when {volume_field} is set (drop the leading '/')")
    if not has_volume and not path.startswith("/"):
        return (field, f"must be an absolute path when {volume_field} is not set (or set {volume_field})")
    return None


def volume_source_errors(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Each given volume must name exactly one core/v1 volume source (checked here only, not by CEL)."""
    out = []
    for parent in VOLUME_FIELDS:
        volume = (spec.get(parent) or {}).get("volume")
        if volume is None:
            continue
        sources = [k for k in volume if k != "name"]
        if len(sources) != 1:
            found = ", ".join(sources) or "none"
            out.append(
                (
                    f"spec.{parent}.volume",
                    f"must hold exactly one volume source such as persistentVolumeClaim (found {found})",
                )
            )
    return out


def reserved_env_errors(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """spec.env names the operator or mnft launch sets (the CRD's CEL rule on spec.env[*].name)."""
    out = []
    for i, var in enumerate(spec.get("env") or ()):
        message = reserved.env_error(var["name"])
        if message is not None:
            out.append((f"spec.env[{i}].name", message))
    return out


# apimachinery's IsQualifiedName: [DNS-subdomain prefix '/'] name (63, alphanumeric at both ends).
_QUALIFIED_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_QUALIFIED_FIX = (
    "must be a qualified name: an optional DNS-subdomain prefix and '/', then at most 63 letters, digits, "
    "'-', '_' or '.', starting and ending with a letter or digit"
)


def _qualified_name(key: str, lower_prefix: bool = False) -> bool:
    prefix, slash, name = key.rpartition("/")
    if lower_prefix:  # apimachinery checks annotation keys lower-cased
        prefix = prefix.lower()
    if slash and (len(prefix) > 253 or not re.match(core_v1.DNS_SUBDOMAIN, prefix)):
        return False
    return bool(_QUALIFIED_NAME.match(name))


def pod_override_errors(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The pod overrides' CEL rules in Python, plus what no CRD rule says: exactly one source per volume,
    label/annotation key format, the annotations' total size, '//' in a mount path."""
    return _extra_volume_errors(spec) + _extra_mount_errors(spec) + _pod_metadata_errors(spec)


def _extra_volume_errors(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, volume in enumerate(spec.get("volumes") or ()):
        name = volume["name"]
        if name in reserved.VOLUME_NAMES:
            out.append((f"spec.volumes[{i}].name", reserved.volume_name_error(name)))
        if name in seen:
            out.append(("spec.volumes", f"spec.volumes[{i}].name {name} is used twice; names must be unique"))
        seen.add(name)
        sources = [k for k in volume if k != "name"]
        if len(sources) != 1:
            found = ", ".join(sources) or "none"
            message = f"must hold exactly one volume source such as persistentVolumeClaim (found {found})"
            out.append((f"spec.volumes[{i}]", message))
    return out


def _extra_mount_errors(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    volumes = {v["name"] for v in spec.get("volumes") or ()}
    paths: set[str] = set()
    for i, mount in enumerate(spec.get("volumeMounts") or ()):
        field = f"spec.volumeMounts[{i}]"
        if mount["name"] not in volumes:
            message = f"{field} mounts {mount['name']}, which is not in spec.volumes; add it there"
            out.append(("spec.volumeMounts", message))
        problem = reserved.mount_path_error(mount["mountPath"])
        if problem is not None:
            out.append((f"{field}.mountPath", problem))
        normal = mount["mountPath"].rstrip("/") or "/"
        if normal in paths:
            out.append((f"{field}.mountPath", f"{normal} is mounted twice; mount paths must be unique"))
        paths.add(normal)
        sub = mount.get("subPath", "")
        if sub.startswith("/") or ".." in sub.split("/"):
            out.append((f"{field}.subPath", "must be a relative path without '..'"))
    return out


def _pod_metadata_errors(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, keys, prefixes in (
        ("podLabels", reserved.LABEL_KEYS, reserved.LABEL_PREFIXES),
        ("podAnnotations", reserved.ANNOTATION_KEYS, reserved.ANNOTATION_PREFIXES),
    ):
        for key in spec.get(name) or {}:
            if not _qualified_name(key, lower_prefix=name == "podAnnotations"):
                out.append((f"spec.{name}", f"key {key!r} {_QUALIFIED_FIX}"))
                continue
            problem = reserved.metadata_key_error(key, keys, prefixes)
            if problem is not None:
                out.append((f"spec.{name}", problem))
    annotations = spec.get("podAnnotations") or {}
    total = sum(len(k.encode()) + len(v.encode()) for k, v in annotations.items())
    if total > crd_spec.ANNOTATION_TOTAL_LIMIT:
        message = (
            f"keys and values total {total} bytes; at most {crd_spec.ANNOTATION_TOTAL_LIMIT} (Kubernetes' "
            "256 KiB less 1 KiB for the operator's own annotations): move large data into a ConfigMap"
        )
        out.append(("spec.podAnnotations", message))
    return out


def cross_field_errors(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The CRD's CEL rules, in Python; `spec` must already be defaulted and structurally valid."""
    out: list[tuple[str, str]] = []
    platform, workers, devices = spec["platform"], spec["workers"], spec["devicesPerWorker"]
    if platform == "Ascend" and devices not in (1, 2, 4, 8):
        out.append(("spec.devicesPerWorker", "must be 1, 2, 4 or 8 on Ascend"))
    if platform == "Ascend" and workers > 1 and devices != 8:
        out.append(("spec.devicesPerWorker", "must be 8 on Ascend when spec.workers > 1"))
    if spec["communication"].get("mode") == RANK_TABLE and platform != "Ascend":
        out.append(("spec.communication.mode", "rankTable needs platform Ascend; use auto or dynamicCluster"))
    min_available = spec["scheduling"].get("minAvailable")
    if min_available is not None and min_available > workers:
        out.append(("spec.scheduling.minAvailable", f"must not exceed spec.workers ({workers})"))
    dataset = spec["dataset"]
    err = _path_error("spec.dataset.path", dataset["path"], "volume" in dataset, "spec.dataset.volume")
    if err:
        out.append(err)
    out += _pretrained_errors(spec.get("pretrained"))
    out_path = spec["output"].get("path", "")
    if out_path.startswith("/") or ".." in out_path:
        out.append(("spec.output.path", "must be relative to /mnt/output and not contain '..'"))
    out += _device_resource_errors(spec)
    hp = spec.get("hyperparameters", {})
    for low, high in hyperparameters.ORDERED_PAIRS:
        problem = hyperparameters.pair_error(hp, low, high)
        if problem is not None:
            out.append((f"spec.hyperparameters.{low}", problem))
    return out


ASCEND_RESOURCES = ("huawei.com/Ascend910", "huawei.com/npu")


def _device_resource_errors(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The operator requests the Ascend chips itself: one named in spec.resources would be requested
    beside (or instead of) spec.ascend.resourceName."""
    chosen = spec["ascend"]["resourceName"]
    out = []
    for kind in ("limits", "requests"):
        for name in (spec.get("resources") or {}).get(kind) or {}:
            if name in ASCEND_RESOURCES:
                fix = (
                    f"set spec.ascend.resourceName: {name}"
                    if name != chosen
                    else "remove it (spec.devicesPerWorker sets the count)"
                )
                out.append(
                    (
                        f"spec.resources.{kind}[{name}]",
                        "the operator requests spec.devicesPerWorker of spec.ascend.resourceName "
                        f"({chosen}); {fix}",
                    )
                )
    return out


def _pretrained_errors(pre: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    if pre is None:
        return []
    out: list[tuple[str, str]] = []
    if ("checkpoint" in pre) == ("url" in pre):
        out.append(
            ("spec.pretrained", "set exactly one of spec.pretrained.checkpoint and spec.pretrained.url")
        )
    if "url" in pre and "sha256" not in pre:
        out.append(
            ("spec.pretrained.sha256", "is required with spec.pretrained.url (64 lowercase hex digits)")
        )
    if "url" in pre and "volume" in pre:
        out.append(("spec.pretrained.volume", "cannot be used with spec.pretrained.url; remove one"))
    if "checkpoint" in pre:
        err = _path_error(
            "spec.pretrained.checkpoint", pre["checkpoint"], "volume" in pre, "spec.pretrained.volume"
        )
        if err:
            out.append(err)
    return out


def parse(job: Mapping[str, Any], allow_host_path: bool = False) -> Job:
    """The validated, defaulted job; raises InvalidSpec listing every problem."""
    errors, s = _checked(job, allow_host_path)
    if errors:
        raise InvalidSpec(errors)
    meta = job["metadata"]
    pre = s.get("pretrained")
    mode = s["communication"]["mode"]
    if mode == "auto":
        mode = RANK_TABLE if s["platform"] == "Ascend" else DYNAMIC_CLUSTER
    hp = s.get("hyperparameters", {})
    run = s["runPolicy"]
    sched = s["scheduling"]
    spec = FineTuneSpec(
        platform=s["platform"],
        image=s["image"],
        workers=s["workers"],
        devices_per_worker=s["devicesPerWorker"],
        dataset=DataSource(s["dataset"]["path"], s["dataset"].get("volume")),
        pretrained=None
        if pre is None
        else Pretrained(
            checkpoint=pre.get("checkpoint"),
            volume=pre.get("volume"),
            url=pre.get("url"),
            sha256=pre.get("sha256"),
            freeze_layer=pre["freezeLayer"],
            filter_head=bool(pre.get("filterHead", False)),
        ),
        output=DataSource(s["output"]["path"], s["output"].get("volume")),
        hyperparameters=tuple((k, hp[k]) for k in crd.HYPERPARAMETERS if k in hp),
        eval_enabled=s["eval"]["enabled"],
        comm_mode=mode,
        scheduler_port=s["communication"]["schedulerPort"],
        resources=s.get("resources", {}),
        node_selector=s.get("nodeSelector", {}),
        tolerations=tuple(s.get("tolerations", ())),
        affinity=s.get("affinity"),
        priority_class_name=s.get("priorityClassName"),
        scheduler_name=s.get("schedulerName"),
        service_account_name=s.get("serviceAccountName"),
        env=tuple(s.get("env", ())),
        image_pull_secrets=tuple(s.get("imagePullSecrets", ())),
        pod_security_context=s.get("podSecurityContext", {}),
        security_context=s.get("securityContext", {}),
        run_policy=RunPolicy(
            backoff_limit=run["backoffLimit"],
            active_deadline_seconds=run.get("activeDeadlineSeconds"),
            ttl_seconds_after_finished=run.get("ttlSecondsAfterFinished"),
            clean_pod_policy=run["cleanPodPolicy"],
            suspend=run["suspend"],
            force_delete_lost_pods_after_seconds=run["forceDeleteLostPodsAfterSeconds"],
        ),
        scheduling=Scheduling(
            gang=sched["gang"],
            queue=sched.get("queue"),
            min_available=sched.get("minAvailable", s["workers"]),
            kueue_queue=(meta.get("labels") or {}).get(KUEUE_QUEUE_LABEL) or None,
        ),
        topology_timeout_s=s["communication"]["timeoutSeconds"],
        shm_size=s["shmSize"],
        ascend_resource=s["ascend"]["resourceName"],
        eval_every_epochs=s["eval"]["everyEpochs"],
        export_formats=tuple(s["export"].get("formats", ())),
        volumes=tuple(s.get("volumes", ())),
        volume_mounts=tuple(s.get("volumeMounts", ())),
        pod_labels=dict(s.get("podLabels", {})),
        pod_annotations=dict(s.get("podAnnotations", {})),
        runtime_class_name=s.get("runtimeClassName"),
    )
    return Job(
        name=meta["name"], namespace=meta.get("namespace") or "default", uid=meta.get("uid", ""), spec=spec
    )
