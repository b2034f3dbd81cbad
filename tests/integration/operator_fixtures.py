"""Shared fixtures and helpers for the operator integration tests.

The real operator (kopf, in a thread with its own event loop) runs against the embedded API over HTTP.
There is no kubelet: the tests play the kubelet and the Ascend device plugin by patching pods themselves.
Import the fixtures into a test module: `from operator_fixtures import operator_api, operator  # noqa: F401`.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import pytest
from kubernetes import client as k8s

from api_helpers import k8s_configuration

NS = "default"
GROUP, VERSION, PLURAL = "finetune.mindspore.io", "v1alpha1", "mobilenetfinetunes"
JOB_LABEL = "finetune.mindspore.io/job-name"
ASCEND_ANNOTATION = "ascend.kubectl.kubernetes.io/ascend-910-configuration"
IMAGE = {"image": "mnft-trainer:test", "imageID": ""}
T = TypeVar("T")


def job_manifest(
    name: str, platform: str = "CPU", workers: int = 2, devices: int = 1, **spec: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "platform": platform,
        "image": "mnft-trainer:test",
        "workers": workers,
        "devicesPerWorker": devices,
        "dataset": {"path": "data", "volume": {"emptyDir": {}}},
        "output": {"path": "out", "volume": {"emptyDir": {}}},
        "hyperparameters": {"numClasses": 2, "epochSize": 2, "batchSize": 4},
    }
    body.update(spec)
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "MobileNetFineTune",
        "metadata": {"name": name, "namespace": NS},
        "spec": body,
    }


def wait_for(
    what: str, probe: Callable[[], T | Literal[False] | None], timeout: float = 120.0, interval: float = 0.05
) -> T:
    """Poll until probe() returns a truthy value; fail naming `what` and the last value. The timeout only
    guards against a hang (generous, so a busy machine never trips it), it bounds no behaviour."""
    deadline = time.monotonic() + timeout
    last: T | Literal[False] | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}; last: {last!r}")


@dataclass
class Api:
    """A sync view of the embedded API for the test (the operator uses its own async client)."""

    url: str
    client: k8s.ApiClient
    log_dir: Path
    server: Any  # the EmbeddedAPI: its token and CA (`server.auth_headers`, `server.ssl_context()`)
    kubeconfig: Path  # URL, CA and token: what the operator logs in with

    def write_log(self, pod: str, text: str) -> None:
        """What pods/log serves for the pod's trainer container."""
        path = self.log_dir / NS / pod / "trainer.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    @property
    def core(self) -> k8s.CoreV1Api:
        return k8s.CoreV1Api(self.client)

    @property
    def custom(self) -> k8s.CustomObjectsApi:
        return k8s.CustomObjectsApi(self.client)

    def get_json(self, path: str, **query: str) -> Any:
        """GET a path as plain JSON (the client's models reject e.g. integer quantities)."""
        url = self.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        request = urllib.request.Request(url, headers=self.server.auth_headers)
        with urllib.request.urlopen(request, timeout=10, context=self.server.ssl_context()) as response:
            return json.loads(response.read())

    def items(self, plural: str, job: str | None = None) -> list[dict[str, Any]]:
        query = {"labelSelector": f"{JOB_LABEL}={job}"} if job else {}
        items = self.get_json(f"/api/v1/namespaces/{NS}/{plural}", **query)["items"]
        return sorted(items, key=lambda item: item["metadata"]["name"])

    def create_job(self, manifest: Mapping[str, Any]) -> None:
        self.custom.create_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, dict(manifest))

    def patch_job(self, name: str, patch: Mapping[str, Any]) -> None:
        self.custom.patch_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, name, dict(patch))

    def delete_job(self, name: str) -> None:
        self.custom.delete_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, name)

    def job(self, name: str) -> dict[str, Any] | None:
        try:
            job = cast(
                dict[str, Any], self.custom.get_namespaced_custom_object(GROUP, VERSION, NS, PLURAL, name)
            )
        except k8s.ApiException as e:
            if e.status == 404:
                return None
            raise
        return job

    def status(self, name: str) -> dict[str, Any]:
        return (self.job(name) or {}).get("status") or {}

    def condition(self, name: str, type_: str) -> dict[str, Any] | None:
        for condition in self.status(name).get("conditions") or []:
            if condition.get("type") == type_:
                return dict(condition)
        return None

    def pods(self, job: str) -> list[dict[str, Any]]:
        return self.items("pods", job)

    def live_pods(self, job: str) -> list[dict[str, Any]]:
        return [pod for pod in self.pods(job) if not pod["metadata"].get("deletionTimestamp")]

    def services(self, job: str) -> list[dict[str, Any]]:
        return self.items("services", job)

    def configmaps(self, job: str) -> list[dict[str, Any]]:
        return self.items("configmaps", job)

    def events(self, job: str) -> list[dict[str, Any]]:
        return [e for e in self.items("events") if (e.get("involvedObject") or {}).get("name") == job]

    def event_reasons(self, job: str) -> list[str]:
        return [e["reason"] for e in self.events(job)]

    # -- playing the kubelet ---------------------------------------------------------------------

    def set_running(self, pod: str, ip: str = "10.244.0.1") -> None:
        status = {
            "phase": "Running",
            "podIP": ip,
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {
                    "name": "trainer",
                    "ready": True,
                    "restartCount": 0,
                    **IMAGE,
                    "state": {"running": {"startedAt": now()}},
                }
            ],
        }
        self.patch_pod(pod, {"status": status}, status=True)

    def set_terminated(self, pod: str, exit_code: int, message: str = "", reason: str | None = None) -> None:
        terminated = {"exitCode": exit_code, "message": message, "startedAt": now(), "finishedAt": now()}
        terminated["reason"] = reason or ("Completed" if exit_code == 0 else "Error")
        status = {
            "phase": "Succeeded" if exit_code == 0 else "Failed",
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [
                {
                    "name": "trainer",
                    "ready": False,
                    "restartCount": 0,
                    **IMAGE,
                    "state": {"terminated": terminated},
                }
            ],
        }
        self.patch_pod(pod, {"status": status}, status=True)

    def annotate_devices(self, pod: str, index: int, devices: int) -> None:
        """Play the Ascend device plugin: the ascend-910-configuration annotation."""
        value = {
            "pod_name": pod,
            "server_id": f"10.0.0.{index + 1}",
            "devices": [
                {"device_id": str(d), "device_ip": f"192.168.{index}.{d + 1}"} for d in range(devices)
            ],
        }
        self.patch_pod(pod, {"metadata": {"annotations": {ASCEND_ANNOTATION: json.dumps(value)}}})

    def patch_pod(self, pod: str, patch: Mapping[str, Any], status: bool = False) -> None:
        """JSON merge patch (the client's default strategic merge needs per-field merge keys)."""
        call = self.core.patch_namespaced_pod_status if status else self.core.patch_namespaced_pod
        call(pod, NS, dict(patch), _content_type="application/merge-patch+json", _preload_content=False)


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def without_cel(obj: Any) -> Any:
    """The CRD as a cluster without CEL sees it: every x-kubernetes-validations rule dropped."""
    if isinstance(obj, dict):
        return {k: without_cel(v) for k, v in obj.items() if k != "x-kubernetes-validations"}
    if isinstance(obj, list):
        return [without_cel(v) for v in obj]
    return obj


def serve_api(tmp_path: Path, cel: bool = True) -> Iterator[Api]:
    from kube_emulator.apiserver.apiserver import EmbeddedAPI
    from mnft_operator.crd import crd

    log_dir = tmp_path / "logs"
    server = EmbeddedAPI(log_dir=str(log_dir))
    server.start()
    client = k8s.ApiClient(k8s_configuration(server))
    try:
        body = crd() if cel else without_cel(crd())
        k8s.ApiextensionsV1Api(client).create_custom_resource_definition(body=cast(Any, body))
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
        api = Api(url=server.url, client=client, log_dir=log_dir, server=server, kubeconfig=kubeconfig)
        wait_for("the CRD to be served", lambda: _served(api))
        try:
            api.core.create_namespace(
                cast(Any, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
            )
        except k8s.ApiException as e:
            if e.status != 409:
                raise
        yield api
    finally:
        client.close()
        server.stop()


@pytest.fixture
def operator_api(tmp_path: Path) -> Iterator[Api]:
    """The embedded API with the MobileNetFineTune CRD applied; no operator, no kubelet."""
    yield from serve_api(tmp_path)


@pytest.fixture
def operator_api_without_cel(tmp_path: Path) -> Iterator[Api]:
    """Like operator_api, but the CRD has no CEL rules (older clusters): the operator must validate."""
    yield from serve_api(tmp_path, cel=False)


def _served(api: Api) -> bool:
    try:
        api.custom.list_namespaced_custom_object(GROUP, VERSION, NS, PLURAL)
    except k8s.ApiException:
        return False
    return True


# The test operator's timings: quick progress reads, resyncs and error retries.
TEST_TIMINGS = {"progress_seconds": 0.3, "resync_seconds": 5.0, "error_delay_seconds": 0.5}


@dataclass
class Operator:
    api: Api
    handle: Any = None
    options: dict[str, Any] = field(default_factory=dict)  # OperatorConfig fields over TEST_TIMINGS

    def start(self) -> None:
        from mnft_operator.operator_cli import run_operator_in_thread

        assert self.handle is None
        self.handle = run_operator_in_thread(
            None, (), kubeconfig=str(self.api.kubeconfig), **{**TEST_TIMINGS, **self.options}
        )

    def stop(self) -> None:
        if self.handle is not None:
            handle, self.handle = self.handle, None
            handle.stop(timeout=30)


def run_operator(api: Api, **options: Any) -> Iterator[Operator]:
    """The operator against `api` until the generator is closed; `options` override OperatorConfig fields."""
    running = Operator(api, options=options)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def operator(operator_api: Api) -> Iterator[Operator]:
    """The real operator (kopf in a thread, all namespaces) against `operator_api`."""
    yield from run_operator(operator_api)


@pytest.fixture
def operator_without_cel(operator_api_without_cel: Api) -> Iterator[Operator]:
    yield from run_operator(operator_api_without_cel)
