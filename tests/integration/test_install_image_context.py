"""What the Dockerfile builds, checked without a Docker engine.

- The build context the Dockerfile copies (requirements/, pyproject.toml, README.md, operator/src,
  schema/src, trainer/src; the rest is .dockerignore'd) builds a wheel holding the three packages, their
  data files and the `mnft` script.
- The operator image installs no extras: `mnft operator` and `mnft render` must work with none of the
  extras' packages importable (MindSpore, numpy, Pillow, scikit-learn, kmock, cel-python).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Top-level modules of the trainer, demo, plots, onnx and local extras: absent from the operator image.
EXTRAS_MODULES = ["mindspore", "numpy", "PIL", "sklearn", "matplotlib", "onnxruntime", "kmock", "celpy"]


def docker_copies() -> list[str]:
    """Sources of the build stage's COPY instructions, in order."""
    sources: list[str] = []
    stage = ""
    for line in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("FROM "):
            stage = line.split()[-1]
        elif line.startswith("COPY ") and stage == "build":
            sources += line.split()[1:-1]
    return sources


def test_build_context_makes_a_wheel_with_both_packages_and_the_entry_point(tmp_path: Path) -> None:
    sources = docker_copies()
    assert sources == [
        "requirements/",
        "pyproject.toml",
        "README.md",
        "operator/src",
        "schema/src",
        "trainer/src",
    ]
    context = tmp_path / "context"
    for source in sources:
        src, dst = REPO / source, context / source
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet"]
    done = subprocess.run(
        [*pip_wheel, "--wheel-dir", str(tmp_path / "wheels"), str(context)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = (tmp_path / "wheels").glob("mnft-0.1.0-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read("mnft-0.1.0.dist-info/entry_points.txt").decode()
        metadata = archive.read("mnft-0.1.0.dist-info/METADATA").decode()
    assert {
        "mnft_operator/cli.py",
        "mnft_operator/crd.py",
        "kube_schema/structural.py",
        "mnft_trainer/pod/launch.py",
        "mnft_contract/hyperparameters.py",
    } <= names
    assert "mnft = mnft_operator.cli:main" in entry_points
    assert "Requires-Dist: kopf==1.45.2" in metadata
    assert 'Requires-Dist: mindspore==2.10.0; extra == "trainer"' in metadata


def test_dockerignore_admits_every_source_tree_the_build_copies() -> None:
    admitted = {
        line[1:]
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line[:1] == "!"
    }
    trees = [s for s in docker_copies() if (REPO / s).is_dir() and s != "requirements/"]
    assert trees == ["operator/src", "schema/src", "trainer/src"]
    assert [t for t in trees if f"{t}/**" not in admitted] == []
    assert "requirements/*.txt" in admitted


def test_operator_commands_run_without_any_extra_installed() -> None:
    program = textwrap.dedent(
        f"""
        import importlib.abc, sys

        class NoExtras(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {EXTRAS_MODULES!r}:
                    raise ImportError(f"{{name}} is not in the operator image")
                return None

        sys.meta_path.insert(0, NoExtras())
        from mnft_operator import cli, main, operator_cli, render_cli  # the wiring kopf runs
        assert main.registry is not None
        sys.exit(cli.main(sys.argv[1:]))
        """
    )
    for argv in (["operator", "--help"], ["render", str(REPO / "manifests/examples/ascend-2x8-pvc.yaml")]):
        done = subprocess.run(
            [sys.executable, "-c", program, *argv], capture_output=True, text=True, timeout=120, cwd=REPO
        )
        assert done.returncode == 0, f"mnft {' '.join(argv)}: {done.stderr}"
        assert "Traceback" not in done.stderr
    assert "rings-config-ascend-2x8" in done.stdout
