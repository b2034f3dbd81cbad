"""`mnft fetch-checkpoint` against a real http.server on 127.0.0.1."""

from __future__ import annotations

import functools
import hashlib
import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from mnft_trainer.pod import fetch

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB, more than one read chunk
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


class Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    root = tmp_path / "www"
    root.mkdir()
    (root / "model.ckpt").write_bytes(PAYLOAD)
    requests: list[str] = []
    handler = type("H", (Handler,), {"requests": requests})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()
    httpd.server_close()


def test_downloads_verifies_and_renames(server, tmp_path, capsys):
    base, requests = server
    output = tmp_path / "out" / "pretrained" / "mobilenetv2.ckpt"
    assert (
        fetch.main(["--url", f"{base}/model.ckpt", "--sha256", DIGEST.upper(), "--output", str(output)]) == 0
    )
    assert output.read_bytes() == PAYLOAD
    assert list(output.parent.iterdir()) == [output]  # no temporary file left behind
    assert requests == ["/model.ckpt"]
    assert "sha256 verified" in capsys.readouterr().out


def test_skips_the_download_when_the_file_already_matches(server, tmp_path, capsys):
    base, requests = server
    output = tmp_path / "model.ckpt"
    output.write_bytes(PAYLOAD)
    assert fetch.main(["--url", f"{base}/model.ckpt", "--sha256", DIGEST, "--output", str(output)]) == 0
    assert requests == []
    assert "already present" in capsys.readouterr().out


def test_replaces_an_existing_file_with_the_wrong_content(server, tmp_path):
    base, requests = server
    output = tmp_path / "model.ckpt"
    output.write_bytes(b"stale")
    assert fetch.main(["--url", f"{base}/model.ckpt", "--sha256", DIGEST, "--output", str(output)]) == 0
    assert output.read_bytes() == PAYLOAD
    assert requests == ["/model.ckpt"]


def test_hash_mismatch_is_one_line_and_leaves_nothing(server, tmp_path, capsys):
    base, _ = server
    output = tmp_path / "model.ckpt"
    wrong = "0" * 64
    assert fetch.main(["--url", f"{base}/model.ckpt", "--sha256", wrong, "--output", str(output)]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"error: sha256 of {base}/model.ckpt is {DIGEST}, expected {wrong}; check --sha256 or the URL"
    ]
    assert list(tmp_path.iterdir()) == [tmp_path / "www"]


def test_http_404_is_one_line_and_not_retried(server, tmp_path, capsys):
    base, requests = server
    output = tmp_path / "model.ckpt"
    assert fetch.main(["--url", f"{base}/missing.ckpt", "--sha256", DIGEST, "--output", str(output)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"error: downloading {base}/missing.ckpt failed: HTTP 404 File not found"
    ]
    assert requests == ["/missing.ckpt"]
    assert not output.exists()


def test_bad_sha256_is_a_usage_error(tmp_path, capsys):
    assert (
        fetch.main(["--url", "http://127.0.0.1:9/x", "--sha256", "abc", "--output", str(tmp_path / "x")]) == 2
    )
    assert capsys.readouterr().err.splitlines() == [
        "error: --sha256 'abc' is not 64 hex digits (a SHA-256 digest)"
    ]


def test_cli_subprocess_writes_the_termination_message_and_does_not_import_mindspore(server, tmp_path):
    base, _ = server
    termination = tmp_path / "termination-log"
    termination.write_text("")
    code = (
        "import sys; from mnft_operator.cli import main; rc = main(sys.argv[1:]); "
        "print('mindspore' in sys.modules); sys.exit(rc)"
    )
    args = [
        "fetch-checkpoint",
        "--url",
        f"{base}/missing.ckpt",
        "--sha256",
        DIGEST,
        "--output",
        str(tmp_path / "m"),
    ]
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        env={"TERMINATION_MESSAGE_PATH": str(termination), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout.strip() == "False"
    assert (
        termination.read_text() == f"error: downloading {base}/missing.ckpt failed: HTTP 404 File not found"
    )


class Flaky(http.server.BaseHTTPRequestHandler):
    """Cuts the body short on the first `failures` requests, then serves it whole."""

    failures = 1
    count = 0

    def do_GET(self) -> None:
        type(self).count += 1
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        whole = type(self).count > type(self).failures
        self.wfile.write(PAYLOAD if whole else PAYLOAD[:1000])
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(handler: type[http.server.BaseHTTPRequestHandler]) -> http.server.ThreadingHTTPServer:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    return httpd


@pytest.mark.parametrize(("failures", "ok"), [(1, True), (3, False)])
def test_a_cut_download_is_retried(tmp_path, failures, ok):
    handler = cast(type[Flaky], type("F", (Flaky,), {"failures": failures, "count": 0}))
    httpd = serve(handler)
    url = f"http://127.0.0.1:{httpd.server_address[1]}/model.ckpt"
    output = tmp_path / "model.ckpt"
    try:
        if ok:
            assert "sha256 verified" in fetch.fetch(url, DIGEST, output, timeout_s=10, retry_wait_s=0.01)
            assert output.read_bytes() == PAYLOAD
            assert handler.count == 2
        else:
            with pytest.raises(
                fetch.FetchError,
                match=f"downloading {url} failed: connection closed after 1000 of {len(PAYLOAD)} bytes",
            ):
                fetch.fetch(url, DIGEST, output, timeout_s=10, retry_wait_s=0.01)
            assert handler.count == fetch.ATTEMPTS
            assert list(tmp_path.iterdir()) == []
    finally:
        httpd.shutdown()
        httpd.server_close()
