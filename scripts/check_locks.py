"""The images' lock files (requirements/*.txt) agree with pyproject.toml; offline, no resolver.

Each lock must pin with `==` and hash every entry, pin every requirement its image installs from
pyproject.toml at a version that requirement allows, and list as direct (`# via mnft (pyproject.toml)`,
uv's annotation) exactly those requirements, so a dependency added, dropped or re-pinned in
pyproject.toml fails here until `make lock` is run. `--print-build-requires` prints
`[build-system] requires` one a line (the input of requirements/build.txt).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
DIRECT = "mnft (pyproject.toml)"


@dataclass(frozen=True)
class Lock:
    """One image's lock: the pyproject.toml requirement lists it installs."""

    path: str
    sources: tuple[str, ...]  # "project" (project.dependencies), an extra's name, or "build-system"


LOCKS = (
    Lock("requirements/operator.txt", ("project",)),
    Lock("requirements/trainer.txt", ("project", "trainer", "demo", "plots", "onnx")),
    Lock("requirements/build.txt", ("build-system",)),
)


@dataclass
class Entry:
    name: str
    version: str
    hashes: list[str] = field(default_factory=list)
    via: list[str] = field(default_factory=list)


_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def parse_lock(text: str, path: str = "lock") -> tuple[dict[str, Entry], list[str]]:
    """{canonical name: Entry} and the problems of lines that are not `name==version` plus hashes."""
    entries: dict[str, Entry] = {}
    problems: list[str] = []
    current: Entry | None = None
    in_via = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if raw.startswith("#"):
            continue
        if line.startswith("--hash="):
            if current is None:
                problems.append(f"{path}:{number}: a hash before any requirement")
            else:
                current.hashes.append(line.removeprefix("--hash=").rstrip(" \\"))
            continue
        if line.startswith("# via"):
            rest = line.removeprefix("# via").strip()
            in_via = not rest
            if current is not None and rest:
                current.via.append(rest)
            continue
        if line.startswith("#"):
            if in_via and current is not None:
                current.via.append(line.removeprefix("#").strip())
            continue
        in_via = False
        match = _PIN.match(line)
        if match is None:
            problems.append(f"{path}:{number}: {line!r} is not pinned as name==version")
            current = None
            continue
        current = Entry(canonicalize_name(match.group(1)), match.group(2))
        entries[current.name] = current
    for entry in entries.values():
        if not entry.hashes:
            problems.append(f"{path}: {entry.name}=={entry.version} has no --hash")
    return entries, problems


def requirements_of(pyproject: dict[str, Any], sources: tuple[str, ...]) -> list[Requirement]:
    found: list[Requirement] = []
    for source in sources:
        if source == "project":
            found += [Requirement(r) for r in pyproject["project"]["dependencies"]]
        elif source == "build-system":
            found += [Requirement(r) for r in pyproject["build-system"]["requires"]]
        else:
            found += [Requirement(r) for r in pyproject["project"]["optional-dependencies"][source]]
    return found


def check_lock(text: str, path: str, requirements: list[Requirement], *, annotated: bool) -> list[str]:
    """Problems of one lock against the requirements its image installs (empty: consistent)."""
    entries, problems = parse_lock(text, path)
    wanted = {canonicalize_name(r.name) for r in requirements}
    for req in requirements:
        entry = entries.get(canonicalize_name(req.name))
        if entry is None:
            problems.append(f"{path}: {req} from pyproject.toml is not locked; run `make lock`")
        elif not req.specifier.contains(entry.version, prereleases=True):
            problems.append(
                f"{path}: {entry.name}=={entry.version} does not satisfy {req} from pyproject.toml;"
                " run `make lock`"
            )
    if annotated:
        for entry in entries.values():
            if DIRECT in entry.via and entry.name not in wanted:
                problems.append(
                    f"{path}: {entry.name} is locked as a direct requirement but pyproject.toml no"
                    " longer asks for it; run `make lock`"
                )
    return problems


def main(argv: list[str]) -> int:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    if argv == ["--print-build-requires"]:
        print("\n".join(pyproject["build-system"]["requires"]))
        return 0
    if argv:
        print("usage: check_locks.py [--print-build-requires]", file=sys.stderr)
        return 2
    problems: list[str] = []
    for lock in LOCKS:
        file = REPO / lock.path
        if not file.is_file():
            problems.append(f"{lock.path} is missing; run `make lock`")
            continue
        requirements = requirements_of(pyproject, lock.sources)
        # The build lock is compiled from stdin, which uv does not annotate.
        annotated = lock.sources != ("build-system",)
        problems += check_lock(file.read_text(), lock.path, requirements, annotated=annotated)
    for problem in problems:
        print(f"check_locks: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"check_locks: {len(LOCKS)} lock files pin and hash exactly what pyproject.toml asks for")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
