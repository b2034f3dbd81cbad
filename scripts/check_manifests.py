"""Validate every Kubernetes object we ship against the Kubernetes versions we support.

    python scripts/check_manifests.py

Objects: the Helm chart rendered with several value sets (the real `helm template`), manifests/crd.yaml,
manifests/install.yaml and the built-in objects in manifests/examples/ (PVCs, Jobs). Each is checked by
kubernetes-validate in strict mode (unknown fields rejected) against every version in SUPPORTED.
MobileNetFineTune objects are not built-in: `check_examples.py` validates them against our CRD.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

REPO = Path(__file__).resolve().parent.parent
CHART = REPO / "charts" / "mnft-operator"
# The oldest and the newest Kubernetes we support (README "Install on a cluster").
SUPPORTED = ("1.33.0", "1.37.0")
CUSTOM_KINDS = {"MobileNetFineTune"}
# helm template value sets: defaults, namespaced RBAC, and everything optional switched off or on.
VALUE_SETS: dict[str, list[str]] = {
    "defaults": [],
    "watchNamespaces": ["--set", "watchNamespaces={team-a,team-b}"],
    "minimal": [
        "--set",
        "crds.install=false,crds.keep=false,rbac.volcano=false,rbac.kueue=false,serviceAccount.create=false",
        "--set",
        "serviceAccount.name=existing",
    ],
    "everything": [
        "--set",
        "imagePullSecrets[0].name=regcred,priorityClassName=system-cluster-critical",
        "--set",
        "nodeSelector.kubernetes\\.io/os=linux,podAnnotations.a=b,podLabels.c=d",
        "--set",
        "tolerations[0].key=dedicated,tolerations[0].operator=Exists",
        "--set",
        "extraArgs[0]=--verbose,extraEnv[0].name=TZ,extraEnv[0].value=UTC",
        "--set",
        "serviceAccount.annotations.owner=ml,rbac.kubernetesPodGroups=true",
    ],
}


def helm() -> str:
    return str(Path(sys.executable).parent / "helm")


def render(values: list[str]) -> str:
    cmd = [helm(), "template", "mnft", str(CHART), "--namespace", "mnft-system", *values]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"check_manifests: `{' '.join(cmd)}` failed: {done.stderr.strip()}")
    return done.stdout


def documents(text: str, source: str) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        for doc in yaml.safe_load_all(text):
            if isinstance(doc, dict):
                yield source, doc
    except yaml.YAMLError as error:
        raise SystemExit(f"check_manifests: {source} is not valid YAML: {error}") from error


def all_objects() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, values in VALUE_SETS.items():
        yield from documents(render(values), f"helm template ({name})")
    for path in [REPO / "manifests" / "crd.yaml", REPO / "manifests" / "install.yaml"]:
        yield from documents(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))
    for path in sorted((REPO / "manifests" / "examples").glob("*.yaml")):
        for source, doc in documents(path.read_text(encoding="utf-8"), str(path.relative_to(REPO))):
            if doc.get("kind") not in CUSTOM_KINDS:
                yield source, doc


def problems(obj: dict[str, Any], version: str) -> str | None:
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(p) for p in error.path) or "(root)"
        return f"{where}: {error.message}"
    except kubernetes_validate.SchemaNotFoundError:
        return f"no schema for {obj.get('apiVersion')}/{obj.get('kind')} in Kubernetes {version}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    del argv
    failures = checked = 0
    for source, obj in all_objects():
        name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        for version in SUPPORTED:
            checked += 1
            found = problems(obj, version)
            if found:
                failures += 1
                print(f"{source}: {name}: {found} (Kubernetes {version})", file=sys.stderr)
    if failures:
        print(f"check_manifests: {failures} of {checked} checks failed", file=sys.stderr)
        return 1
    print(f"check_manifests: {checked} object checks passed (Kubernetes {', '.join(SUPPORTED)}, strict)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
