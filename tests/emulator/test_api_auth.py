"""Who may drive the embedded API, over real HTTPS: token, Host, Origin, body media type, kubeconfig."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from api_helpers import run_kubectl
from kube_emulator.apiserver.apiserver import EmbeddedAPI, KubeconfigExists
from mnft_local import api_cli

POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "evil"},
    "spec": {"containers": [{"name": "main", "image": "busybox", "command": ["touch", "/tmp/pwned"]}]},
}
PODS = "/api/v1/namespaces/default/pods"


@pytest.fixture(scope="module")
def api() -> Iterator[EmbeddedAPI]:
    with EmbeddedAPI() as server:
        yield server


def send(api: EmbeddedAPI, method: str, path: str, **kwargs: Any) -> requests.Response:
    """One request with exactly the headers given (no token unless passed), trusting the API's CA."""
    session = requests.Session()
    session.trust_env = False
    return session.request(method, api.url + path, verify=api.ca_file, timeout=10, **kwargs)


def authed(api: EmbeddedAPI, **headers: str) -> dict[str, str]:
    return {**api.auth_headers, **headers}


def assert_status(response: requests.Response, code: int, reason: str) -> dict[str, Any]:
    assert response.status_code == code, response.text
    body: dict[str, Any] = response.json()
    assert (body["kind"], body["status"], body["code"], body["reason"]) == ("Status", "Failure", code, reason)
    return body


def pod_exists(api: EmbeddedAPI, name: str) -> bool:
    response = send(api, "GET", f"{PODS}/{name}", headers=api.auth_headers)
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


def test_the_token_opens_the_api(api: EmbeddedAPI) -> None:
    assert api.url.startswith("https://127.0.0.1:")
    assert send(api, "GET", "/api/v1/namespaces", headers=api.auth_headers).status_code == 200


def test_no_token_is_401_like_kube_apiserver(api: EmbeddedAPI) -> None:
    body = assert_status(send(api, "GET", "/api/v1/namespaces"), 401, "Unauthorized")
    assert body["message"] == "Unauthorized"
    assert_status(send(api, "GET", "/healthz"), 401, "Unauthorized")


def test_a_wrong_token_is_401(api: EmbeddedAPI) -> None:
    for header in (f"Bearer {api.token}x", f"Bearer {api.token[:-1]}", "Bearer ", f"Basic {api.token}"):
        response = send(api, "POST", PODS, json=POD, headers={"Authorization": header})
        assert_status(response, 401, "Unauthorized")
    assert not pod_exists(api, "evil")


def test_a_text_plain_post_is_415_and_creates_no_pod(api: EmbeddedAPI) -> None:
    # The "simple" cross-origin request a web page can send without a CORS preflight.
    response = send(
        api, "POST", PODS, data=json.dumps(POD), headers=authed(api, **{"Content-Type": "text/plain"})
    )
    body = assert_status(response, 415, "UnsupportedMediaType")
    assert "application/json, application/yaml" in body["message"]
    assert not pod_exists(api, "evil")


def test_a_form_post_is_415(api: EmbeddedAPI) -> None:
    response = send(api, "POST", PODS, data={"a": json.dumps(POD)}, headers=api.auth_headers)
    assert response.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert_status(response, 415, "UnsupportedMediaType")
    multipart = send(api, "POST", PODS, files={"pod": json.dumps(POD)}, headers=api.auth_headers)
    assert_status(multipart, 415, "UnsupportedMediaType")
    assert not pod_exists(api, "evil")


def test_protobuf_is_decoded_so_a_broken_envelope_is_400_not_415(api: EmbeddedAPI) -> None:
    # client-go falls back to JSON after a 415 only for CBOR: protobuf must be read (api_protobuf).
    headers = authed(api, **{"Content-Type": "application/vnd.kubernetes.protobuf"})
    empty = assert_status(send(api, "POST", PODS, data=b"k8s\x00", headers=headers), 400, "BadRequest")
    assert "the protobuf envelope names no apiVersion and kind" in empty["message"]
    no_magic = assert_status(send(api, "POST", PODS, data=b"\x0a\x00", headers=headers), 400, "BadRequest")
    assert "does not start with the k8s\\x00 magic" in no_magic["message"]
    assert not pod_exists(api, "evil")


def test_json_and_yaml_bodies_and_a_body_without_type_are_accepted(api: EmbeddedAPI) -> None:
    yaml_body = yaml.safe_dump({**POD, "metadata": {"name": "as-yaml"}})
    headers = authed(api, **{"Content-Type": "application/yaml"})
    assert send(api, "POST", PODS, data=yaml_body, headers=headers).status_code == 201
    # No Content-Type is JSON, as in kube-apiserver (the kubernetes Python client sends none).
    untyped = json.dumps({**POD, "metadata": {"name": "untyped"}})
    assert send(api, "POST", PODS, data=untyped, headers=api.auth_headers).status_code == 201
    patch = send(api, "PATCH", f"{PODS}/untyped", data="{}", headers=api.auth_headers)
    assert_status(patch, 415, "UnsupportedMediaType")  # a patch must say its type


def test_a_foreign_host_is_403(api: EmbeddedAPI) -> None:
    response = send(api, "GET", "/api/v1/namespaces", headers=authed(api, Host="evil.example"))
    body = assert_status(response, 403, "Forbidden")
    assert "evil.example" in body["message"]
    rebound = send(api, "GET", "/api/v1/namespaces", headers=authed(api, Host=f"evil.example:{api.port}"))
    assert_status(rebound, 403, "Forbidden")


def test_a_loopback_host_with_another_port_is_403(api: EmbeddedAPI) -> None:
    other = api.port + 1 if api.port < 65535 else api.port - 1
    for host in (f"127.0.0.1:{other}", f"localhost:{other}", "localhost"):
        response = send(api, "GET", "/api/v1/namespaces", headers=authed(api, Host=host))
        assert_status(response, 403, "Forbidden")
    for host in (f"localhost:{api.port}", f"[::1]:{api.port}", f"LOCALHOST:{api.port}"):
        assert send(api, "GET", "/api/v1/namespaces", headers=authed(api, Host=host)).status_code == 200


def test_a_cross_origin_request_is_403(api: EmbeddedAPI) -> None:
    for origin in ("https://evil.example", "null", f"http://localhost:{api.port + 1}", api.url + "/x"):
        response = send(api, "POST", PODS, json=POD, headers=authed(api, Origin=origin))
        assert_status(response, 403, "Forbidden")
    assert not pod_exists(api, "evil")
    same = send(api, "GET", "/api/v1/namespaces", headers=authed(api, Origin=api.url))
    assert same.status_code == 200


def test_the_kubeconfig_is_created_0600_and_holds_the_token(api: EmbeddedAPI, tmp_path: Path) -> None:
    path = api.write_kubeconfig(tmp_path / "kube" / "config")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = yaml.safe_load(path.read_text())
    assert config["users"][0]["user"] == {"token": api.token}
    assert config["clusters"][0]["cluster"]["server"] == api.url
    other = EmbeddedAPI()
    assert other.token != api.token and len(api.token) >= 40


def test_kubectl_works_through_the_kubeconfig(api: EmbeddedAPI, tmp_path: Path) -> None:
    path = api.write_kubeconfig(tmp_path / "config")
    result = run_kubectl(path, "get", "namespaces", "-o", "name")
    assert result.returncode == 0, result.stderr
    assert "namespace/default" in result.stdout.split()
    manifest = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "via-kubectl"}})
    applied = run_kubectl(path, "apply", "-f", "-", stdin=manifest)
    assert applied.returncode == 0, applied.stderr
    got = run_kubectl(path, "get", "configmap", "via-kubectl", "-o", "name")
    assert got.stdout == "configmap/via-kubectl\n", got.stderr


def test_a_foreign_kubeconfig_is_never_overwritten(api: EmbeddedAPI, tmp_path: Path) -> None:
    foreign = tmp_path / "config"
    foreign.write_text("apiVersion: v1\nkind: Config\n# the user's own\n")
    before = foreign.read_bytes()
    with pytest.raises(KubeconfigExists):
        api.write_kubeconfig(foreign)
    assert foreign.read_bytes() == before
    link = tmp_path / "link"
    link.symlink_to(foreign)
    with pytest.raises(KubeconfigExists):
        api.write_kubeconfig(link)
    assert foreign.read_bytes() == before and link.is_symlink()
    ours = api.write_kubeconfig(tmp_path / "ours")
    api.write_kubeconfig(ours)  # one it wrote itself is replaced
    api.remove_kubeconfig(ours)
    api.remove_kubeconfig(foreign)  # not its own: left alone
    assert not ours.exists() and foreign.read_bytes() == before


def test_mnft_api_refuses_a_foreign_kubeconfig_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = tmp_path / "config"
    foreign.write_text("apiVersion: v1\nkind: Config\n")
    before = foreign.read_bytes()
    assert api_cli.main(["--kubeconfig", str(foreign), "--state-dir", str(tmp_path / "state")]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"mnft api: --kubeconfig {foreign}: the file exists and mnft did not write it; "
        "refusing to overwrite it (give a new path)\n"
    )
    assert foreign.read_bytes() == before
    assert not (tmp_path / "state").exists()  # refused before anything started
