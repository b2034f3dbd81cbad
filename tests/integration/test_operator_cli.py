"""`mnft operator` as a real process: kubeconfig login, liveness endpoint, a job's pods, clean SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from operator_fixtures import NS, Api, job_manifest, wait_for

MNFT = str(Path(sys.executable).parent / "mnft")


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def test_operator_process_with_kubeconfig_and_liveness(operator_api: Api, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: local\n"
        f"clusters: [{{name: local, cluster: {{server: '{operator_api.url}'}}}}]\n"
        "users: [{name: local, user: {}}]\n"
        "contexts: [{name: local, context: {cluster: local, user: local}}]\n"
    )
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
