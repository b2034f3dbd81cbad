"""Dynamic admission: the webhooks of Mutating/ValidatingWebhookConfigurations and the CEL rules of
ValidatingAdmissionPolicies (admissionregistration.k8s.io/v1), called on writes as a kube-apiserver does.

Order per write: mutating webhooks (in configuration order; a JSONPatch answer is applied), then the
object as it would be stored (defaults, validation) goes to the validating webhooks and the policies.

- Webhooks: `clientConfig.url` (HTTPS, trusting `caBundle` or the system's roots); a `service`
  reference has no cluster network to reach here and counts as a failed call. `rules` (operations,
  apiGroups, apiVersions, resources with `*` and `res/sub`, scope), `namespaceSelector`,
  `objectSelector`, `matchPolicy` as given, `timeoutSeconds` (default 10), `failurePolicy` (default
  Fail: a failed call is a 500; Ignore: skipped), `sideEffects` (a dry run is refused by a webhook
  that declares side effects). A denial is `admission webhook "<name>" denied the request: <message>`
  with the response's code (at least 400).
- Policies: a binding names its policy; `matchConstraints` / the binding's `matchResources`
  (resourceRules, excludeResourceRules, selectors), `matchConditions`, `variables`, `validations`
  (expression, message / messageExpression, reason) with `object`, `oldObject`, `request`,
  `namespaceObject`, `variables` bound; `validationActions` Deny (the reason's code, 422 for Invalid)
  and Warn (a Warning header); `failurePolicy` for expressions that fail. Policies with `paramKind`
  are not evaluated (no parameter resources here): they are skipped.

Admission objects themselves (this group) and the access reviews are never sent to admission.
"""

from __future__ import annotations

import base64
import json
import ssl
import uuid
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import aiohttp

from kube_emulator.apiserver import api_patch
from kube_emulator.apiserver.api_errors import ApiError
from kube_emulator.apiserver.api_resources import ResourceDef
from kube_emulator.apiserver.api_store import Store

GROUP = "admissionregistration.k8s.io"
ADMIN_USER = {"username": "kube-emulator:admin", "groups": ["system:masters", "system:authenticated"]}
_REASON_CODES = {"Invalid": 422, "Forbidden": 403, "Unauthorized": 401, "RequestEntityTooLarge": 413}


# ---- matching -------------------------------------------------------------------------------------------
def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector (matchLabels, matchExpressions); an empty or absent one matches all."""
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or ():
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _has(values: Any, value: str) -> bool:
    return "*" in (values or ()) or value in (values or ())


def rule_matches(rule: Mapping[str, Any], res: ResourceDef, operation: str, subresource: str | None) -> bool:
    if not _has(rule.get("operations"), operation):
        return False
    if not _has(rule.get("apiGroups"), res.group) or not _has(rule.get("apiVersions"), res.version):
        return False
    scope = rule.get("scope") or "*"
    if scope != "*" and (scope == "Namespaced") != res.namespaced:
        return False
    name = f"{res.plural}/{subresource}" if subresource else res.plural
    for pattern in rule.get("resources") or ():
        if pattern == name or pattern == "*/*":
            return True
        if pattern == "*" and not subresource:
            return True
        head, _, tail = pattern.partition("/")
        if tail and subresource and (head in ("*", res.plural)) and (tail in ("*", subresource)):
            return True
    return False


def _labels(obj: Mapping[str, Any] | None) -> Mapping[str, str]:
    return ((obj or {}).get("metadata") or {}).get("labels") or {}


# ---- the admission chain --------------------------------------------------------------------------------
class Admission:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _all(self, plural: str) -> list[dict[str, Any]]:
        return self.store.list(self.store.resource(GROUP, "v1", plural), None)

    def active(self, res: ResourceDef) -> bool:
        if res.group in (GROUP, "authorization.k8s.io", "authentication.k8s.io"):
            return False
        return any(
            self.store.objects.get((GROUP, plural))
            for plural in (
                "mutatingwebhookconfigurations",
                "validatingwebhookconfigurations",
                "validatingadmissionpolicybindings",
            )
        )

    def _namespace(self, res: ResourceDef, namespace: str | None, obj: Mapping[str, Any] | None) -> Any:
        if res.kind == "Namespace" and not res.group:
            return obj
        if not namespace:
            return None
        return self.store.find(self.store.resource("", "v1", "namespaces"), None, namespace)

    def _selected(
        self,
        match: Mapping[str, Any],
        res: ResourceDef,
        namespace: str | None,
        obj: Mapping[str, Any] | None,
        old: Mapping[str, Any] | None,
    ) -> bool:
        if res.namespaced or (res.kind == "Namespace" and not res.group):
            ns_obj = self._namespace(res, namespace, obj or old)
            if not selector_matches(match.get("namespaceSelector"), _labels(ns_obj)):
                return False
        selector = match.get("objectSelector")
        return selector_matches(selector, _labels(obj)) or (
            old is not None and selector_matches(selector, _labels(old))
        )

    async def admit(
        self,
        res: ResourceDef,
        operation: str,
        namespace: str | None,
        name: str,
        obj: dict[str, Any] | None,
        old: dict[str, Any] | None,
        subresource: str | None,
        dry_run: bool,
        preview: Callable[[dict[str, Any]], dict[str, Any]] | None,
    ) -> tuple[dict[str, Any] | None, list[str]]:
        """(the object after mutation, warnings); raises ApiError when admission refuses the write.
        `preview(obj)` returns the object as it would be stored (a dry-run write), for validation."""
        warnings: list[str] = []
        context = (res, operation, namespace, name, subresource, dry_run)
        for config in self._all("mutatingwebhookconfigurations"):
            for hook in config.get("webhooks") or ():
                if self._hook_applies(hook, res, operation, namespace, obj, old, subresource):
                    obj = await self._call(hook, context, obj, old, warnings, mutating=True)
        final = preview(obj) if preview is not None and obj is not None else obj
        for config in self._all("validatingwebhookconfigurations"):
            for hook in config.get("webhooks") or ():
                if self._hook_applies(hook, res, operation, namespace, final, old, subresource):
                    await self._call(hook, context, final, old, warnings, mutating=False)
        self._policies(context, final, old, warnings)
        return obj, warnings

    def _hook_applies(
        self,
        hook: Mapping[str, Any],
        res: ResourceDef,
        operation: str,
        namespace: str | None,
        obj: Mapping[str, Any] | None,
        old: Mapping[str, Any] | None,
        subresource: str | None,
    ) -> bool:
        if not any(rule_matches(r, res, operation, subresource) for r in hook.get("rules") or ()):
            return False
        return self._selected(hook, res, namespace, obj, old)

    # ---- webhooks ---------------------------------------------------------------------------------
    def _review(self, context: tuple[Any, ...], obj: Any, old: Any) -> dict[str, Any]:
        res, operation, namespace, name, subresource, dry_run = context
        kind = {"group": res.group, "version": res.version, "kind": res.kind}
        resource = {"group": res.group, "version": res.version, "resource": res.plural}
        request: dict[str, Any] = {
            "uid": str(uuid.uuid4()),
            "kind": kind,
            "resource": resource,
            "requestKind": kind,
            "requestResource": resource,
            "name": name,
            "operation": operation,
            "userInfo": ADMIN_USER,
            "object": obj,
            "oldObject": old,
            "dryRun": dry_run,
        }
        if namespace:
            request["namespace"] = namespace
        if subresource:
            request["subResource"] = request["requestSubResource"] = subresource
        return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}

    async def _call(
        self,
        hook: Mapping[str, Any],
        context: tuple[Any, ...],
        obj: dict[str, Any] | None,
        old: dict[str, Any] | None,
        warnings: list[str],
        mutating: bool,
    ) -> dict[str, Any] | None:
        name = str(hook.get("name") or "")
        dry_run = context[5]
        if dry_run and hook.get("sideEffects") not in ("None", "NoneOnDryRun"):
            raise ApiError(400, "BadRequest", f'admission webhook "{name}" does not support dry run')
        review = self._review(context, obj, old)
        try:
            answer = await _post(hook, review)
            response = answer.get("response") or {}
            if response.get("uid") != review["request"]["uid"]:
                raise ValueError(
                    f"expected response.uid={review['request']['uid']}, got {response.get('uid')}"
                )
        except Exception as error:  # any failure to call or to read the answer
            if (hook.get("failurePolicy") or "Fail") == "Ignore":
                return obj
            raise ApiError(
                500,
                "InternalError",
                f'Internal error occurred: failed calling webhook "{name}": failed to call webhook: {error}',
            ) from None
        warnings.extend(str(w) for w in response.get("warnings") or ())
        if not response.get("allowed"):
            status = response.get("status") or {}
            message = status.get("message")
            text = f'admission webhook "{name}" denied the request'
            text = f"{text}: {message}" if message else f"{text} without explanation"
            raise ApiError(
                max(int(status.get("code") or 400), 400), str(status.get("reason") or ""), text, {}
            )
        if mutating and response.get("patch") and obj is not None:
            if response.get("patchType", "JSONPatch") != "JSONPatch":
                raise ApiError(500, "InternalError", f'webhook "{name}" sent an unsupported patch type')
            operations = json.loads(base64.b64decode(response["patch"]))
            try:
                obj = api_patch.json_patch(obj, operations)
            except api_patch.JsonPatchError as error:
                raise ApiError(
                    500,
                    "InternalError",
                    f'Internal error occurred: webhook "{name}" sent a bad patch: {error}',
                ) from None
        return obj

    # ---- ValidatingAdmissionPolicy ------------------------------------------------------------------
    def _policies(
        self,
        context: tuple[Any, ...],
        obj: dict[str, Any] | None,
        old: dict[str, Any] | None,
        warnings: list[str],
    ) -> None:
        policies = {p["metadata"]["name"]: p for p in self._all("validatingadmissionpolicies")}
        for binding in self._all("validatingadmissionpolicybindings"):
            spec = binding.get("spec") or {}
            policy = policies.get(spec.get("policyName") or "")
            if policy is None or (policy.get("spec") or {}).get("paramKind"):
                continue
            pspec = policy.get("spec") or {}
            if not self._policy_matches(pspec.get("matchConstraints") or {}, context, obj, old):
                continue
            if spec.get("matchResources") and not self._policy_matches(
                spec["matchResources"], context, obj, old, binding=True
            ):
                continue
            activation = self._activation(context, obj, old)
            where = (
                f"ValidatingAdmissionPolicy '{policy['metadata']['name']}' "
                f"with binding '{binding['metadata']['name']}'"
            )
            try:
                if not all(
                    _evaluate(c["expression"], activation) for c in pspec.get("matchConditions") or ()
                ):
                    continue
                variables: dict[str, Any] = {}
                for variable in pspec.get("variables") or ():
                    variables[variable["name"]] = _evaluate(
                        variable["expression"], {**activation, "variables": variables}
                    )
                activation["variables"] = variables
            except _CelError as error:
                self._fail(pspec, spec, where, f"expression resulted in error: {error}", "Invalid", warnings)
                continue
            for validation in pspec.get("validations") or ():
                expression = validation["expression"]
                try:
                    passed = _evaluate(expression, activation)
                except _CelError as error:
                    self._fail(
                        pspec,
                        spec,
                        where,
                        f"expression '{expression}' resulted in error: {error}",
                        "Invalid",
                        warnings,
                    )
                    continue
                if passed is True:
                    continue
                message = validation.get("message") or f"failed expression: {expression}"
                if validation.get("messageExpression"):
                    try:
                        value = _evaluate(validation["messageExpression"], activation)
                        if isinstance(value, str) and value.strip():
                            message = value
                    except _CelError:
                        pass
                self._deny(spec, where, message, validation.get("reason") or "Invalid", warnings)

    def _policy_matches(
        self, match: Mapping[str, Any], context: tuple[Any, ...], obj: Any, old: Any, binding: bool = False
    ) -> bool:
        """A policy's matchConstraints; a binding's matchResources (binding=True) without resourceRules
        narrows by its selectors only."""
        res, operation, namespace, name, subresource, _ = context

        def hits(rule: Mapping[str, Any]) -> bool:
            names = rule.get("resourceNames") or []
            return rule_matches(rule, res, operation, subresource) and (not names or name in names)

        rules = match.get("resourceRules")
        if (rules or not binding) and not any(hits(r) for r in rules or ()):
            return False
        if any(hits(r) for r in match.get("excludeResourceRules") or ()):
            return False
        return self._selected(match, res, namespace, obj, old)

    def _activation(self, context: tuple[Any, ...], obj: Any, old: Any) -> dict[str, Any]:
        res, namespace = context[0], context[2]
        request = self._review(context, None, None)["request"]
        request = {k: v for k, v in request.items() if k not in ("object", "oldObject")}
        return {
            "object": obj,
            "oldObject": old,
            "request": request,
            "params": None,
            "namespaceObject": self._namespace(res, namespace, obj) if res.namespaced else None,
        }

    @staticmethod
    def _deny(spec: Mapping[str, Any], where: str, message: str, reason: str, warnings: list[str]) -> None:
        actions = spec.get("validationActions") or ["Deny"]
        if "Warn" in actions:
            warnings.append(f"Validation failed for {where}: {message}")
        if "Deny" in actions:
            raise ApiError(_REASON_CODES.get(reason, 422), reason, f"{where} denied request: {message}", {})

    def _fail(
        self,
        pspec: Mapping[str, Any],
        spec: Mapping[str, Any],
        where: str,
        message: str,
        reason: str,
        warnings: list[str],
    ) -> None:
        if (pspec.get("failurePolicy") or "Fail") == "Fail":
            self._deny(spec, where, message, reason, warnings)


class _CelError(Exception):
    pass


@lru_cache(maxsize=256)
def _program(expression: str) -> Any:
    import celpy

    env = celpy.Environment()
    return env.program(env.compile(expression))


def _evaluate(expression: str, activation: Mapping[str, Any]) -> Any:
    import celpy

    try:
        bound = {k: celpy.json_to_cel(v) for k, v in activation.items()}
        result = _program(expression).evaluate(bound)
    except Exception as error:  # cel-python raises several kinds on a bad expression or a missing key
        raise _CelError(error.args[0] if error.args else repr(error)) from None
    if isinstance(result, Exception):
        raise _CelError(result.args[0] if result.args else repr(result))
    if isinstance(result, celpy.celtypes.BoolType):
        return bool(result)
    if isinstance(result, celpy.celtypes.StringType):
        return str(result)
    return result


async def _post(hook: Mapping[str, Any], review: Mapping[str, Any]) -> dict[str, Any]:
    client = hook.get("clientConfig") or {}
    url = client.get("url")
    if not url:
        raise ValueError(
            "the webhook's service is not reachable from the embedded API (give clientConfig.url)"
        )
    context = ssl.create_default_context()
    if client.get("caBundle"):
        context = ssl.create_default_context(cadata=base64.b64decode(client["caBundle"]).decode())
    timeout = aiohttp.ClientTimeout(total=float(hook.get("timeoutSeconds") or 10))
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(url, json=review, ssl=context) as response,
    ):
        if response.status != 200:
            raise ValueError(f"the server responded with status {response.status}")
        answer: dict[str, Any] = await response.json(content_type=None)
        return answer
