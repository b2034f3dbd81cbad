"""What pod 0 of a 2-pod CPU dynamic-cluster job does when pod 1 dies mid-training: its exit code (75 means
the operator restarts the job), its last line, and how long after the kill it exits.

    .venv/bin/python bench/tempfail_peer_loss.py [--timeout 300]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

MNFT = [sys.executable, "-m", "mnft_operator.cli"]


def pod_env(node_rank: int, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MNFT_", "MS_", "RANK_", "GLOG"))}
    return {
        **env,
        "MNFT_PLATFORM": "CPU",
        "MNFT_WORKER_INDEX": str(node_rank),
        "MNFT_WORKERS": "2",
        "MNFT_DEVICES_PER_WORKER": "1",
        "MNFT_COMM_MODE": "dynamicCluster",
        "MS_SCHED_HOST": "localhost",
        "MS_SCHED_PORT": str(port),
        "MS_WORKER_NUM": "2",
        "MNFT_NODE_RANK": str(node_rank),
        "MNFT_LOCAL_WORKER_NUM": "1",
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    from mnft_trainer.pod.launch import free_tcp_port

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = root / "digits"
        subprocess.run(
            [*MNFT, "demo-data", "--output", str(data), "--classes", "0,1", "--image_size", "32"],
            check=True,
            capture_output=True,
        )
        termination = root / "termination-0"
        termination.write_text("")
        train = ["launch", "train", "--platform", "CPU", "--dataset_path", str(data), "--run_eval", "false"]
        train += ["--epoch_size", "50", "--save_checkpoint_path", str(root / "out"), "--image_height", "32"]
        train += ["--image_width", "32", "--batch_size", "16"]
        port = free_tcp_port()
        pods = []
        for i in range(2):
            env = pod_env(i, port)
            if i == 0:
                env["TERMINATION_MESSAGE_PATH"] = str(termination)
            pods.append(
                subprocess.Popen(
                    [*MNFT, *train],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    start_new_session=True,
                )
            )
        lines: list[str] = []
        first_epoch = threading.Event()

        def read() -> None:
            assert pods[0].stdout is not None
            for line in pods[0].stdout:
                lines.append(line.rstrip("\n"))
                if "] epoch[1/" in line:
                    first_epoch.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        if not first_epoch.wait(args.timeout):
            print("pod 0 never finished an epoch:\n" + "\n".join(lines[-20:]))
            for pod in pods:
                os.killpg(pod.pid, signal.SIGKILL)
            return 1
        os.killpg(pods[1].pid, signal.SIGKILL)
        killed = time.monotonic()
        pods[1].wait()
        try:
            code = pods[0].wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            print(f"pod 0 still running {args.timeout:g} s after its peer was killed")
            os.killpg(pods[0].pid, signal.SIGKILL)
            return 1
        reader.join(timeout=5)
        print("\n".join(lines[-8:]))
        print(f"pod 0 exited {code} {time.monotonic() - killed:.1f} s after pod 1 was SIGKILLed")
        print(f"termination message: {termination.read_text().strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
