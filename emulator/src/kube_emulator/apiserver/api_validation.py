"""Built-in admission of the embedded API: the defaulting and validation a real server does for core kinds.

`admit_builtin(kind, obj, old)` returns the defaulted object or raises a 422 `Invalid` naming each
field, worded as kube-apiserver words it. Covered: metadata (name, label keys/values, ownerReferences) for
every kind; Pod defaults and the structural checks a generated pod most often gets wrong (container
names, volume mounts that name no volume, duplicate names, restartPolicy); Service defaults (type,
clusterIP allocation, port protocol); resource quantities in canonical string form (`api_quantities`).
"""

from __future__ import annotations

import base64
import itertools
import re
from collections.abc import Mapping
from typing import Any

from kube_emulator.apiserver import api_errors as errors
from kube_emulator.apiserver.api_quantities import canonicalize

_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE_RULE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
_NAME_RULE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
_DNS_LABEL_RULE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
_cluster_ips = itertools.count(10)

Cause = dict[str, str]


def _invalid(field: str, value: Any, detail: str) -> Cause:
    shown = f'"{value}"' if isinstance(value, str) else str(value)
    return {"reason": "FieldValueInvalid", "field": field, "message": f"Invalid value: {shown}: {detail}"}


def _required(field: str, detail: str = "") -> Cause:
    return {
        "reason": "FieldValueRequired",
        "field": field,
        "message": "Required value" + (f": {detail}" if detail else ""),
    }


def check_labels(labels: Mapping[str, Any], field: str = "metadata.labels") -> list[Cause]:
    causes = []
    for key, value in labels.items():
        prefix, _, name = key.rpartition("/")
        if len(name) > 63:
            causes.append(_invalid(field, key, "name part must be no more than 63 characters"))
        elif not _LABEL_NAME.match(name):
            causes.append(_invalid(field, key, _NAME_RULE))
        if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
            causes.append(
                _invalid(
                    field,
                    key,
                    "prefix part a lowercase RFC 1123 subdomain must consist of lower "
                    "case alphanumeric characters, '-' or '.'",
                )
            )
        if not isinstance(value, str):
            causes.append(_invalid(field, value, "label values must be strings"))
        elif len(value) > 63:
            causes.append(_invalid(field, value, "must be no more than 63 characters"))
        elif not _LABEL_VALUE.match(value):
            causes.append(_invalid(field, value, _LABEL_VALUE_RULE))
    return causes


def check_owner_references(refs: Any) -> list[Cause]:
    causes = []
    controllers = 0
    for ref in refs or ():
        for key, what in (("apiVersion", "version"), ("kind", "kind"), ("name", "name"), ("uid", "uid")):
            if not ref.get(key):
                causes.append(_invalid(f"metadata.ownerReferences.{key}", "", f"{what} must not be empty"))
        controllers += bool(ref.get("controller"))
    if controllers > 1:
        causes.append(
            _invalid(
                "metadata.ownerReferences", "[...]", "Only one reference can have Controller set to true"
            )
        )
    return causes


def default_pod(pod: dict[str, Any]) -> dict[str, Any]:
    spec = dict(pod.get("spec") or {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("priority", 0)
    for key in ("containers", "initContainers"):
        if isinstance(spec.get(key), list):
            spec[key] = [_default_container(c) for c in spec[key]]
    return {**pod, "spec": spec}


def _default_container(container: Any) -> Any:
    if not isinstance(container, Mapping):
        return container
    result = dict(container)
    image = str(result.get("image", ""))
    tagless = ":" not in image.rsplit("/", 1)[-1] and "@" not in image
    result.setdefault("imagePullPolicy", "Always" if tagless or image.endswith(":latest") else "IfNotPresent")
    result.setdefault("terminationMessagePath", "/dev/termination-log")
    result.setdefault("terminationMessagePolicy", "File")
    result.setdefault("resources", {})
    return result


def check_pod_spec(spec: Mapping[str, Any]) -> list[Cause]:
    causes: list[Cause] = []
    containers = spec.get("containers")
    if not containers:
        causes.append(_required("spec.containers"))
    volumes = [v.get("name") for v in spec.get("volumes") or ()]
    for index, name in enumerate(volumes):
        if name in volumes[:index]:
            causes.append(
                {
                    "reason": "FieldValueDuplicate",
                    "field": f"spec.volumes[{index}].name",
                    "message": f'Duplicate value: "{name}"',
                }
            )
    seen: list[str] = []
    for key in ("initContainers", "containers"):
        for index, container in enumerate(spec.get(key) or ()):
            where = f"spec.{key}[{index}]"
            name = container.get("name", "")
            if not name:
                causes.append(_required(f"{where}.name"))
            elif not _DNS_LABEL.match(name) or len(name) > 63:
                causes.append(_invalid(f"{where}.name", name, _DNS_LABEL_RULE))
            elif name in seen:
                causes.append(
                    {
                        "reason": "FieldValueDuplicate",
                        "field": f"{where}.name",
                        "message": f'Duplicate value: "{name}"',
                    }
                )
            seen.append(name)
            if not container.get("image"):
                causes.append(_required(f"{where}.image"))
            for m, mount in enumerate(container.get("volumeMounts") or ()):
                if mount.get("name") not in volumes:
                    causes.append(
                        {
                            "reason": "FieldValueNotFound",
                            "field": f"{where}.volumeMounts[{m}].name",
                            "message": f'Not found: "{mount.get("name")}"',
                        }
                    )
                if not mount.get("mountPath"):
                    causes.append(_required(f"{where}.volumeMounts[{m}].mountPath"))
            for e, env in enumerate(container.get("env") or ()):
                if not env.get("name"):
                    causes.append(_required(f"{where}.env[{e}].name"))
    policy = spec.get("restartPolicy")
    if policy not in ("Always", "OnFailure", "Never"):
        causes.append(
            {
                "reason": "FieldValueNotSupported",
                "field": "spec.restartPolicy",
                "message": f'Unsupported value: "{policy}": supported values: "Always", "OnFailure", "Never"',
            }
        )
    for field in ("hostname", "subdomain"):
        value = spec.get(field)
        if value and (not _DNS_LABEL.match(value) or len(value) > 63):
            causes.append(_invalid(f"spec.{field}", value, _DNS_LABEL_RULE))
    return causes


_POD_MUTABLE = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


def check_name(kind: str, group: str, name: str) -> None:
    """metadata.name as the API server checks it on create: an RFC 1123 subdomain (a label for
    Namespaces and Services; a path segment for RBAC objects)."""
    if not name:
        raise errors.invalid(
            kind,
            group,
            "",
            [
                {
                    "reason": "FieldValueRequired",
                    "field": "metadata.name",
                    "message": "Required value: name or generateName is required",
                }
            ],
        )
    if group == "rbac.authorization.k8s.io":  # path-segment names, e.g. system:controller:x
        if name in (".", "..") or "/" in name or "%" in name:
            message = f"Invalid value: \"{name}\": may not contain '/' or '%', and may not be '.' or '..'"
            cause = {"reason": "FieldValueInvalid", "field": "metadata.name", "message": message}
            raise errors.invalid(kind, group, name, [cause])
        return
    label_only = kind in ("Namespace", "Service")
    pattern = _DNS_LABEL if label_only else _DNS_SUBDOMAIN
    if len(name) > (63 if label_only else 253) or not pattern.match(name):
        what = "RFC 1123 label" if label_only else "RFC 1123 subdomain"
        chars = "'-'" if label_only else "'-' or '.'"
        message = (
            f'Invalid value: "{name}": a lowercase {what} must consist of lower case alphanumeric '
            f"characters, {chars}, and must start and end with an alphanumeric character"
        )
        raise errors.invalid(
            kind,
            group,
            name,
            [{"reason": "FieldValueInvalid", "field": "metadata.name", "message": message}],
        )


def check_pod_update(name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """A pod's spec is immutable but for images, activeDeadlineSeconds, added tolerations and grace period."""

    def frozen(spec: Mapping[str, Any]) -> dict[str, Any]:
        spec = canonicalize("Pod", {"spec": dict(spec)})[0]["spec"]  # 8 and "8" are the same request
        result = {
            k: v
            for k, v in spec.items()
            if k
            not in (
                "activeDeadlineSeconds",
                "tolerations",
                "terminationGracePeriodSeconds",
                "schedulingGates",
            )
        }
        for key in ("containers", "initContainers"):
            if key in result:
                result[key] = [{k: v for k, v in c.items() if k != "image"} for c in result[key]]
        return result

    old_tolerations = list(old.get("tolerations") or [])
    new_tolerations = list(new.get("tolerations") or [])
    if frozen(old) != frozen(new) or new_tolerations[: len(old_tolerations)] != old_tolerations:
        cause = {"reason": "FieldValueForbidden", "field": "spec", "message": f"Forbidden: {_POD_MUTABLE}"}
        raise errors.invalid("Pod", "", name, [cause])
    causes = added_scheduling_gates(old.get("schedulingGates") or [], new.get("schedulingGates") or [])
    if causes:
        raise errors.invalid("Pod", "", name, causes)


def added_scheduling_gates(old: list[Any], new: list[Any]) -> list[dict[str, str]]:
    """spec.schedulingGates may only lose entries after creation (Pod Scheduling Readiness,
    https://kubernetes.io/docs/concepts/scheduling-eviction/pod-scheduling-readiness/; the message is
    Kubernetes' validateOnlyDeletedSchedulingGates)."""
    before = {g.get("name") for g in old if isinstance(g, Mapping)}
    return [
        {
            "reason": "FieldValueForbidden",
            "field": f"spec.schedulingGates[{i}].name",
            "message": "Forbidden: only deletion is allowed, but found new scheduling gate "
            f"'{g.get('name')}'",
        }
        for i, g in enumerate(new)
        if isinstance(g, Mapping) and g.get("name") not in before
    ]


def default_service(service: dict[str, Any], old: Mapping[str, Any] | None) -> dict[str, Any]:
    spec = dict(service.get("spec") or {})
    spec.setdefault("type", "ClusterIP")
    old_ip = ((old or {}).get("spec") or {}).get("clusterIP")
    if not spec.get("clusterIP"):
        if old_ip:
            spec["clusterIP"] = old_ip
        else:
            n = next(_cluster_ips)
            spec["clusterIP"] = f"10.96.{n // 250 % 250}.{n % 250 + 1}"
    spec.setdefault("clusterIPs", [spec["clusterIP"]])
    spec.setdefault("sessionAffinity", "None")
    if isinstance(spec.get("ports"), list):
        spec["ports"] = [{"protocol": "TCP", **p} if isinstance(p, Mapping) else p for p in spec["ports"]]
    return {**service, "spec": spec}


def default_secret(secret: dict[str, Any]) -> dict[str, Any]:
    """`type` defaults to Opaque; `stringData` is write-only: merged into `data` (base64) and dropped."""
    result = {"type": "Opaque", **secret}
    if not result.get("type"):
        result["type"] = "Opaque"
    string_data = result.pop("stringData", None)
    if isinstance(string_data, Mapping):
        encoded = {k: base64.b64encode(str(v).encode()).decode() for k, v in string_data.items()}
        result["data"] = {**(result.get("data") or {}), **encoded}
    return result


def admit_builtin(
    kind: str, group: str, obj: dict[str, Any], old: Mapping[str, Any] | None
) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    causes = check_labels(meta.get("labels") or {})
    causes += check_owner_references(meta.get("ownerReferences"))
    if kind == "Pod" and not group:
        if old is None:
            obj = default_pod(obj)
            causes += check_pod_spec(obj.get("spec") or {})
    elif kind == "Service" and not group:
        obj = default_service(obj, old)
    elif kind == "Secret" and not group:
        obj = default_secret(obj)
    if not group:
        obj, invalid_quantities = canonicalize(kind, obj)
        causes += invalid_quantities
    if kind in ("ConfigMap", "Secret") and not group and old is not None and old.get("immutable"):
        for field in ("data", "binaryData", "stringData", "immutable"):
            if obj.get(field) != old.get(field) and not (field == "stringData" and kind == "ConfigMap"):
                message = "Forbidden: field is immutable when `immutable` is set"
                causes.append({"reason": "FieldValueForbidden", "field": field, "message": message})
    if causes:
        raise errors.invalid(kind, group, meta.get("name", ""), causes)
    return obj
