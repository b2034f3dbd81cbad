"""Reading MobileNetFineTune resources from a YAML file, for `mnft render` and `mnft local`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from mnft_operator import crd


class ManifestError(Exception):
    """One line for the user: what is wrong and where."""


def load_jobs(path: Path) -> list[dict[str, Any]]:
    """The MobileNetFineTune documents of a YAML file ('-': stdin); other kinds are skipped."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text()
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
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
