"""`mnft fetch-checkpoint --url U --sha256 HEX --output FILE`: the init container that brings the
pretrained checkpoint. Standard library only: the download lands in a temporary file next to FILE, its
sha256 is checked, and only then is it renamed into place, so FILE is never a partial or wrong file.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from mnft_contract.exit_codes import ERROR, OK, USAGE_ERROR
from mnft_contract.termination import error_line, write_termination_message

CHUNK = 1 << 20
ATTEMPTS = 3  # transient network errors and HTTP 5xx are retried; 4xx and hash mismatches are not


class FetchError(Exception):
    """One line for the user."""


class _Transient(FetchError):
    pass


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str, target: Path, timeout_s: float) -> tuple[str, int]:
    """Stream `url` into `target`; its sha256 and size."""
    digest = hashlib.sha256()
    size = 0
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response, target.open("wb") as handle:
            for chunk in iter(lambda: response.read(CHUNK), b""):
                digest.update(chunk)
                handle.write(chunk)
                size += len(chunk)
            # read(n) just returns b"" when the server closes early, so check the length ourselves
            length = response.headers.get("Content-Length")
            if length is not None and length.isdigit() and int(length) != size:
                raise _Transient(
                    f"downloading {url} failed: connection closed after {size} of {length} bytes"
                )
    except urllib.error.HTTPError as exc:
        message = f"downloading {url} failed: HTTP {exc.code} {exc.reason}"
        raise (_Transient if exc.code >= 500 else FetchError)(message) from None
    except urllib.error.URLError as exc:
        raise _Transient(f"downloading {url} failed: {exc.reason}") from None
    except (TimeoutError, ConnectionError, http.client.HTTPException) as exc:
        # a dropped connection mid-body shows up as http.client.IncompleteRead
        raise _Transient(f"downloading {url} failed: {type(exc).__name__} {exc}".rstrip()) from None
    except ValueError as exc:
        raise FetchError(f"--url {url!r} is not a URL this command can fetch ({exc})") from None
    return digest.hexdigest(), size


def fetch(url: str, sha256: str, output: Path, timeout_s: float = 60.0, retry_wait_s: float = 2.0) -> str:
    """Make `output` the file at `url` with hash `sha256`; returns what was done, for the log."""
    expected = sha256.lower()
    if output.is_file() and sha256_of(output) == expected:
        return f"{output} already present with sha256 {expected}, not downloading"
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(f"--output directory {output.parent} cannot be created: {exc.strerror}") from None
    started = time.monotonic()
    for attempt in range(1, ATTEMPTS + 1):
        fd, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            actual, size = _download(url, tmp, timeout_s)
            if actual != expected:
                raise FetchError(
                    f"sha256 of {url} is {actual}, expected {expected}; check --sha256 or the URL"
                )
            tmp.chmod(0o644)  # mkstemp's 0600 would hide it from a trainer running as another user
            os.replace(tmp, output)
            seconds = time.monotonic() - started
            return f"fetched {url} -> {output} ({size} bytes in {seconds:.1f} s), sha256 verified"
        except _Transient:
            if attempt == ATTEMPTS:
                raise
            print(f"fetch-checkpoint: attempt {attempt} failed, retrying", file=sys.stderr, flush=True)
            time.sleep(retry_wait_s * attempt)
        finally:
            tmp.unlink(missing_ok=True)
    raise AssertionError("unreachable")


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="mnft fetch-checkpoint", description="Download a checkpoint and verify its sha256."
    )
    parser.add_argument("--url", required=True, help="http(s) or file URL of the checkpoint")
    parser.add_argument("--sha256", required=True, help="expected SHA-256, 64 hex digits")
    parser.add_argument("--output", required=True, type=Path, help="where the verified file goes")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per network operation")
    args = parser.parse_args(list(argv))
    if not re.fullmatch(r"[0-9a-fA-F]{64}", args.sha256):
        print(f"error: --sha256 {args.sha256!r} is not 64 hex digits (a SHA-256 digest)", file=sys.stderr)
        return USAGE_ERROR
    try:
        print(fetch(args.url, args.sha256, args.output, args.timeout), flush=True)
    except (FetchError, OSError) as exc:
        message = str(exc) if isinstance(exc, FetchError) else f"writing {args.output} failed: {exc}"
        print(error_line(message), file=sys.stderr, flush=True)
        write_termination_message(error_line(message))
        return ERROR
    return OK
