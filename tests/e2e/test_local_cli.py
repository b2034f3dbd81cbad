"""`mnft local` as a user runs it: refuses an invalid file before starting anything, and Ctrl-C stops
every process it started (API, kubelet, operator, pod process groups, ranks)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from local_e2e_helpers import MNFT, job_manifest, small_subset


def _descendants(root: int) -> dict[int, str]:
    """pid -> start time of every live descendant of `root` (start time guards against pid reuse)."""
    parents: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pid, ppid = int(entry), int(fields[1])
        parents.setdefault(ppid, []).append(pid)
        starts[pid] = fields[19]
    found: dict[int, str] = {}
    todo = [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found[child] = starts[child]
            todo.append(child)
    return found


def _alive(pid: int, start: str) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[19] == start and fields[0] != "Z"


def _ignore_sigint() -> None:
    """As a background job of a non-interactive shell (or some CI runners) starts its processes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_invalid_file_is_refused_before_anything_starts(tmp_path: Path):
    job = job_manifest("bad-job", "digits")
    job["spec"]["workers"] = 0
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(job))
    state = tmp_path / "state"
    proc = subprocess.run(
        [MNFT, "local", str(path), "--state-dir", str(state), "--mount", f"data={tmp_path}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == f"mnft local: error: {path}: spec.workers: must be at least 1, not 0\n"
    assert not state.exists()  # nothing started: no API, no kubelet, no logs


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_leaves_no_process_behind(tmp_path: Path, demo_data: Path, signum: int, code: int):
    data = small_subset(demo_data / "digits-0-4", tmp_path / "data", per_class=8)
    # 20 images per rank in batches of 4, for 10,000 epochs: the job trains until the signal lands.
    hyper = {"imageHeight": 32, "imageWidth": 32, "batchSize": 4, "epochSize": 10000}
    job = job_manifest("e2e-interrupted", ".", hyperparameters=hyper)
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(job))
    proc = subprocess.Popen(
        [MNFT, "local", str(path), "--mount", f"data={data}", "--mount", f"out={tmp_path / 'out'}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=_ignore_sigint,  # inherited by a background job: Ctrl-C must work all the same
    )
    lines: list[str] = []
    children: dict[int, str] = {}
    try:
        assert proc.stdout is not None
        # Wait until the job trains: rank 1 printed, and rank 0 (the only rank logging epochs) finished an
        # epoch, which needs rank 1 in every allreduce. The job is running when the signal lands.
        while not (
            any(line.startswith("[worker-0/rank-0] epoch[") for line in lines)
            and any(line.startswith("[worker-1/rank-1] ") for line in lines)
        ):
            line = proc.stdout.readline()
            assert line, f"mnft local ended early:\n{''.join(lines[-30:])}"
            lines.append(line)
        children = _descendants(proc.pid)
        assert len(children) >= 4  # at least both pods' launch processes and their ranks
        proc.send_signal(signum)
        rest, _ = proc.communicate(timeout=60)
        lines.append(rest)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == code, "".join(lines[-30:])
    assert "[mnft local] interrupted; stopping the operator, the pods and the API" in "".join(lines)
    # The kubelet SIGKILLed every pod's process group before mnft local returned; a killed process may
    # take a moment to leave /proc (the deadline only bounds a failure).
    deadline = time.monotonic() + 60
    while (
        left := [pid for pid, start in children.items() if _alive(pid, start)]
    ) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == [], [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in left]


def test_keep_api_serves_kubectl_after_the_job(tmp_path: Path):
    (tmp_path / "datasets").mkdir()
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(job_manifest("e2e-kept", "missing")))  # fails at once: a fast job
    state = tmp_path / "state"
    proc = subprocess.Popen(
        [
            MNFT,
            "local",
            str(path),
            "--keep-api",
            "--state-dir",
            str(state),
            "--mount",
            f"data={tmp_path / 'datasets'}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=_ignore_sigint,  # Ctrl-C must end it all the same
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        while not lines or "press Ctrl-C to stop" not in lines[-1]:
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        kubeconfig = state / "kubeconfig"
        hint = f"[mnft local] try: kubectl --kubeconfig {kubeconfig} get mft -n default\n"
        assert hint in lines
        got = subprocess.run(
            [
                str(Path(MNFT).parent / "kubectl"),
                "--kubeconfig",
                str(kubeconfig),
                "get",
                "mft",
                "-n",
                "default",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert got.returncode == 0, got.stderr
        assert got.stdout.splitlines()[0].split()[:2] == ["NAME", "PHASE"]
        assert got.stdout.splitlines()[1].split()[:2] == ["e2e-kept", "Failed"]
        kubectl = [str(Path(MNFT).parent / "kubectl"), "--kubeconfig", str(kubeconfig)]
        # The failed pod stays for its logs (cleanPodPolicy Running); kubectl reads them through pods/log.
        listed = [*kubectl, "get", "pods", "-o", "name"]
        pods = subprocess.run(listed, capture_output=True, text=True, timeout=60)
        assert pods.returncode == 0 and pods.stdout.strip(), pods
        pod = pods.stdout.split()[0]
        logs = subprocess.run([*kubectl, "logs", pod], capture_output=True, text=True, timeout=60)
        assert logs.returncode == 0, logs.stderr
        assert "] error: --dataset_path " in logs.stdout, logs.stdout
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
        lines.append(rest)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 1  # the job's result, not the Ctrl-C that ended the wait
    reason = "[mnft local]   reason:     TrainerError: e2e-kept-worker-"
    assert any(line.startswith(reason) and "error: --dataset_path " in line for line in lines), lines
