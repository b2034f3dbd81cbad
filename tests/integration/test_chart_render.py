"""The Helm chart as `helm template` renders it: RBAC rules, security context, args, CRD, values schema.

Runs the real helm binary from .venv/bin (no cluster needed) and compares parsed objects with exact
expectations.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
import yaml
from chart_helpers import CHART, HELM, helm_template

from mnft_operator.crd import crd

# The operator's permissions: docs/architecture.md, "Operator RBAC".
CRD_RULE = {
    "apiGroups": ["apiextensions.k8s.io"],
    "resources": ["customresourcedefinitions"],
    "verbs": ["list", "watch"],
}
NODES_RULE = {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}
NAMESPACES_RULE = {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list", "watch"]}
NAMESPACED_RULES = [
    {
        "apiGroups": ["finetune.mindspore.io"],
        "resources": ["mobilenetfinetunes"],
        "verbs": ["get", "list", "watch", "patch", "delete"],
    },
    {"apiGroups": ["finetune.mindspore.io"], "resources": ["mobilenetfinetunes/status"], "verbs": ["patch"]},
    # blockOwnerDeletion on the children (OwnerReferencesPermissionEnforcement)
    {
        "apiGroups": ["finetune.mindspore.io"],
        "resources": ["mobilenetfinetunes/finalizers"],
        "verbs": ["update"],
    },
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "watch", "create", "delete"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["services"], "verbs": ["list", "watch", "create"]},
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list", "watch", "create", "patch"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
]
VOLCANO_RULE = {
    "apiGroups": ["scheduling.volcano.sh"],
    "resources": ["podgroups"],
    "verbs": ["list", "create"],
}
K8S_PODGROUP_RULE = {
    "apiGroups": ["scheduling.k8s.io"],
    "resources": ["podgroups"],
    "verbs": ["list", "create", "delete"],
}
KUEUE_RULE = {"apiGroups": [""], "resources": ["pods"], "verbs": ["patch"]}
CONTAINER_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "runAsGroup": 65532,
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "runAsGroup": 65532,
    "fsGroup": 65532,
    "seccompProfile": {"type": "RuntimeDefault"},
}
SUBJECTS = [{"kind": "ServiceAccount", "name": "mnft-operator", "namespace": "mnft-system"}]


def render(*args: str) -> dict[tuple[str, str, str | None], dict[str, Any]]:
    """`helm template mnft` -> {(kind, name, namespace): object}."""
    objects: dict[tuple[str, str, str | None], dict[str, Any]] = {}
    for doc in yaml.safe_load_all(helm_template(*args)):
        if doc:
            meta = doc["metadata"]
            key = (doc["kind"], meta["name"], meta.get("namespace"))
            assert key not in objects, f"rendered twice: {key}"
            objects[key] = doc
    return objects


def helm_error(*args: str) -> str:
    done = subprocess.run(
        [HELM, "template", "mnft", str(CHART), *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    return done.stderr


def kinds(objects: dict[tuple[str, str, str | None], dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    return sorted(objects)


def deployment(objects: dict[tuple[str, str, str | None], dict[str, Any]]) -> dict[str, Any]:
    return objects[("Deployment", "mnft-operator", "mnft-system")]


def test_default_values_render_exactly_these_objects() -> None:
    assert kinds(render()) == [
        ("ClusterRole", "mnft-operator", None),
        ("ClusterRoleBinding", "mnft-operator", None),
        ("CustomResourceDefinition", "mobilenetfinetunes.finetune.mindspore.io", None),
        ("Deployment", "mnft-operator", "mnft-system"),
        ("Service", "mnft-operator-metrics", "mnft-system"),
        ("ServiceAccount", "mnft-operator", "mnft-system"),
    ]


def test_default_rbac_is_one_cluster_role_with_every_rule() -> None:
    objects = render()
    # All namespaces: kopf never lists namespaces, so no namespaces rule.
    assert objects[("ClusterRole", "mnft-operator", None)]["rules"] == [
        CRD_RULE,
        NODES_RULE,
        *NAMESPACED_RULES,
        VOLCANO_RULE,
        KUEUE_RULE,
    ]
    binding = objects[("ClusterRoleBinding", "mnft-operator", None)]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "mnft-operator",
    }
    assert binding["subjects"] == SUBJECTS


def test_watch_namespaces_gives_a_role_per_namespace_and_only_cluster_scoped_reads_cluster_wide() -> None:
    objects = render("--set", "watchNamespaces={team-a,team-b}")
    assert kinds(objects) == [
        ("ClusterRole", "mnft-operator", None),
        ("ClusterRoleBinding", "mnft-operator", None),
        ("CustomResourceDefinition", "mobilenetfinetunes.finetune.mindspore.io", None),
        ("Deployment", "mnft-operator", "mnft-system"),
        ("Role", "mnft-operator", "team-a"),
        ("Role", "mnft-operator", "team-b"),
        ("RoleBinding", "mnft-operator", "team-a"),
        ("RoleBinding", "mnft-operator", "team-b"),
        ("Service", "mnft-operator-metrics", "mnft-system"),
        ("ServiceAccount", "mnft-operator", "mnft-system"),
    ]
    assert objects[("ClusterRole", "mnft-operator", None)]["rules"] == [CRD_RULE, NODES_RULE, NAMESPACES_RULE]
    for namespace in ("team-a", "team-b"):
        assert objects[("Role", "mnft-operator", namespace)]["rules"] == [
            *NAMESPACED_RULES,
            VOLCANO_RULE,
            KUEUE_RULE,
        ]
        binding = objects[("RoleBinding", "mnft-operator", namespace)]
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": "mnft-operator",
        }
        assert binding["subjects"] == SUBJECTS
    args = deployment(objects)["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args == [
        "operator",
        "--standalone",
        "--liveness",
        "http://0.0.0.0:8080/healthz",
        "--metrics-port",
        "8081",
        "--namespace",
        "team-a",
        "--namespace",
        "team-b",
    ]


def test_children_block_owner_deletion_so_the_operator_may_update_the_jobs_finalizers() -> None:
    # OwnerReferencesPermissionEnforcement admits blockOwnerDeletion=true only from whoever may update
    # the owner's finalizers subresource; the grant and the field go together (docs/architecture.md).
    from mnft_operator.names import owner_reference

    assert owner_reference("job", "uid-1")["blockOwnerDeletion"] is True
    rules = render()[("ClusterRole", "mnft-operator", None)]["rules"]
    assert {
        "apiGroups": ["finetune.mindspore.io"],
        "resources": ["mobilenetfinetunes/finalizers"],
        "verbs": ["update"],
    } in rules


def test_kubernetes_podgroups_rule_only_when_enabled() -> None:
    objects = render("--set", "rbac.kubernetesPodGroups=true")
    assert objects[("ClusterRole", "mnft-operator", None)]["rules"] == [
        CRD_RULE,
        NODES_RULE,
        *NAMESPACED_RULES,
        VOLCANO_RULE,
        K8S_PODGROUP_RULE,
        KUEUE_RULE,
    ]
    namespaced = render("--set", "rbac.kubernetesPodGroups=true,watchNamespaces={team-a}")
    assert K8S_PODGROUP_RULE in namespaced[("Role", "mnft-operator", "team-a")]["rules"]


def test_volcano_rule_and_rbac_objects_can_be_switched_off() -> None:
    objects = render("--set", "rbac.volcano=false,rbac.kueue=false")
    assert objects[("ClusterRole", "mnft-operator", None)]["rules"] == [
        CRD_RULE,
        NODES_RULE,
        *NAMESPACED_RULES,
    ]
    none = render("--set", "rbac.create=false,serviceAccount.create=false,serviceAccount.name=ops")
    assert kinds(none) == [
        ("CustomResourceDefinition", "mobilenetfinetunes.finetune.mindspore.io", None),
        ("Deployment", "mnft-operator", "mnft-system"),
        ("Service", "mnft-operator-metrics", "mnft-system"),
    ]
    assert deployment(none)["spec"]["template"]["spec"]["serviceAccountName"] == "ops"


def test_deployment_is_one_recreated_locked_down_replica_with_kopf_liveness() -> None:
    deploy = deployment(render())
    assert deploy["spec"]["replicas"] == 1
    assert deploy["spec"]["strategy"] == {"type": "Recreate"}
    pod = deploy["spec"]["template"]["spec"]
    assert pod["securityContext"] == POD_SECURITY
    assert pod["serviceAccountName"] == "mnft-operator"
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    (container,) = pod["containers"]
    assert container["image"] == "mnft-operator:0.1.0"
    assert container["args"] == [
        "operator",
        "--standalone",
        "--liveness",
        "http://0.0.0.0:8080/healthz",
        "--metrics-port",
        "8081",
        "--all-namespaces",
    ]
    assert container["securityContext"] == CONTAINER_SECURITY
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert container["ports"] == [
        {"name": "healthz", "containerPort": 8080, "protocol": "TCP"},
        {"name": "metrics", "containerPort": 8081, "protocol": "TCP"},
    ]
    assert container["livenessProbe"] == {
        "httpGet": {"path": "/healthz", "port": "healthz"},
        "initialDelaySeconds": 10,
        "periodSeconds": 15,
        "timeoutSeconds": 5,
        "failureThreshold": 4,
    }
    assert container["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    }
    selector = deploy["spec"]["selector"]["matchLabels"]
    assert selector == {"app.kubernetes.io/name": "mnft-operator", "app.kubernetes.io/instance": "mnft"}
    assert selector.items() <= deploy["spec"]["template"]["metadata"]["labels"].items()


@pytest.mark.parametrize("values", [[], ["--set", "watchNamespaces={team-a,team-b}"]])
def test_operator_args_are_accepted_by_mnft_operator(values: list[str]) -> None:
    from mnft_operator.operator_cli import build_parser, config_from_args

    args = deployment(render(*values))["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[0] == "operator"
    config = config_from_args(build_parser().parse_args(args[1:]))
    assert config.liveness == "http://0.0.0.0:8080/healthz"
    assert config.metrics_port == 8081
    assert config.peering is None
    assert config.namespaces == (("team-a", "team-b") if values else ())


@pytest.mark.parametrize("allow", [False, True])
def test_allow_host_path_value_reaches_the_operator_config(allow: bool) -> None:
    from mnft_operator.operator_cli import build_parser, config_from_args

    values = ["--set", "security.allowHostPath=true"] if allow else []
    args = deployment(render(*values))["spec"]["template"]["spec"]["containers"][0]["args"]
    assert config_from_args(build_parser().parse_args(args[1:])).allow_host_path is allow


def test_every_object_carries_the_standard_labels() -> None:
    for key, obj in render("--set", "watchNamespaces={team-a}").items():
        labels = obj["metadata"]["labels"]
        assert labels["helm.sh/chart"] == "mnft-operator-0.1.0", key
        assert labels["app.kubernetes.io/name"] == "mnft-operator", key
        assert labels["app.kubernetes.io/instance"] == "mnft", key
        assert labels["app.kubernetes.io/version"] == "0.1.0", key
        assert labels["app.kubernetes.io/managed-by"] == "Helm", key


def test_pod_placement_image_and_extra_values_reach_the_deployment() -> None:
    deploy = deployment(
        render(
            "--set",
            "image.repository=registry.example.com/mnft-operator,image.tag=1.2.3,image.pullPolicy=Always",
            "--set",
            "imagePullSecrets[0].name=regcred,nodeSelector.pool=system,priorityClassName=critical",
            "--set",
            "tolerations[0].key=dedicated,tolerations[0].operator=Exists,extraArgs[0]=--log-level=DEBUG",
            "--set",
            "extraEnv[0].name=TZ,extraEnv[0].value=UTC,livenessProbe.port=9090",
        )
    )
    pod = deploy["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == "registry.example.com/mnft-operator:1.2.3"
    assert container["imagePullPolicy"] == "Always"
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    assert pod["nodeSelector"] == {"pool": "system"}
    assert pod["priorityClassName"] == "critical"
    assert pod["tolerations"] == [{"key": "dedicated", "operator": "Exists"}]
    assert container["env"] == [{"name": "TZ", "value": "UTC"}]
    assert container["args"][2:] == [
        "--liveness",
        "http://0.0.0.0:9090/healthz",
        "--metrics-port",
        "8081",
        "--all-namespaces",
        "--log-level=DEBUG",
    ]
    assert container["ports"][0]["containerPort"] == 9090


def test_crd_template_is_the_python_crd_kept_on_uninstall_and_optional() -> None:
    rendered = render()[("CustomResourceDefinition", "mobilenetfinetunes.finetune.mindspore.io", None)]
    expected = crd()
    assert rendered["spec"] == expected["spec"]
    assert rendered["apiVersion"] == expected["apiVersion"]
    assert rendered["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
    not_kept = render("--set", "crds.keep=false")[
        ("CustomResourceDefinition", "mobilenetfinetunes.finetune.mindspore.io", None)
    ]
    assert "annotations" not in not_kept["metadata"]
    assert all(kind != "CustomResourceDefinition" for kind, _, _ in render("--set", "crds.install=false"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "replicas=2"], "additional properties 'replicas' not allowed"),
        (
            ["--set", "securityContext.readOnlyRootFilesystem=false"],
            "/securityContext/readOnlyRootFilesystem",
        ),
        (["--set", "podSecurityContext.runAsNonRoot=false"], "/podSecurityContext/runAsNonRoot"),
        (["--set", "watchNamespaces={Team_A}"], "/watchNamespaces/0"),
        (["--set", "image.pullPolicy=Sometimes"], "/image/pullPolicy"),
        (["--set", "resources.limits=null"], "/resources"),
    ],
)
def test_values_schema_rejects_bad_values_naming_them(args: list[str], message: str) -> None:
    assert message in helm_error(*args)


def test_metrics_service_and_optional_service_monitor() -> None:
    selector = {"app.kubernetes.io/name": "mnft-operator", "app.kubernetes.io/instance": "mnft"}
    service = render()[("Service", "mnft-operator-metrics", "mnft-system")]
    assert service["spec"] == {
        "type": "ClusterIP",
        "selector": selector,
        "ports": [{"name": "metrics", "port": 8081, "targetPort": "metrics", "protocol": "TCP"}],
    }
    assert not [k for k in render() if k[0] == "ServiceMonitor"]
    objects = render(
        "--set", "metrics.serviceMonitor.enabled=true", "--set", "metrics.serviceMonitor.labels.release=prom"
    )
    monitor = objects[("ServiceMonitor", "mnft-operator", "mnft-system")]
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prom"
    assert monitor["spec"] == {
        "selector": {"matchLabels": selector},
        "namespaceSelector": {"matchNames": ["mnft-system"]},
        "endpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s"}],
    }
    assert selector.items() <= service["metadata"]["labels"].items()


def test_metrics_port_0_turns_off_port_service_and_monitor() -> None:
    objects = render("--set", "metrics.port=0", "--set", "metrics.serviceMonitor.enabled=true")
    assert not [k for k in objects if k[0] in ("Service", "ServiceMonitor")]
    container = deployment(objects)["spec"]["template"]["spec"]["containers"][0]
    assert [p["name"] for p in container["ports"]] == ["healthz"]
    assert container["args"][container["args"].index("--metrics-port") + 1] == "0"
