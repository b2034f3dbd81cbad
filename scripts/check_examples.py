"""Validate every MobileNetFineTune example against our CRD, as the API server would, and more.

    python scripts/check_examples.py

Valid examples (manifests/examples/*.yaml, kind MobileNetFineTune) must pass:
  - the CRD's openAPIV3Schema after pruning and defaulting, including every CEL rule
    (`kube_emulator.apiserver.openapi_schema`: the embedded API server's wording of the `kube_schema` walk
    the operator uses too), with no field the schema would silently prune;
  - the operator's own validation (`mnft_operator.spec.validate`, the Python twin of the CEL rules).
Invalid examples (tests/invalid_examples/*.yaml) must be rejected by the schema with the field named
in their `# expect-field:` line; one with `# update-of: FILE` is checked as an update of FILE (for the
immutability rules); one with `# rejected-by: operator` must pass the schema (no CRD can say the rule:
hostPath needs the operator's flag, limits >= requests needs quantity arithmetic). Those without an
update-of line must also be rejected by `spec.validate` (without --allow-host-path), naming the field.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from kube_emulator.apiserver import openapi_schema
from mnft_operator import spec
from mnft_operator.crd import KIND, crd

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "manifests" / "examples"
INVALID = REPO / "tests" / "invalid_examples"


def schema() -> dict[str, Any]:
    return dict(crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"])


def resources(path: Path) -> Iterator[dict[str, Any]]:
    for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        if isinstance(doc, dict) and doc.get("kind") == KIND:
            yield doc


def header(path: Path, key: str) -> str | None:
    """The value of a `# key: value` comment line at the top of the file."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        name, _, value = line[1:].partition(":")
        if name.strip() == key:
            return value.strip()
    return None


def server_errors(obj: dict[str, Any], old: dict[str, Any] | None = None) -> list[str]:
    """The field errors a real API server with our CRD answers for a create (or an update of `old`).

    NaN and infinities never reach a server: kubectl cannot encode them as JSON and refuses the file;
    they are reported here as that client-side refusal, naming the field.
    """
    unencodable = spec.non_finite_numbers(obj.get("spec"), "spec")
    if unencodable:
        return [f"{field}: {message}" for field, message in unencodable]
    root = schema()
    defaulted = openapi_schema.apply_defaults(root, openapi_schema.prune(root, obj))
    old_defaulted = (
        None if old is None else openapi_schema.apply_defaults(root, openapi_schema.prune(root, old))
    )
    return [str(error) for error in openapi_schema.validate(root, defaulted, old_defaulted)]


def pruned_fields(obj: dict[str, Any]) -> list[str]:
    """Fields the API server would silently drop: a typo in an example must not go unnoticed."""
    return openapi_schema.unknown_fields(schema(), obj)


def check_valid(path: Path) -> list[str]:
    failures: list[str] = []
    for obj in resources(path):
        name = obj.get("metadata", {}).get("name")
        failures += [f"{path.relative_to(REPO)}: {name}: {f}: unknown field" for f in pruned_fields(obj)]
        failures += [f"{path.relative_to(REPO)}: {name}: {p}" for p in server_errors(obj)]
        failures += [f"{path.relative_to(REPO)}: {name}: operator: {e}" for e in spec.validate(obj)]
    return failures


def names_field(problem: str, field: str) -> bool:
    """The error is at `field`, or at the root (`<nil>`, a rule on the whole object) naming `field` first."""
    return problem.startswith((f"{field}: ", f'<nil>: Invalid value: "object": {field} '))


def check_invalid(path: Path) -> list[str]:
    where = path.relative_to(REPO)
    expected = header(path, "expect-field")
    if not expected:
        return [f"{where}: add a `# expect-field: spec.<field>` line naming the field that must be rejected"]
    update_of = header(path, "update-of")
    old = next(resources(REPO / update_of)) if update_of else None
    docs = list(resources(path))
    if len(docs) != 1:
        return [f"{where}: expected exactly one {KIND}, found {len(docs)}"]
    (obj,) = docs
    failures: list[str] = []
    problems = server_errors(obj, old)
    if header(path, "rejected-by") == "operator":
        # A rule no schema can say (it needs the operator's flags or quantity arithmetic): the API
        # server stores the job, and the operator marks it Failed/InvalidSpec before creating a pod.
        if problems:
            failures.append(f"{where}: marked rejected-by: operator, but the schema rejects it: {problems}")
    elif not any(names_field(p, expected) for p in problems):
        failures.append(f"{where}: the schema did not reject {expected}; it said: {problems or 'nothing'}")
    if old is None:
        operator_fields = [e.field for e in spec.validate(obj)]
        if expected not in operator_fields:
            failures.append(f"{where}: spec.validate did not reject {expected}; it named {operator_fields}")
    return failures


def main(argv: Sequence[str] | None = None) -> int:
    del argv
    valid = sorted(p for p in EXAMPLES.glob("*.yaml") if any(True for _ in resources(p)))
    invalid = sorted(INVALID.glob("*.yaml"))
    failures = [f for p in valid for f in check_valid(p)] + [f for p in invalid for f in check_invalid(p)]
    for failure in failures:
        print(failure, file=sys.stderr)
    if failures:
        print(f"check_examples: {len(failures)} problem(s)", file=sys.stderr)
        return 1
    print(f"check_examples: {len(valid)} examples valid, {len(invalid)} invalid ones rejected, field named")
    return 0


if __name__ == "__main__":
    sys.exit(main())
