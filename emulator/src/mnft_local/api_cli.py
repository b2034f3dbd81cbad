"""`mnft api`: serve the embedded Kubernetes API (and, unless told not to, a local kubelet) until
SIGINT/SIGTERM, and write a kubeconfig so kubectl, `mnft operator` or any client can use it."""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import FrameType


def parse_mount(text: str) -> tuple[str, Path]:
    name, sep, directory = text.partition("=")
    if not sep or not name or not directory:
        raise argparse.ArgumentTypeError(
            f"--mount {text!r}: expected NAME=DIR (a pod volume or PVC claim name)"
        )
    path = Path(directory).expanduser().resolve()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"--mount {text!r}: {path} is not a directory; create it first")
    return name, path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mnft api",
        description="Serve an embedded Kubernetes API on loopback, with a local kubelet that runs pods as "
        "local processes, until interrupted (Ctrl-C).",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: a free one)")
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        default=None,
        help="where to write the kubeconfig (default: <state-dir>/kubeconfig)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="pod volumes, PVC data and logs (default: a temporary directory, removed on exit)",
    )
    parser.add_argument("--no-kubelet", action="store_true", help="serve the API only; pods stay Pending")
    parser.add_argument(
        "--no-crd",
        action="store_true",
        help="do not install the MobileNetFineTune CRD (to `kubectl apply -f manifests/crd.yaml` yourself)",
    )
    parser.add_argument(
        "--mount",
        action="append",
        default=[],
        type=parse_mount,
        metavar="NAME=DIR",
        help="map a pod volume (or PVC claim) named NAME to the host directory DIR; repeatable",
    )
    parser.add_argument(
        "--simulate-ascend-devices",
        action="store_true",
        help="the node offers huawei.com/Ascend910 and pods get the device plugin's annotation",
    )
    return parser


def usage_text(url: str, kubeconfig: Path, state_dir: Path, kubelet: bool, crd: bool) -> str:
    kubelet_line = "node mnft-local runs pods as local processes" if kubelet else "off (--no-kubelet)"
    lines = [
        f"mnft api: serving the Kubernetes API at {url}",
        f"  kubeconfig: {kubeconfig}",
        f"  state dir:  {state_dir}",
        f"  kubelet:    {kubelet_line}",
        "  CRD:        " + ("MobileNetFineTune installed" if crd else "not installed (--no-crd)"),
        *(
            ["  warning:    no authentication: whoever reaches this port runs commands as you, through pods"]
            if kubelet
            else []
        ),
        "use it with:",
        f"  export KUBECONFIG={kubeconfig}",
        "  kubectl get nodes,pods -A",
        "  mnft operator --kubeconfig $KUBECONFIG",
        "  kubectl apply --validate=false -f manifests/examples/cpu-2-workers.yaml",
        "stop with Ctrl-C",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(argv or []))
    if not 0 <= args.port <= 65535:
        print(f"mnft api: --port {args.port}: must be between 0 and 65535", file=sys.stderr)
        return 2
    temporary = args.state_dir is None
    state_dir: Path = (args.state_dir or Path(tempfile.mkdtemp(prefix="mnft-api-"))).resolve()
    kubeconfig: Path = (args.kubeconfig or state_dir / "kubeconfig").resolve()
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"mnft api: cannot create {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1

    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return serve(args, state_dir, kubeconfig, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if temporary:
            shutil.rmtree(state_dir, ignore_errors=True)


def install_crd(url: str) -> None:
    from mnft_operator.crd import crd

    request = urllib.request.Request(
        f"{url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        data=json.dumps(crd()).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def serve(args: argparse.Namespace, state_dir: Path, kubeconfig: Path, stop: threading.Event) -> int:
    from kube_emulator.apiserver.apiserver import EmbeddedAPI
    from kube_emulator.kubelet.kubelet import LocalKubelet
    from mnft_local.ascend_devices import AscendDevicePlugin

    log_dir = state_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    api = EmbeddedAPI(log_dir=log_dir, port=args.port)
    kubelet: LocalKubelet | None = None
    try:
        try:
            api.start()
        except OSError as exc:
            print(f"mnft api: {exc} (choose another --port, or 0 for a free one)", file=sys.stderr)
            return 1
        api.write_kubeconfig(str(kubeconfig))
        if not args.no_crd:
            try:
                install_crd(api.url)
            except (urllib.error.URLError, OSError) as exc:
                body = exc.read().decode(errors="replace") if isinstance(exc, urllib.error.HTTPError) else ""
                detail = " ".join(f"{exc} {body[:300]}".split())
                print(f"mnft api: installing the MobileNetFineTune CRD failed: {detail}", file=sys.stderr)
                return 1
        if not args.no_kubelet:
            kubelet = LocalKubelet(
                api_url=api.url,
                state_dir=state_dir / "kubelet",
                log_dir=log_dir,
                mounts=dict(args.mount),
                device_plugins=[AscendDevicePlugin()] if args.simulate_ascend_devices else [],
            )
            try:
                kubelet.start()
            except RuntimeError as exc:
                kubelet = None
                print(f"mnft api: {exc}", file=sys.stderr)
                return 1
        print(usage_text(api.url, kubeconfig, state_dir, kubelet is not None, not args.no_crd), flush=True)
        while not stop.wait(0.5):
            pass
        print("mnft api: stopping", flush=True)
        return 0
    finally:
        if kubelet is not None:
            kubelet.stop()
        api.stop()
