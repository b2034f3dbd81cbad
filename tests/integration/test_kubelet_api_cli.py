"""`mnft api` as a real subprocess: kubectl works against it, SIGINT stops it and every pod process."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from api_helpers import run_kubectl

BIN = Path(sys.executable).parent
POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "idle", "namespace": "default"},
    "spec": {
        "restartPolicy": "Never",
        "terminationGracePeriodSeconds": 1,
        "containers": [{"name": "main", "image": "x", "command": ["sh", "-c", "sleep 300 & sleep 300"]}],
    },
}


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    out = run_kubectl(kubeconfig, *args, stdin=stdin, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_mnft_api_serves_kubectl_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kc.yaml"
    proc = subprocess.Popen(
        [str(BIN / "mnft"), "api", "--state-dir", str(tmp_path / "state"), "--kubeconfig", str(kubeconfig)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            for line in proc.stdout or ():
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()
        banner: list[str] = []
        while not (banner and banner[-1].startswith("stop with Ctrl-C")):
            banner.append(lines.get(timeout=30))  # raises queue.Empty if `mnft api` never comes up
        text = "".join(banner)
        assert f"export KUBECONFIG={kubeconfig}" in text, text + (proc.stderr.read() if proc.stderr else "")
        assert kubectl(kubeconfig, "get", "nodes", "-o", "name").split() == ["node/mnft-local"]
        assert "customresourcedefinition.apiextensions.k8s.io/mobilenetfinetunes.finetune.mindspore.io" in (
            kubectl(kubeconfig, "get", "crd", "-o", "name").split()
        )
        assert kubectl(kubeconfig, "get", "mft", "-o", "name") == ""
        kubectl(kubeconfig, "apply", "--validate=false", "-f", "-", stdin=json.dumps(POD))
        deadline = time.monotonic() + 120  # guards against a hang only
        phase = ""
        while phase != "Running" and time.monotonic() < deadline:
            phase = kubectl(kubeconfig, "get", "pod", "idle", "-o", "jsonpath={.status.phase}")
            time.sleep(0.1)
        assert phase == "Running"
        assert kubectl(kubeconfig, "get", "pods", "-o", "name").split() == ["pod/idle"]
        descendants = psutil.Process(proc.pid).children(recursive=True)
        assert len([p for p in descendants if p.name() == "sleep"]) == 2
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0
        _gone, alive = psutil.wait_procs(descendants, timeout=60)
        assert alive == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
