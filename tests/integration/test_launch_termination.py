"""`mnft launch` as a real process writes the pod's termination message once, from one rank's own.

The ranks run `mnft eval` on a missing dataset, which fails before MindSpore is imported: each rank
writes its error to the file launch gave it, and the pod's file ends up with exactly one of them.
"""

from __future__ import annotations

import os
import subprocess
import sys

LAUNCH = [sys.executable, "-m", "mnft_operator.cli", "launch"]


def run_eval(tmp_path, devices: int) -> tuple[subprocess.CompletedProcess[str], str]:
    pod_file = tmp_path / "termination-log"
    pod_file.write_text("")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MNFT_", "MS_", "RANK_", "TERMINATION"))}
    env = {
        **base,
        "MNFT_PLATFORM": "CPU",
        "MNFT_DEVICES_PER_WORKER": str(devices),
        "TERMINATION_MESSAGE_PATH": str(pod_file),
        "MNFT_LAUNCH_GRACE_SECONDS": "5",
    }
    missing = tmp_path / "no-such-dataset"
    result = subprocess.run(
        [*LAUNCH, "eval", "--dataset_path", str(missing), "--pretrain_ckpt", str(tmp_path / "x.ckpt")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result, pod_file.read_text()


def test_one_process_pod_reports_its_error(tmp_path):
    result, message = run_eval(tmp_path, 1)
    assert result.returncode == 1, result.stdout + result.stderr
    assert message.startswith("error: ") and "no-such-dataset" in message, message
    assert "\n" not in message.strip()


def test_two_process_pod_reports_one_error_not_each(tmp_path):
    result, message = run_eval(tmp_path, 2)
    assert result.returncode == 1, result.stdout + result.stderr
    # The first failing rank's own line, once: neither both ranks' lines nor launch's generic reason.
    assert message.startswith("error: ") and "no-such-dataset" in message, message
    assert message.count("error: ") == 1, message
    assert "exited with code" not in message
