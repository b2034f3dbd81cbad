"""Read and check what `mnft local` is given before anything starts: the resource file and the mounts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mnft_operator.crd import KIND
from mnft_operator.manifest_file import ManifestError as ManifestError
from mnft_operator.manifest_file import load_jobs


def parse_mounts(values: Sequence[str], cwd: Path) -> dict[str, str]:
    """`["dataset=data", "out=/tmp/o"]` -> `{"dataset": "<cwd>/data", "out": "/tmp/o"}`."""
    mounts: dict[str, str] = {}
    for value in values:
        name, sep, directory = value.partition("=")
        if not sep or not name or not directory:
            raise ManifestError(f"--mount {value!r}: expected VOLUME=DIR, e.g. --mount dataset=./data")
        if name in mounts:
            raise ManifestError(f"--mount {name}: given twice")
        mounts[name] = str((cwd / directory).resolve())
    return mounts


def check_mount_dirs(mounts: Mapping[str, str]) -> None:
    """Mount directories must exist or be creatable (outputs): create them, name the one that fails."""
    for name, directory in mounts.items():
        path = Path(directory)
        if path.exists() and not path.is_dir():
            raise ManifestError(f"--mount {name}={directory}: not a directory")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ManifestError(f"--mount {name}={directory}: cannot create it ({exc.strerror})") from None


def load_resource(path: Path) -> dict[str, Any]:
    """The one MobileNetFineTune in the file, with `metadata.namespace` defaulted to `default`."""
    jobs = load_jobs(path)
    if len(jobs) != 1:
        raise ManifestError(f"{path}: expected exactly one {KIND} document, found {len(jobs)}")
    job = jobs[0]
    metadata = job.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not metadata["name"]:
        raise ManifestError(f"{path}: metadata.name is required")
    metadata.setdefault("namespace", "default")
    return job


def validate_spec(job: Mapping[str, Any], path: Path) -> None:
    """The operator's own validation (schema and cross-field rules); the first error names the field."""
    from mnft_operator.spec import validate

    errors = validate(job, allow_host_path=True)  # as the operator `mnft local` starts
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ManifestError(f"{path}: {errors[0]}{more}")


def unmounted_claims(job: Mapping[str, Any], mounts: Mapping[str, str]) -> list[str]:
    """PVC claims the job uses that no --mount serves (by claim name or by the pod's volume name):
    the local kubelet gives them a directory in the state dir, so their contents are lost at exit."""
    spec = job.get("spec") or {}
    missing = []
    for pod_volume, field in (("dataset", "dataset"), ("pretrained", "pretrained"), ("output", "output")):
        volume = (spec.get(field) or {}).get("volume") or {}
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim and claim not in mounts and pod_volume not in mounts and claim not in missing:
            missing.append(claim)
    return missing
