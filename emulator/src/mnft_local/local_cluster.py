"""A whole cluster in this process: the embedded API, the local kubelet and the real operator.

`mnft local` and the end-to-end tests both stand on `LocalCluster`; the tests also stop and start its
operator mid-job.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from kubernetes import client as k8s

from mnft_operator import GROUP, PLURAL, VERSION


class ApiRejected(Exception):
    """The API refused an object (e.g. 422 from the CRD schema); the message names the field."""


def api_message(exc: k8s.ApiException) -> str:
    """The `message` of a Kubernetes Status body, or the HTTP reason."""
    try:
        body = json.loads(exc.body or "")
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return f"{exc.status} {exc.reason}"


@dataclass
class LocalCluster:
    state_dir: Path
    namespace: str = "default"
    mounts: Mapping[str, str] = field(default_factory=dict)
    simulate_ascend_devices: bool = False
    node_name: str = "local"
    # `pod-security.kubernetes.io/enforce` on the namespace (None: nothing enforced, so a local job's
    # hostPath volumes run); the e2e tests enforce "restricted" to prove the operator's pods pass it.
    pod_security: str | None = None
    _api: Any = None
    _kubelet: Any = None
    _operator: Any = None
    _client: k8s.ApiClient | None = None

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def url(self) -> str:
        return str(self._api.url)

    @property
    def client(self) -> k8s.ApiClient:
        if self._client is None:
            config = k8s.Configuration(host=self.url)
            self._client = k8s.ApiClient(config)
        return self._client

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self, operator: bool = True) -> None:
        """Start the API, apply the CRD and the namespace, start the kubelet and (optionally) the operator."""
        from kube_emulator.apiserver.apiserver import EmbeddedAPI
        from kube_emulator.kubelet.kubelet import LocalKubelet
        from mnft_local.ascend_devices import AscendDevicePlugin

        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._api = EmbeddedAPI(log_dir=str(self.log_dir))
        self._api.start()
        self._apply_crd()
        self._ensure_namespace()
        self._kubelet = LocalKubelet(
            api_url=self.url,
            state_dir=str(self.state_dir / "kubelet"),
            log_dir=str(self.log_dir),
            node_name=self.node_name,
            mounts=dict(self.mounts),
            device_plugins=[AscendDevicePlugin()] if self.simulate_ascend_devices else [],
        )
        self._kubelet.start()
        if operator:
            self.start_operator()

    def start_operator(self) -> None:
        from mnft_operator.operator_cli import run_operator_in_thread

        # Progress (epoch, loss) is read from rank 0's log: often, since local jobs are short.
        # hostPath is allowed: the local kubelet's volumes are directories of this machine anyway.
        self._operator = run_operator_in_thread(
            self.url, [self.namespace], progress_seconds=2.0, allow_host_path=True
        )

    @property
    def operator_alive(self) -> bool:
        return self._operator is not None and bool(self._operator.alive)

    def stop_operator(self) -> None:
        if self._operator is not None:
            operator, self._operator = self._operator, None
            operator.stop()

    def stop(self) -> None:
        """Operator first (so it does not react to pods dying), then the kubelet (kills pods), the API."""
        errors: list[BaseException] = []
        for stop in (self.stop_operator, self._stop_kubelet, self._stop_api):
            try:
                stop()
            except BaseException as exc:  # keep stopping the rest; report the first failure
                errors.append(exc)
        if errors:
            raise errors[0]

    def _stop_kubelet(self) -> None:
        if self._kubelet is not None:
            kubelet, self._kubelet = self._kubelet, None
            kubelet.stop()

    def _stop_api(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._api is not None:
            api, self._api = self._api, None
            api.stop()

    def write_kubeconfig(self, path: Path) -> Path:
        self._api.write_kubeconfig(str(path))
        return path

    # -- objects ----------------------------------------------------------------------------------

    def _apply_crd(self) -> None:
        from mnft_operator.crd import crd

        k8s.ApiextensionsV1Api(self.client).create_custom_resource_definition(body=cast(Any, crd()))

    def _ensure_namespace(self) -> None:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.namespace}}
        core = k8s.CoreV1Api(self.client)
        try:
            core.create_namespace(body=cast(Any, body))
        except k8s.ApiException as exc:
            if exc.status != 409:
                raise
        if self.pod_security is not None:
            labels = {"pod-security.kubernetes.io/enforce": self.pod_security}
            core.patch_namespace(self.namespace, {"metadata": {"labels": labels}})

    def create_job(self, job: Mapping[str, Any], timeout: float = 10.0) -> None:
        """Create the resource; retries briefly while the freshly applied CRD is not served yet."""
        api = k8s.CustomObjectsApi(self.client)
        deadline = time.monotonic() + timeout
        while True:
            try:
                api.create_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, dict(job))
                return
            except k8s.ApiException as exc:
                if exc.status == 404 and time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
                raise ApiRejected(f"the API refused {job['metadata']['name']}: {api_message(exc)}") from None

    def get_job(self, name: str) -> dict[str, Any]:
        api = k8s.CustomObjectsApi(self.client)
        job = api.get_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, name)
        return cast(dict[str, Any], job)

    def pods(self, job_name: str) -> list[dict[str, Any]]:
        """The job's pods as the API returns them (plain JSON, no client models)."""
        selector = f"finetune.mindspore.io/job-name={job_name}"
        response: Any = k8s.CoreV1Api(self.client).list_namespaced_pod(
            self.namespace, label_selector=selector, _preload_content=False
        )
        items: list[dict[str, Any]] = json.loads(response.data)["items"]
        return items
