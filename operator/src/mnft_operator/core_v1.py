"""Structural schemas of the core/v1 types the MobileNetFineTune spec embeds (volume sources, Toleration,
Affinity, ResourceRequirements, EnvVar, LocalObjectReference, the two security contexts).

`schema(name)` returns one of them from `core_v1_schemas.json`, which `generate_schemas()` writes (run by
`make generate`, checked by `make check`) from the Kubernetes 1.33 OpenAPI definitions that the
`kubernetes-validate` package ships: 1.33 is the oldest Kubernetes we support, so every field here exists
on every supported cluster. Like Kubeflow's generated CRDs, each `$ref` is inlined and the result is made
structural: one `type` per node, `x-kubernetes-int-or-string` for quantities and IntOrString,
`additionalProperties: false` and patch-strategy keys dropped (unknown fields are pruned instead). On top of
the upstream shapes go the bounds a real API server checks in its own validation of pods (`BOUNDS`):
DNS names, label-key lengths, env var names, quantity patterns, the enums of operators and effects. Every
string, list and map also gets a size bound (`MAX_STRING`, `MAX_ITEMS`) so the CEL cost estimate of the
spec's `self == oldSelf` rules stays finite. The two security contexts are narrowed to what the Pod
Security Standard "restricted" allows (`RESTRICTED`): loosening them is refused at admission.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SCHEMAS_FILE = Path(__file__).with_name("core_v1_schemas.json")
KUBERNETES_VERSION = "v1.33.0"
CORE = "io.k8s.api.core.v1."
META = "io.k8s.apimachinery.pkg.apis.meta.v1."

# name in core_v1_schemas.json -> the definition it comes from
ROOTS = {
    "VolumeSource": CORE + "Volume",
    "Toleration": CORE + "Toleration",
    "Affinity": CORE + "Affinity",
    "ResourceRequirements": CORE + "ResourceRequirements",
    "EnvVar": CORE + "EnvVar",
    "LocalObjectReference": CORE + "LocalObjectReference",
    "PodSecurityContext": CORE + "PodSecurityContext",
    "SecurityContext": CORE + "SecurityContext",
}

MAX_STRING = 4096
MAX_ITEMS = 256
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
# apimachinery's IsEnvVarName (C_IDENTIFIER plus '-' and '.').
ENV_VAR_NAME = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"
# What resource.ParseQuantity accepts (the pattern controller-gen writes for resource.Quantity).
_NUMBER = r"(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
QUANTITY = rf"^(\+|-)?{_NUMBER}(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?{_NUMBER}))?$"
# What a field breaking one of these patterns is told (instead of the regular expression).
PATTERN_HINTS = {
    QUANTITY: "must be a quantity such as 500m, 2, 1.5 or 4Gi",
    ENV_VAR_NAME: "must be an environment variable name (letters, digits, '_', '-', '.'; no leading digit)",
    DNS_SUBDOMAIN: "must be a DNS subdomain (lowercase letters, digits, '-' and '.', at most 253)",
    DNS_LABEL: "must be a DNS label (lowercase letters, digits and '-', at most 63)",
}
# A qualified name (label key): an optional DNS-subdomain prefix (253) + '/' + a name (63).
LABEL_KEY_MAX = 253 + 1 + 63
SUBDOMAIN: dict[str, Any] = {"pattern": DNS_SUBDOMAIN, "maxLength": 253}
OBJECT_NAME: dict[str, Any] = {"pattern": DNS_SUBDOMAIN, "maxLength": 253, "minLength": 1}
WEIGHT: dict[str, Any] = {"minimum": 1, "maximum": 100}

# (definition, property) -> keys merged into that property's schema (an "items" key into its items).
BOUNDS: dict[tuple[str, str], dict[str, Any]] = {
    (CORE + "Toleration", "operator"): {"enum": ["", "Exists", "Equal"]},
    (CORE + "Toleration", "effect"): {"enum": ["", "NoSchedule", "PreferNoSchedule", "NoExecute"]},
    (CORE + "Toleration", "key"): {"maxLength": LABEL_KEY_MAX},
    (CORE + "Toleration", "value"): {"maxLength": 63},
    (CORE + "EnvVar", "name"): {"pattern": ENV_VAR_NAME, "minLength": 1, "maxLength": 1024},
    (CORE + "LocalObjectReference", "name"): OBJECT_NAME,
    (CORE + "ConfigMapKeySelector", "name"): OBJECT_NAME,
    (CORE + "SecretKeySelector", "name"): OBJECT_NAME,
    (CORE + "ConfigMapVolumeSource", "name"): OBJECT_NAME,
    (CORE + "ConfigMapProjection", "name"): OBJECT_NAME,
    (CORE + "SecretProjection", "name"): OBJECT_NAME,
    (CORE + "SecretVolumeSource", "secretName"): OBJECT_NAME,
    (CORE + "PersistentVolumeClaimVolumeSource", "claimName"): OBJECT_NAME,
    (CORE + "Volume", "name"): {"pattern": DNS_LABEL, "maxLength": 63},
    (CORE + "NodeSelectorRequirement", "operator"): {
        "enum": ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
    },
    (CORE + "NodeSelectorRequirement", "key"): {"maxLength": LABEL_KEY_MAX},
    (META + "LabelSelectorRequirement", "operator"): {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
    (META + "LabelSelectorRequirement", "key"): {"maxLength": LABEL_KEY_MAX},
    (CORE + "PodAffinityTerm", "topologyKey"): {"minLength": 1, "maxLength": LABEL_KEY_MAX},
    (CORE + "WeightedPodAffinityTerm", "weight"): WEIGHT,
    (CORE + "PreferredSchedulingTerm", "weight"): WEIGHT,
    (CORE + "Toleration", "tolerationSeconds"): {"minimum": 0},
    (CORE + "PodSecurityContext", "fsGroup"): {"minimum": 0},
    (CORE + "PodSecurityContext", "runAsGroup"): {"minimum": 0},
    (CORE + "PodSecurityContext", "supplementalGroups"): {"items": {"minimum": 0}},
    (CORE + "SecurityContext", "runAsGroup"): {"minimum": 0},
    (CORE + "PodSecurityContext", "fsGroupChangePolicy"): {"enum": ["OnRootMismatch", "Always"]},
    (CORE + "PodSecurityContext", "supplementalGroupsPolicy"): {"enum": ["Merge", "Strict"]},
    (CORE + "PodSecurityContext", "seLinuxChangePolicy"): {"enum": ["MountOption", "Recursive"]},
}

# The Pod Security Standard "restricted" as schema bounds on the security contexts a user may set: the
# operator's own values already pass, and a user can only choose among what the profile allows.
SELINUX_TYPES = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]
SAFE_SYSCTLS = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
]
RESTRICTED: dict[tuple[str, str], dict[str, Any]] = {
    (CORE + "SecurityContext", "privileged"): {"enum": [False]},
    (CORE + "SecurityContext", "allowPrivilegeEscalation"): {"enum": [False]},
    (CORE + "SecurityContext", "runAsNonRoot"): {"enum": [True]},
    (CORE + "SecurityContext", "runAsUser"): {"minimum": 1},
    (CORE + "SecurityContext", "procMount"): {"enum": ["Default"]},
    (CORE + "PodSecurityContext", "runAsNonRoot"): {"enum": [True]},
    (CORE + "PodSecurityContext", "runAsUser"): {"minimum": 1},
    (CORE + "Capabilities", "add"): {"items": {"enum": ["NET_BIND_SERVICE"]}},
    (CORE + "SeccompProfile", "type"): {"enum": ["RuntimeDefault", "Localhost"]},
    (CORE + "AppArmorProfile", "type"): {"enum": ["RuntimeDefault", "Localhost"]},
    (CORE + "WindowsSecurityContextOptions", "hostProcess"): {"enum": [False]},
    (CORE + "SELinuxOptions", "type"): {"enum": SELINUX_TYPES},
    (CORE + "SELinuxOptions", "user"): {"maxLength": 0},
    (CORE + "SELinuxOptions", "role"): {"maxLength": 0},
    (CORE + "Sysctl", "name"): {"enum": SAFE_SYSCTLS},
}

# Fields dropped from the embedded types: `claims` needs pod-level resourceClaims the spec does not offer.
DROPPED = {(CORE + "ResourceRequirements", "claims")}
# Kept keys of a schema node (everything a CRD's JSONSchemaProps accepts that the definitions use).
_KEPT = (
    "description",
    "format",
    "enum",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
)
_INT_OR_STRING = {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]}


@functools.cache
def _load() -> Mapping[str, Any]:
    data: Mapping[str, Any] = json.loads(SCHEMAS_FILE.read_text(encoding="utf-8"))
    return data


def schema(name: str, description: str | None = None) -> dict[str, Any]:
    """A fresh copy of the structural schema `name` (a key of ROOTS), optionally with its own description."""
    out = copy.deepcopy(dict(_load()["schemas"][name]))
    if description is not None:
        out["description"] = description
    return out


# ---- generation (`make generate`; needs the kubernetes-validate package of the dev extra) ----------------


def definitions_file() -> Path:
    import kubernetes_validate

    base = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    return base / f"{KUBERNETES_VERSION}-local" / "_definitions.json"


def generate_schemas(definitions: Mapping[str, Any]) -> dict[str, Any]:
    """The file content of core_v1_schemas.json from the `$defs` of a kubernetes-json-schema file."""
    schemas = {name: _convert(definitions, ref, (ref,)) for name, ref in ROOTS.items()}
    volume = schemas["VolumeSource"]
    volume["required"] = [r for r in volume.get("required", []) if r != "name"]  # the operator names it
    if not volume["required"]:
        del volume["required"]
    volume["description"] = (
        "A core/v1 volume source (persistentVolumeClaim, nfs, csi, ...); exactly one source. A `name` is "
        "ignored: the operator names the pod volume."
    )
    return {
        "source": f"kubernetes-validate {KUBERNETES_VERSION}-local/_definitions.json",
        "schemas": schemas,
    }


def _short(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _types(node: Mapping[str, Any]) -> list[str]:
    kind = node.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    return [k for k in kinds if k != "null"]


def _convert(defs: Mapping[str, Any], name: str, seen: tuple[str, ...]) -> dict[str, Any]:
    """Definition `name` inlined and made structural."""
    if name == "io.k8s.apimachinery.pkg.api.resource.Quantity":
        return {**copy.deepcopy(_INT_OR_STRING), "pattern": QUANTITY}
    if name == "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
        return copy.deepcopy(_INT_OR_STRING)
    if name == META + "ObjectMeta":  # an ephemeral volume's claim template: only labels and annotations
        strings = {"type": "object", "additionalProperties": {"type": "string", "maxLength": MAX_STRING}}
        return {
            "type": "object",
            "properties": {
                "labels": {**strings, "maxProperties": MAX_ITEMS},
                "annotations": {**strings, "maxProperties": MAX_ITEMS},
            },
        }
    return _node(defs, defs[name], name, seen)


def _node(
    defs: Mapping[str, Any], node: Mapping[str, Any], owner: str, seen: tuple[str, ...]
) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = _short(ref)
        if target in seen:
            raise ValueError(f"recursive definition {target} cannot be inlined")
        inlined = _convert(defs, target, (*seen, target))
        if "description" in node:
            inlined["description"] = node["description"]
        return inlined
    if "oneOf" in node or "anyOf" in node:
        raise ValueError(f"{owner}: unexpected union schema {json.dumps(node)[:200]}")
    kinds = _types(node)
    out: dict[str, Any] = {k: copy.deepcopy(node[k]) for k in _KEPT if k in node}
    if len(kinds) == 1:
        out["type"] = kinds[0]
    elif "properties" in node:
        out["type"] = "object"
    kind = out.get("type")
    if kind == "object" and "properties" in node:
        props = {}
        for key, sub in node["properties"].items():
            if (owner, key) in DROPPED:
                continue
            child = _node(defs, sub, owner, seen)
            _merge(child, BOUNDS.get((owner, key), {}))
            _merge(child, RESTRICTED.get((owner, key), {}))
            props[key] = child
        out["properties"] = props
        required = [r for r in node.get("required", []) if r in props]
        if required:
            out["required"] = required
    elif kind == "object" and isinstance(node.get("additionalProperties"), Mapping):
        out["additionalProperties"] = _node(defs, node["additionalProperties"], owner, seen)
        out["maxProperties"] = MAX_ITEMS
    elif kind == "object":
        out["x-kubernetes-preserve-unknown-fields"] = True
    elif kind == "array":
        out["items"] = _node(defs, node["items"], owner, seen)
        out["maxItems"] = MAX_ITEMS
    elif kind == "string" and "enum" not in out:
        out["maxLength"] = MAX_STRING
    _fix_list_map(out)
    return out


def _merge(schema: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if key == "items":
            _merge(schema["items"], value)
        else:
            schema[key] = copy.deepcopy(value)
    if "enum" in schema:
        schema.pop("maxLength", None)


def _fix_list_map(schema: dict[str, Any]) -> None:
    """A real API server refuses a map-list whose keys are neither required nor defaulted: make it atomic."""
    if schema.get("x-kubernetes-list-type") != "map":
        return
    item = schema.get("items", {})
    keys = schema.get("x-kubernetes-list-map-keys", [])
    props = item.get("properties", {})
    if all(k in item.get("required", []) or "default" in props.get(k, {}) for k in keys):
        return
    schema["x-kubernetes-list-type"] = "atomic"
    schema.pop("x-kubernetes-list-map-keys", None)


def write_schemas(target: Path = SCHEMAS_FILE) -> None:
    defs = json.loads(definitions_file().read_text(encoding="utf-8"))["$defs"]
    text = json.dumps(generate_schemas(defs), indent=1, sort_keys=True) + "\n"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
