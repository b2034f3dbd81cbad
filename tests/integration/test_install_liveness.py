"""The chart's operator container command, run for real against the embedded API: its liveness probe answers.

The Deployment's args (with a free port in place of 8080) plus `--server` start `mnft operator` as a
process; the probe's path on that port must answer 200 once kopf runs, as the kubelet would see it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from api_helpers import helm_template
from kube_emulator.apiserver.apiserver import EmbeddedAPI

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def args_and_probe_path(port: int) -> tuple[list[str], str]:
    """The operator container's args and its liveness probe's path, rendered with the probe on `port`."""
    chart = str(REPO / "charts/mnft-operator")
    rendered = helm_template("mnft", chart, "-n", "mnft-system", "--set", f"livenessProbe.port={port}")
    (deployment,) = [d for d in yaml.safe_load_all(rendered) if d and d["kind"] == "Deployment"]
    (found,) = deployment["spec"]["template"]["spec"]["containers"]
    return [str(arg) for arg in found["args"]], str(found["livenessProbe"]["httpGet"]["path"])


def probe(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def test_operator_started_with_the_chart_args_serves_its_liveness_probe(tmp_path: Path) -> None:
    port = free_port()
    args, path = args_and_probe_path(port)
    with EmbeddedAPI() as api:
        log = (tmp_path / "operator.log").open("w")
        process = subprocess.Popen(
            [str(BIN / "mnft"), *args, "--server", api.url],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HOME": str(tmp_path)},
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            status = None
            while time.monotonic() < deadline and process.poll() is None:
                status = probe(f"http://127.0.0.1:{port}{path}")
                if status == 200:
                    break
                time.sleep(0.3)
            output = (tmp_path / "operator.log").read_text()
            assert status == 200, f"probe answered {status}; operator exit {process.poll()}:\n{output}"
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            log.close()
