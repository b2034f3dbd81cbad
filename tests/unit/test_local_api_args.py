import argparse
from pathlib import Path

import pytest

from mnft_local.api_cli import build_parser, main, parse_mount, usage_text


def test_parse_mount(tmp_path: Path) -> None:
    assert parse_mount(f"data={tmp_path}") == ("data", tmp_path.resolve())
    with pytest.raises(argparse.ArgumentTypeError, match="expected NAME=DIR"):
        parse_mount("data")
    with pytest.raises(argparse.ArgumentTypeError, match="is not a directory; create it first"):
        parse_mount(f"data={tmp_path / 'missing'}")


def test_defaults() -> None:
    args = build_parser().parse_args([])
    assert (args.port, args.kubeconfig, args.state_dir, args.no_kubelet, args.no_crd, args.mount) == (
        0,
        None,
        None,
        False,
        False,
        [],
    )


def test_bad_port_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "70000"]) == 2
    assert capsys.readouterr().err == "mnft api: --port 70000: must be between 0 and 65535\n"


def test_usage_text_without_kubelet_or_crd() -> None:
    assert usage_text("http://127.0.0.1:8001", Path("/s/kubeconfig"), Path("/s"), False, False) == "\n".join(
        [
            "mnft api: serving the Kubernetes API at http://127.0.0.1:8001",
            "  kubeconfig: /s/kubeconfig",
            "  state dir:  /s",
            "  kubelet:    off (--no-kubelet)",
            "  CRD:        not installed (--no-crd)",
            "use it with:",
            "  export KUBECONFIG=/s/kubeconfig",
            "  kubectl get nodes,pods -A",
            "  mnft operator --kubeconfig $KUBECONFIG",
            "  kubectl apply --validate=false -f manifests/examples/cpu-2-workers.yaml",
            "stop with Ctrl-C",
        ]
    )
    assert "warning:    no authentication" in usage_text("u", Path("/k"), Path("/s"), True, True)
