"""spec.validate / spec.parse: defaults from the CRD, every structural and cross-field rule, field names."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from mnft_operator.spec import InvalidSpec, SpecError, parse, validate

VALID: dict[str, Any] = {
    "apiVersion": "finetune.mindspore.io/v1alpha1",
    "kind": "MobileNetFineTune",
    "metadata": {"name": "flowers", "namespace": "ml"},
    "spec": {"platform": "CPU", "image": "mnft:0.1", "dataset": {"path": "/data"}},
}


def with_spec(**changes: Any) -> dict[str, Any]:
    job = copy.deepcopy(VALID)
    job["spec"].update(changes)
    return job


def fields(job: dict[str, Any]) -> list[str]:
    return [e.field for e in validate(job)]


def test_minimal_job_gets_the_crd_defaults() -> None:
    spec = parse(VALID).spec
    assert (spec.workers, spec.devices_per_worker, spec.comm_mode, spec.scheduler_port) == (
        1,
        1,
        "dynamicCluster",
        8118,
    )
    assert (spec.output.path, spec.output.volume, spec.eval_enabled, spec.pretrained) == (
        "checkpoint",
        None,
        True,
        None,
    )
    rp = spec.run_policy
    assert (rp.backoff_limit, rp.clean_pod_policy, rp.suspend, rp.active_deadline_seconds) == (
        3,
        "Running",
        False,
        None,
    )
    assert (spec.scheduling.gang, spec.scheduling.min_available) == ("none", 1)
    assert spec.hyperparameters == ()


def test_ascend_auto_resolves_to_rank_table() -> None:
    job = with_spec(platform="Ascend", workers=2, devicesPerWorker=8)
    assert parse(job).spec.comm_mode == "rankTable"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"platform": "TPU"}, [SpecError("spec.platform", "must be one of Ascend, GPU, CPU, not 'TPU'")]),
        ({"image": ""}, [SpecError("spec.image", "must not be empty")]),
        ({"workers": 0}, [SpecError("spec.workers", "must be at least 1, not 0")]),
        ({"workers": "2"}, [SpecError("spec.workers", "must be an integer, not the string '2'")]),
        ({"workers": True}, [SpecError("spec.workers", "must be an integer, not a boolean")]),
        ({"workrs": 2}, [SpecError("spec.workrs", "unknown field; did you mean workers?")]),
        ({"dataset": {}}, [SpecError("spec.dataset.path", "is required")]),
        (
            {"hyperparameters": {"epochSize": 0}},
            [SpecError("spec.hyperparameters.epochSize", "must be at least 1, not 0")],
        ),
        (
            {"hyperparameters": {"batchSize": -4}},
            [SpecError("spec.hyperparameters.batchSize", "must be at least 1, not -4")],
        ),
        (
            {"hyperparameters": {"lrMax": 0}},
            [SpecError("spec.hyperparameters.lrMax", "must be greater than 0, not 0")],
        ),
        (
            {"hyperparameters": {"labelSmooth": 1}},
            [SpecError("spec.hyperparameters.labelSmooth", "must be less than 1, not 1")],
        ),
        (
            {"pretrained": {"url": "ftp://x", "sha256": "ABC"}},
            [
                SpecError("spec.pretrained.url", "must match ^https?://, not 'ftp://x'"),
                SpecError("spec.pretrained.sha256", "must match ^[0-9a-f]{64}$, not 'ABC'"),
            ],
        ),
        (
            {"runPolicy": {"cleanPodPolicy": "Some"}},
            [SpecError("spec.runPolicy.cleanPodPolicy", "must be one of Running, All, None, not 'Some'")],
        ),
        (
            {"runPolicy": {"backoffLimit": 101}},
            [SpecError("spec.runPolicy.backoffLimit", "must be at most 100, not 101")],
        ),
        (
            {"resources": {"limits": {"cpu": 1.5}}},
            [SpecError("spec.resources.limits.cpu", "must be an integer or a string such as 500m or 4Gi")],
        ),
        ({"env": [{"value": "x"}]}, [SpecError("spec.env[0].name", "is required")]),
    ],
)
def test_structural_rules(changes: dict[str, Any], expected: list[SpecError]) -> None:
    assert validate(with_spec(**changes)) == expected


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"platform": "Ascend", "devicesPerWorker": 3}, "spec.devicesPerWorker", "1, 2, 4 or 8 on Ascend"),
        ({"platform": "Ascend", "workers": 2, "devicesPerWorker": 4}, "spec.devicesPerWorker", "must be 8"),
        ({"communication": {"mode": "rankTable"}}, "spec.communication.mode", "needs platform Ascend"),
        (
            {"workers": 2, "scheduling": {"minAvailable": 3}},
            "spec.scheduling.minAvailable",
            "must not exceed",
        ),
        ({"dataset": {"path": "relative"}}, "spec.dataset.path", "absolute path"),
        (
            {"dataset": {"path": "/abs", "volume": {"emptyDir": {}}}},
            "spec.dataset.path",
            "relative to the volume",
        ),
        ({"dataset": {"path": "/a/../b"}}, "spec.dataset.path", "'..'"),
        ({"pretrained": {"freezeLayer": "backbone"}}, "spec.pretrained", "exactly one"),
        (
            {"pretrained": {"checkpoint": "/c.ckpt", "url": "https://x/c", "sha256": "0" * 64}},
            "spec.pretrained",
            "exactly one",
        ),
        ({"pretrained": {"url": "https://x/c"}}, "spec.pretrained.sha256", "is required"),
        (
            {"pretrained": {"url": "https://x/c", "sha256": "0" * 64, "volume": {"emptyDir": {}}}},
            "spec.pretrained.volume",
            "cannot be used",
        ),
        ({"pretrained": {"checkpoint": "c.ckpt"}}, "spec.pretrained.checkpoint", "absolute path"),
        ({"output": {"path": "/abs"}}, "spec.output.path", "relative to /mnt/output"),
        (
            {"hyperparameters": {"warmupEpochs": 5, "epochSize": 2}},
            "spec.hyperparameters.warmupEpochs",
            "epochSize",
        ),
        ({"hyperparameters": {"lrEnd": 0.5, "lrMax": 0.1}}, "spec.hyperparameters.lrEnd", "lrMax"),
    ],
)
def test_cross_field_rules(changes: dict[str, Any], field: str, fragment: str) -> None:
    errors = validate(with_spec(**changes))
    assert [e.field for e in errors] == [field]
    assert fragment in errors[0].message


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("Flowers", "lowercase"),
        ("1job", "starting with a letter"),
        ("a" * 52, "at most 51"),
        ("", "required"),
    ],
)
def test_metadata_name(name: str, fragment: str) -> None:
    job = copy.deepcopy(VALID)
    job["metadata"]["name"] = name
    errors = validate(job)
    assert [e.field for e in errors] == ["metadata.name"]
    assert fragment in errors[0].message


def test_missing_spec_and_parse_raises_with_every_error() -> None:
    assert validate({"metadata": {"name": "x"}}) == [
        SpecError("spec", "is required: add a spec with platform, image and dataset")
    ]
    job = with_spec(workers=0, image="")
    with pytest.raises(InvalidSpec) as info:
        parse(job)
    assert [e.field for e in info.value.errors] == ["spec.image", "spec.workers"]
    assert str(info.value) == "spec.image: must not be empty; spec.workers: must be at least 1, not 0"


def test_valid_full_examples() -> None:
    ascend = with_spec(
        platform="Ascend",
        workers=4,
        devicesPerWorker=8,
        dataset={"path": "flowers", "volume": {"persistentVolumeClaim": {"claimName": "d"}}},
        pretrained={"checkpoint": "m.ckpt", "volume": {"persistentVolumeClaim": {"claimName": "m"}}},
        output={"path": "out", "volume": {"nfs": {"server": "s", "path": "/x"}}},
        hyperparameters={"numClasses": 5, "epochSize": 10, "warmupEpochs": 2, "lrMax": 0.1, "lrEnd": 0.0},
        runPolicy={"backoffLimit": 0, "activeDeadlineSeconds": 3600, "ttlSecondsAfterFinished": 60},
        scheduling={"gang": "volcano", "queue": "q", "minAvailable": 4},
        tolerations=[{"key": "k", "operator": "Exists"}],
        affinity={"nodeAffinity": {}},
    )
    assert validate(ascend) == []
    parsed = parse(ascend).spec
    assert parsed.hyperparameters == (
        ("numClasses", 5),
        ("epochSize", 10),
        ("warmupEpochs", 2),
        ("lrMax", 0.1),
        ("lrEnd", 0.0),
    )
    assert (
        fields(
            with_spec(
                platform="GPU", devicesPerWorker=8, pretrained={"url": "https://h/x", "sha256": "a" * 64}
            )
        )
        == []
    )


def test_volumes_need_exactly_one_source() -> None:
    bad = with_spec(
        dataset={"path": "d", "volume": {}},
        output={"volume": {"emptyDir": {}, "nfs": {"server": "s", "path": "/x"}}},
    )
    assert validate(bad) == [
        SpecError(
            "spec.dataset.volume",
            "must hold exactly one volume source such as persistentVolumeClaim (found none)",
        ),
        SpecError(
            "spec.output.volume",
            "must hold exactly one volume source such as persistentVolumeClaim (found emptyDir, nfs)",
        ),
    ]


RESTRICTED = '(only what the Pod Security Standard "restricted" allows is accepted)'


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"resources": {"requests": {"cpu": "lots"}}},
            [
                SpecError(
                    "spec.resources.requests.cpu",
                    "must be a quantity such as 500m, 2, 1.5 or 4Gi, not 'lots'",
                )
            ],
        ),
        (
            {
                "resources": {
                    "requests": {"memory": "8Gi", "cpu": "500m"},
                    "limits": {"memory": "4Gi", "cpu": 1},
                }
            },
            [
                SpecError(
                    "spec.resources.requests.memory",
                    "must be less than or equal to the limit spec.resources.limits.memory (4Gi); "
                    "raise the limit or lower the request",
                )
            ],
        ),
        (
            {"env": [{"name": "A=B", "value": "x"}]},
            [
                SpecError(
                    "spec.env[0].name",
                    "must be an environment variable name (letters, digits, '_', '-', '.'; "
                    "no leading digit), not 'A=B'",
                )
            ],
        ),
        (
            {"tolerations": [{"key": "k", "operator": "Exist"}]},
            [SpecError("spec.tolerations[0].operator", "must be one of \"\", Exists, Equal, not 'Exist'")],
        ),
        (
            {"tolerations": [{"key": "k", "effect": "NoExecut"}]},
            [
                SpecError(
                    "spec.tolerations[0].effect",
                    "must be one of \"\", NoSchedule, PreferNoSchedule, NoExecute, not 'NoExecut'",
                )
            ],
        ),
        (
            {"serviceAccountName": "a" * 300},
            [SpecError("spec.serviceAccountName", "must be at most 253 characters")],
        ),
        (
            {"serviceAccountName": "Trainer"},
            [
                SpecError(
                    "spec.serviceAccountName",
                    "must be a DNS subdomain (lowercase letters, digits, '-' and '.', at most 253), "
                    "not 'Trainer'",
                )
            ],
        ),
        (
            {"imagePullSecrets": [{"name": "Reg Cred"}]},
            [
                SpecError(
                    "spec.imagePullSecrets[0].name",
                    "must be a DNS subdomain (lowercase letters, digits, '-' and '.', at most 253), "
                    "not 'Reg Cred'",
                )
            ],
        ),
        (
            {
                "affinity": {
                    "nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 0}]}
                }
            },
            [
                SpecError(
                    "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference",
                    "is required",
                ),
                SpecError(
                    "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight",
                    "must be at least 1, not 0",
                ),
            ],
        ),
        (
            {
                "dataset": {
                    "path": "d",
                    "volume": {"persistentVolumeClaim": {"claimName": "data", "readonly": True}},
                }
            },
            [
                SpecError(
                    "spec.dataset.volume.persistentVolumeClaim.readonly",
                    "unknown field; did you mean readOnly?",
                )
            ],
        ),
        (
            {"securityContext": {"privileged": True}},
            [SpecError("spec.securityContext.privileged", f"must be one of false, not true {RESTRICTED}")],
        ),
        (
            {"securityContext": {"allowPrivilegeEscalation": True}},
            [
                SpecError(
                    "spec.securityContext.allowPrivilegeEscalation",
                    f"must be one of false, not true {RESTRICTED}",
                )
            ],
        ),
        (
            {"securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}},
            [
                SpecError(
                    "spec.securityContext.capabilities.add[0]",
                    f"must be one of NET_BIND_SERVICE, not 'SYS_ADMIN' {RESTRICTED}",
                )
            ],
        ),
        (
            {"securityContext": {"seccompProfile": {"type": "Unconfined"}}},
            [
                SpecError(
                    "spec.securityContext.seccompProfile.type",
                    f"must be one of RuntimeDefault, Localhost, not 'Unconfined' {RESTRICTED}",
                )
            ],
        ),
        (
            {"podSecurityContext": {"runAsUser": 0}},
            [SpecError("spec.podSecurityContext.runAsUser", f"must be at least 1, not 0 {RESTRICTED}")],
        ),
        (
            {"podSecurityContext": {"runAsNonRoot": False}},
            [
                SpecError(
                    "spec.podSecurityContext.runAsNonRoot", f"must be one of true, not false {RESTRICTED}"
                )
            ],
        ),
        (
            {"podSecurityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}},
            [
                SpecError(
                    "spec.podSecurityContext.sysctls[0].name",
                    "must be one of kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, "
                    "net.ipv4.ip_unprivileged_port_start, net.ipv4.tcp_syncookies, "
                    "net.ipv4.ping_group_range, net.ipv4.ip_local_reserved_ports, "
                    "net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl, "
                    f"net.ipv4.tcp_keepalive_probes, not 'kernel.msgmax' {RESTRICTED}",
                )
            ],
        ),
    ],
)
def test_pass_through_fields_are_validated_like_a_pod(
    changes: dict[str, Any], expected: list[SpecError]
) -> None:
    assert validate(with_spec(**changes)) == expected


def test_what_a_device_stack_needs_is_accepted() -> None:
    job = with_spec(
        podSecurityContext={
            "supplementalGroups": [1000, 44],
            "runAsUser": 1000,
            "runAsGroup": 1000,
            "fsGroup": 1000,
        },
        securityContext={
            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["NET_RAW"]},
            "seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/npu.json"},
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
        },
        resources={"requests": {"cpu": 2, "memory": "1Gi"}, "limits": {"cpu": "2000m", "memory": "1024Mi"}},
        env=[
            {"name": "NCCL_DEBUG", "value": "INFO"},
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        ],
        tolerations=[{"key": "huawei.com/Ascend910", "operator": "Exists", "effect": "NoSchedule"}],
    )
    assert validate(job) == []
    spec = parse(job).spec
    assert spec.pod_security_context["supplementalGroups"] == [1000, 44]
    assert spec.security_context["seccompProfile"] == {
        "type": "Localhost",
        "localhostProfile": "profiles/npu.json",
    }


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_refused_wherever_they_are(value: float) -> None:
    assert fields(with_spec(hyperparameters={"lrMax": value})) == ["spec.hyperparameters.lrMax"]
    assert fields(with_spec(hyperparameters={"momentum": value})) == ["spec.hyperparameters.momentum"]
    assert fields(with_spec(workers=value)) == ["spec.workers"]
    # Even where no schema reads a number (an unknown field): JSON could not carry it to a server.
    assert validate(with_spec(junk={"x": [value]})) == [
        SpecError("spec.junk.x[0]", f"must be a finite number, not {value} (JSON has no NaN or Infinity)")
    ]


def test_yaml_nan_and_inf_from_a_file_are_refused() -> None:
    import yaml

    for text in (".nan", ".inf", "-.inf", ".NaN"):
        job = with_spec(hyperparameters=yaml.safe_load(f"{{lrMax: {text}}}"))
        assert fields(job) == ["spec.hyperparameters.lrMax"], text


@pytest.mark.parametrize("parent", ["dataset", "pretrained", "output"])
def test_host_path_is_refused_unless_allowed(parent: str) -> None:
    sources: dict[str, dict[str, Any]] = {
        "dataset": {"dataset": {"path": "d", "volume": {"hostPath": {"path": "/srv/data"}}}},
        "pretrained": {
            "pretrained": {"checkpoint": "m.ckpt", "volume": {"hostPath": {"path": "/srv/models"}}}
        },
        "output": {"output": {"volume": {"hostPath": {"path": "/", "type": "Directory"}}}},
    }
    job = with_spec(**sources[parent])
    (error,) = validate(job)
    assert error.field == f"spec.{parent}.volume.hostPath"
    assert "--allow-host-path" in error.message and "security.allowHostPath" in error.message
    assert validate(job, allow_host_path=True) == []
    with pytest.raises(InvalidSpec):
        parse(job)
    assert parse(job, allow_host_path=True).spec.platform == "CPU"


def test_operator_fails_a_host_path_job_unless_started_with_the_allow() -> None:
    from datetime import datetime, timezone

    from mnft_operator.planner import plan
    from mnft_operator.types import Observed

    job = with_spec(output={"volume": {"hostPath": {"path": "/"}}})
    job["metadata"]["uid"] = "u"
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    refused = plan(Observed(job, [], [], [], [], None, now))
    assert refused.create == ()
    assert refused.status is not None and refused.status["phase"] == "Failed"
    (failed,) = [c for c in refused.status["conditions"] if c["type"] == "Failed"]
    assert failed["reason"] == "InvalidSpec"
    assert failed["message"].startswith("spec.output.volume.hostPath: hostPath volumes are not allowed")
    allowed = plan(Observed(job, [], [], [], [], None, now, allow_host_path=True))
    assert [o["kind"] for o in allowed.create].count("Pod") == 1


def test_cluster_fit_settings_default() -> None:
    spec = parse(VALID).spec
    assert (spec.topology_timeout_s, spec.shm_size, spec.ascend_resource) == (
        600,
        "2Gi",
        "huawei.com/Ascend910",
    )


@pytest.mark.parametrize("size", ["1Gi", "512Mi", "0.5Gi", "4G", "1e9"])
def test_shm_size_takes_quantities(size: str) -> None:
    assert validate(with_spec(shmSize=size)) == []


@pytest.mark.parametrize("size", ["2 GiB", "-1Gi", "lots"])
def test_shm_size_must_be_a_quantity(size: str) -> None:
    assert fields(with_spec(shmSize=size)) == ["spec.shmSize"]


@pytest.mark.parametrize(
    ("chosen", "named", "fix"),
    [
        ("huawei.com/Ascend910", "huawei.com/npu", "set spec.ascend.resourceName: huawei.com/npu"),
        ("huawei.com/npu", "huawei.com/npu", "remove it (spec.devicesPerWorker sets the count)"),
    ],
)
def test_an_ascend_resource_in_spec_resources_is_refused(chosen: str, named: str, fix: str) -> None:
    job = with_spec(
        platform="Ascend", ascend={"resourceName": chosen}, resources={"limits": {named: 8, "memory": "1Gi"}}
    )
    assert validate(job) == [
        SpecError(
            f"spec.resources.limits[{named}]",
            f"the operator requests spec.devicesPerWorker of spec.ascend.resourceName ({chosen}); {fix}",
        )
    ]
