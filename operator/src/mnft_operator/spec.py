"""Parse and validate a MobileNetFineTune into a frozen dataclass tree.

`validate(job)` returns every problem as a SpecError naming the field and the fix; `parse(job)` returns a
`Job` or raises `InvalidSpec`. Defaults, types, enums and bounds come from walking `crd.spec_schema()` (the
API server's own defaulting, so the operator sees what a cluster stores); `cross_field_errors` re-checks each
CEL rule of the CRD in Python because a cluster may lack CEL. The transition rules (`self == oldSelf`) need
the old object and are left to the API server.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mnft_operator import crd
from mnft_operator.schema_walk import check, with_defaults

PLATFORMS = ("Ascend", "GPU", "CPU")
RANK_TABLE = "rankTable"
DYNAMIC_CLUSTER = "dynamicCluster"


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


@dataclass(frozen=True)
class Scheduling:
    gang: str  # "none" | "volcano"
    queue: str | None
    min_available: int  # defaults to workers


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
    run_policy: RunPolicy
    scheduling: Scheduling

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
    return with_defaults(spec if isinstance(spec, dict) else {}, _spec_schema())


def validate(job: Mapping[str, Any]) -> list[SpecError]:
    """Every problem with the resource, each naming its field and the fix; empty when valid."""
    errors = [SpecError(f, m) for f, m in _name_errors(job)]
    raw = job.get("spec")
    if not isinstance(raw, dict):
        return [*errors, SpecError("spec", "is required: add a spec with platform, image and dataset")]
    spec = defaulted_spec(job)
    structural = [SpecError(f, m) for f, m in check(spec, _spec_schema(), "spec")]
    if structural:
        return errors + structural
    more = cross_field_errors(spec) + volume_source_errors(spec)
    return errors + [SpecError(f, m) for f, m in more]


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
    for parent in ("dataset", "pretrained", "output"):
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
    hp = spec.get("hyperparameters", {})
    if "warmupEpochs" in hp and "epochSize" in hp and hp["warmupEpochs"] > hp["epochSize"]:
        out.append(("spec.hyperparameters.warmupEpochs", "must not exceed epochSize"))
    if "lrEnd" in hp and "lrMax" in hp and hp["lrEnd"] > hp["lrMax"]:
        out.append(("spec.hyperparameters.lrEnd", "must not exceed lrMax"))
    for low, high in (("cropScaleMin", "cropScaleMax"), ("cropRatioMin", "cropRatioMax")):
        if low in hp and high in hp and hp[low] > hp[high]:
            out.append((f"spec.hyperparameters.{low}", f"must not exceed {high}"))
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


def parse(job: Mapping[str, Any]) -> Job:
    """The validated, defaulted job; raises InvalidSpec listing every problem."""
    errors = validate(job)
    if errors:
        raise InvalidSpec(errors)
    meta = job["metadata"]
    s = defaulted_spec(job)
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
        run_policy=RunPolicy(
            backoff_limit=run["backoffLimit"],
            active_deadline_seconds=run.get("activeDeadlineSeconds"),
            ttl_seconds_after_finished=run.get("ttlSecondsAfterFinished"),
            clean_pod_policy=run["cleanPodPolicy"],
            suspend=run["suspend"],
        ),
        scheduling=Scheduling(
            gang=sched["gang"],
            queue=sched.get("queue"),
            min_available=sched.get("minAvailable", s["workers"]),
        ),
    )
    return Job(
        name=meta["name"], namespace=meta.get("namespace") or "default", uid=meta.get("uid", ""), spec=spec
    )
