"""Reading MobileNetFineTune resources from a YAML file, for `mnft render` and `mnft local`.

Hostile files are refused in one line, in bounded time and memory, before any document is built:
- larger than `MAX_FILE_BYTES` (3 MiB: what a kube-apiserver accepts in one request,
  `MaxRequestBodyBytes`, so nothing bigger could be applied anyway);
- nested deeper than `MAX_DEPTH` (100) objects/arrays: the kube-apiserver bound is 10,000
  (apimachinery's util/json `maxDepth`), but Python's recursion limit breaks the YAML composer and
  the validators between 300 and 450 levels; real manifests stay under 35;
- YAML aliases expanding to more than `MAX_ALIAS_NODES` (10,000) nodes (billion laughs; go-yaml
  refuses "excessive aliasing" the same way since CVE-2019-11253), or a recursive alias.
The loader is `kube_schema.bounded_yaml`, which the emulator's API also decodes request bodies with
(kube_emulator.apiserver.api_decode).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from kube_schema import bounded_yaml
from kube_schema.bounded_yaml import MAX_ALIAS_NODES, MAX_DEPTH
from mnft_operator import crd

MAX_FILE_BYTES = 3 * 1024 * 1024


class ManifestError(Exception):
    """One line for the user: what is wrong and where."""


def _refusal(refused: bounded_yaml.Refused) -> str:
    if refused.what == bounded_yaml.RECURSIVE_ALIAS:
        return f"a recursive alias *{refused.anchor} at line {refused.line}"
    if refused.what == bounded_yaml.TOO_MANY_ALIAS_NODES:
        return f"aliases expanding to more than {MAX_ALIAS_NODES} nodes"
    where = f" at line {refused.line}" if refused.line is not None else ""
    return f"nesting deeper than {MAX_DEPTH} levels{where}"


def _read(path: Path) -> str:
    """The file's text, refusing it unread past MAX_FILE_BYTES."""
    too_big = f"{path}: larger than {MAX_FILE_BYTES} bytes (3 MiB, the Kubernetes API's request limit)"
    try:
        if str(path) == "-":
            text = sys.stdin.read(MAX_FILE_BYTES + 1)
        else:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ManifestError(too_big)
            with path.open() as file:
                text = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if len(text.encode()) > MAX_FILE_BYTES:
        raise ManifestError(too_big)
    return text


def load_jobs(path: Path) -> list[dict[str, Any]]:
    """The MobileNetFineTune documents of a YAML file ('-': stdin); other kinds are skipped."""
    text = _read(path)
    try:
        documents = [doc for doc in bounded_yaml.load_all(text) if doc is not None]
    except bounded_yaml.Refused as exc:
        raise ManifestError(f"{path}: refused: {_refusal(exc)}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None)
        detail = f" ({problem})" if problem else ""
        raise ManifestError(f"{path}: not valid YAML{where}{detail}; fix the syntax") from None
    jobs = [doc for doc in documents if isinstance(doc, dict) and doc.get("kind") == crd.KIND]
    if not jobs:
        raise ManifestError(f"{path}: no document with kind: {crd.KIND}")
    for job in jobs:
        api_version = job.get("apiVersion")
        if api_version != crd.API_VERSION:
            raise ManifestError(f"{path}: apiVersion must be {crd.API_VERSION}, not {api_version!r}")
    return jobs
