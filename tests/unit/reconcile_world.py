"""A tiny in-memory cluster that applies Plans the way the handlers do, for the reconcile lifecycle tests.

Deleting a pod only marks it (deletionTimestamp) until `finish_deletions()`, like a real kubelet's grace
period, so the tests see the planner wait for old pods.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from mnft_operator.planner import plan
from mnft_operator.settle import settle
from mnft_operator.types import CreateResult, Event, ObjectRef, Observed, Plan

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """RFC 7386: objects merge recursively, null deletes, anything else replaces."""
    out = dict(target)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_patch(out[key], value)
        else:
            out[key] = value
    return out


class World:
    def __init__(self, spec: dict[str, Any], name: str = "flowers") -> None:
        self.job: dict[str, Any] = {
            "apiVersion": "finetune.mindspore.io/v1alpha1",
            "kind": "MobileNetFineTune",
            "metadata": {"name": name, "namespace": "ml", "uid": "job-uid", "generation": 1},
            "spec": spec,
        }
        self.objects: dict[tuple[str, str], dict[str, Any]] = {}
        self.events: list[Event] = []
        self.log_tail: str | None = None
        self.now = T0
        self.job_deleted = False
        self.serial = 0
        self.plans: list[Plan] = []
        self.refuse: dict[str, CreateResult] = {}  # object name -> the API's refusal of its create
        self.nodes: dict[str, dict[str, Any] | None] = {}  # what Observed.nodes holds

    # -- observing and applying ----------------------------------------------------------------------------
    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        """The objects labelled with the job, as the handlers list them (a label selector)."""
        name = self.job["metadata"]["name"]
        return [
            copy.deepcopy(o)
            for (k, _), o in sorted(self.objects.items())
            if k == kind
            and ((o["metadata"].get("labels") or {}).get("finetune.mindspore.io/job-name") == name)
        ]

    def observe(self) -> Observed:
        return Observed(
            job=copy.deepcopy(self.job),
            pods=self.of_kind("Pod"),
            services=self.of_kind("Service"),
            configmaps=self.of_kind("ConfigMap"),
            podgroups=self.of_kind("PodGroup"),
            rank0_log_tail=self.log_tail,
            now=self.now,
            nodes=copy.deepcopy(self.nodes),
        )

    def step(self) -> Plan:
        """One reconcile as the handlers run it: plan, create, settle with the answers, apply."""
        observed = self.observe()
        planned = plan(observed)
        assert plan(self.observe()) == planned  # deterministic
        results = [self.answer(obj) for obj in planned.create]
        p = settle(observed, planned, results)
        assert settle(self.observe(), planned, results) == p
        if p.status is not None:  # a JSON merge patch of the status, as the handlers send it
            self.job["status"] = merge_patch(self.job.get("status") or {}, copy.deepcopy(dict(p.status)))
        for ref in planned.delete:
            self.mark_deleted(ref)
        for ref in p.force_delete:
            del self.objects[(ref.kind, ref.name)]
        for obj, result in zip(p.create, results, strict=True):
            if result.code != 201:
                continue
            key = (obj["kind"], obj["metadata"]["name"])
            new = json.loads(json.dumps(obj))
            self.serial += 1
            new["metadata"]["uid"] = f"uid-{self.serial}"
            if obj["kind"] == "Pod":
                new["status"] = {"phase": "Pending"}
            self.objects[key] = new
        for ref in p.delete[len(planned.delete) :]:  # what settle() added: after the creates
            self.mark_deleted(ref)
        for obj in p.update:  # as k8s.update_patch_body: labels/annotations, and a ConfigMap's data
            target = self.objects[(obj["kind"], obj["metadata"]["name"])]
            if "data" in obj:
                target["data"] = dict(obj["data"])
            for field in ("labels", "annotations"):
                if field in obj["metadata"]:
                    target["metadata"][field] = {
                        **target["metadata"].get(field, {}),
                        **obj["metadata"][field],
                    }
        self.events.extend(p.events)
        self.job_deleted = self.job_deleted or p.delete_job
        self.plans.append(p)
        return p

    def mark_deleted(self, ref: ObjectRef) -> None:
        obj = self.objects[(ref.kind, ref.name)]
        assert "deletionTimestamp" not in obj["metadata"], f"{ref.name} deleted twice"
        obj["metadata"]["deletionTimestamp"] = self.now.strftime("%Y-%m-%dT%H:%M:%SZ")

    def answer(self, obj: Mapping[str, Any]) -> CreateResult:
        name = obj["metadata"]["name"]
        if name in self.refuse:
            return self.refuse[name]
        existing = self.objects.get((obj["kind"], name))
        if existing is not None:
            return CreateResult(obj["kind"], name, 409, "AlreadyExists", "exists", existing["metadata"])
        return CreateResult(obj["kind"], name, 201)

    def settle(self) -> Plan:
        """Step until a plan changes nothing; returns that quiet plan."""
        for _ in range(5):
            p = self.step()
            if not (p.create or p.delete or p.update or p.status or p.events):
                return p
        raise AssertionError("did not converge")

    def finish_deletions(self) -> None:
        for key in [k for k, o in self.objects.items() if "deletionTimestamp" in o["metadata"]]:
            del self.objects[key]

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    # -- what the kubelet would do ------------------------------------------------------------------------
    def pod(self, index: int) -> dict[str, Any]:
        return self.objects[("Pod", f"{self.job['metadata']['name']}-worker-{index}")]

    def pod_names(self) -> list[str]:
        return sorted(name for kind, name in self.objects if kind == "Pod")

    def run(self, *indices: int) -> None:
        for i in indices:
            self.pod(i)["status"] = {
                "phase": "Running",
                "podIP": f"10.244.0.{i + 10}",
                "conditions": [{"type": "Ready", "status": "True"}],
            }

    def exit(self, index: int, code: int, message: str = "", reason: str = "Error", at: int = 0) -> None:
        finished = (T0 + timedelta(seconds=at)).strftime("%Y-%m-%dT%H:%M:%SZ")
        term = {"exitCode": code, "reason": reason, "message": message, "finishedAt": finished}
        self.pod(index)["status"] = {
            "phase": "Succeeded" if code == 0 else "Failed",
            "containerStatuses": [{"name": "trainer", "state": {"terminated": term}}],
        }

    def ungate(self, index: int) -> None:
        """What Kueue does on admission: remove the pod's scheduling gates."""
        self.pod(index)["spec"].pop("schedulingGates", None)

    def status(self) -> dict[str, Any]:
        return dict(self.job.get("status") or {})

    def conditions(self) -> dict[str, tuple[str, str]]:
        return {c["type"]: (c["status"], c["reason"]) for c in self.status().get("conditions", [])}

    def reasons(self) -> list[str]:
        return [e.reason for e in self.events]
