"""`mnft operator` as a real process: kubeconfig login, liveness endpoint, a job's pods, clean SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any, cast

from operator_fixtures import NS, Api, job_manifest, wait_for

MNFT = str(Path(sys.executable).parent / "mnft")


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def test_operator_process_with_kubeconfig_and_liveness(operator_api: Api, tmp_path: Path) -> None:
    kubeconfig = operator_api.kubeconfig  # the embedded API's: URL, CA and token
    liveness = "http://127.0.0.1:18937/healthz"
    args = [
        MNFT,
        "operator",
        "--kubeconfig",
        str(kubeconfig),
        "-n",
        NS,
        "--liveness",
        liveness,
        "--standalone",
    ]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for("the liveness endpoint", lambda: healthy(liveness), timeout=20)
        operator_api.create_job(job_manifest("cli", workers=2))
        wait_for("2 pods from the operator process", lambda: len(operator_api.pods("cli")) == 2)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert "Traceback" not in output, output


def test_operator_cli_rejects_bad_options_in_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = subprocess.run([MNFT, "operator", "--kubeconfig", str(missing)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == f"mnft operator: --kubeconfig {missing}: no such file"

    broken = tmp_path / "broken"
    broken.write_text("clusters: [\n")
    result = subprocess.run([MNFT, "operator", "--kubeconfig", str(broken)], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith(f"mnft operator: --kubeconfig {broken}: ")
    assert len(result.stderr.strip().splitlines()) == 1

    # Not in a cluster and no kubeconfig at all: one line before kopf starts, not a login retry loop.
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"} | {"HOME": str(tmp_path)}
    result = subprocess.run([MNFT, "operator"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("mnft operator: no credentials: ")
    assert len(result.stderr.strip().splitlines()) == 1


def kopf_peering_crd(kind: str, plural: str, scope: str) -> dict[str, object]:
    """kopf's own peering CRD (as in kopf's peering.yaml)."""
    status = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.kopf.dev"},
        "spec": {
            "scope": scope,
            "group": "kopf.dev",
            "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {"status": status}}},
                }
            ],
        },
    }


def test_operator_with_kopf_peering_handles_jobs_and_keeps_the_peering_alive(operator_api: Api) -> None:
    from kubernetes import client as k8s

    from mnft_operator.operator_cli import run_operator_in_thread

    extensions = k8s.ApiextensionsV1Api(operator_api.client)
    extensions.create_custom_resource_definition(
        cast(Any, kopf_peering_crd("KopfPeering", "kopfpeerings", "Namespaced"))
    )
    peering = {
        "apiVersion": "kopf.dev/v1",
        "kind": "KopfPeering",
        "metadata": {"name": "mnft", "namespace": NS},
    }

    def create_peering() -> bool:
        try:
            operator_api.custom.create_namespaced_custom_object("kopf.dev", "v1", NS, "kopfpeerings", peering)
        except k8s.ApiException:
            return False  # the new CRD is not served yet
        return True

    wait_for("the KopfPeering object", create_peering)
    handle = run_operator_in_thread(
        None, [NS], kubeconfig=str(operator_api.kubeconfig), peering="mnft", priority=10
    )
    try:
        operator_api.create_job(job_manifest("peered", workers=1))
        wait_for("the pod", lambda: operator_api.pods("peered"))

        def peers() -> dict[str, object]:
            obj = cast(
                dict[str, Any],
                operator_api.custom.get_namespaced_custom_object(
                    "kopf.dev", "v1", NS, "kopfpeerings", "mnft"
                ),
            )
            return dict(obj.get("status") or {})

        status = wait_for("this instance in the peering status", peers)
        assert [peer["priority"] for peer in status.values()] == [10]  # type: ignore[index]
    finally:
        handle.stop()
