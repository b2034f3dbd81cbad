"""Fixtures of the embedded API tests (`pytest_plugins = ["api_fixtures"]`): server, client, namespace."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator

import pytest

from api_helpers import Http, run_kubectl
from kube_emulator.apiserver.apiserver import EmbeddedAPI


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedAPI]:
    server = EmbeddedAPI(log_dir=tmp_path_factory.mktemp("api-logs")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def http(api: EmbeddedAPI) -> Http:
    return Http.to(api)


_SERIAL = 0


@pytest.fixture
def ns(http: Http, request: pytest.FixtureRequest) -> str:
    """A fresh namespace per test, so tests in one module never see each other's objects."""
    global _SERIAL
    _SERIAL += 1
    name = f"t{_SERIAL}-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40].strip("-")
    response = http.post("/api/v1/namespaces", {"metadata": {"name": name}})
    assert response.status_code == 201, response.text
    return name


@pytest.fixture(scope="module")
def kubectl(
    api: EmbeddedAPI, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Real kubectl against `api` (namespace default); fails the test on a non-zero exit unless ok=False."""
    config = api.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config", namespace="default")

    def run(*args: str, stdin: str | None = None, ok: bool = True) -> subprocess.CompletedProcess[str]:
        result = run_kubectl(config, *args, stdin=stdin)
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    return run
