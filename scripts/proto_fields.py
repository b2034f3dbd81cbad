"""Print the field table of `kube_emulator.apiserver.api_proto_fields` from Kubernetes' published protos.

    python scripts/proto_fields.py <k8s.io/api checkout> <k8s.io/apimachinery checkout> > entries.txt

(paste the entries into `MESSAGES`, then `ruff format` the module)

Reads every `generated.proto` (field names, numbers, types) and `types.go` (which scalar fields are Go
pointers: their zero value is sent and must be kept) of the two repositories at HEAD (bare clones work:
files are read with `git show`), and prints, for the closure of the kinds in ROOTS, one line per message:
`"pkg.Message": "name=number:type ..."`, where type is a scalar (string, bool, int32, int64, double,
bytes) or a message, `*` marks a repeated field, `map:` a map from string, a trailing `?` a pointer scalar,
`^` an embedded struct whose fields JSON inlines.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

ROOTS = [
    "core.v1.Namespace",
    "core.v1.NamespaceList",
    "core.v1.ConfigMap",
    "core.v1.ConfigMapList",
    "core.v1.Secret",
    "core.v1.SecretList",
    "core.v1.ServiceAccount",
    "core.v1.ServiceAccountList",
    "core.v1.Service",
    "core.v1.ServiceList",
    "core.v1.Pod",
    "core.v1.PodList",
    "core.v1.Event",
    "core.v1.EventList",
    "apps.v1.Deployment",
    "apps.v1.DeploymentList",
    "batch.v1.Job",
    "batch.v1.JobList",
    "rbac.v1.Role",
    "rbac.v1.RoleList",
    "rbac.v1.RoleBinding",
    "rbac.v1.RoleBindingList",
    "rbac.v1.ClusterRole",
    "rbac.v1.ClusterRoleList",
    "rbac.v1.ClusterRoleBinding",
    "rbac.v1.ClusterRoleBindingList",
    "authorization.v1.SelfSubjectAccessReview",
    "authorization.v1.SelfSubjectRulesReview",
    "meta.v1.Status",
    "meta.v1.DeleteOptions",
    "authorization.v1.SubjectAccessReview",
    "authorization.v1.LocalSubjectAccessReview",
    "authentication.v1.SelfSubjectReview",
    "autoscaling.v1.Scale",
    "runtime.Unknown",
    "coordination.v1.Lease",
    "events.v1.Event",
    "meta.v1.WatchEvent",
]
SCALARS = {"string", "bool", "int32", "int64", "double", "bytes", "float"}
FIELD = re.compile(r"^\s*(optional|repeated)?\s*(map<\s*string,\s*([\w.]+)>|[\w.]+)\s+(\w+)\s*=\s*(\d+);")
GO_FIELD = re.compile(r'^\s*\w+\s+\*(bool|int32|int64|string|float64)\s+`json:"(\w+)')
GO_INLINE = re.compile(r'^\s*(\w+)\s+`json:"(?:,inline)?" protobuf:"[^"]*?(?:name=(\w+))?"')


def short(package: str) -> str:
    """k8s.io.api.core.v1 -> core.v1; k8s.io.apimachinery.pkg.apis.meta.v1 -> meta.v1."""
    package = package.lstrip(".")
    for prefix in (
        "k8s.io.api.",
        "k8s.io.apimachinery.pkg.apis.",
        "k8s.io.apimachinery.pkg.util.",
        "k8s.io.apimachinery.pkg.api.",
        "k8s.io.apimachinery.pkg.",
    ):
        if package.startswith(prefix):
            return package[len(prefix) :]
    return package


def qualify(type_: str, package: str) -> str:
    if type_ in SCALARS:
        return type_
    return short(type_) if type_.startswith(".") else f"{package}.{type_}"


def files(repo: str, name: str) -> list[str]:
    out = subprocess.run(
        ["git", "-C", repo, "ls-tree", "-r", "--name-only", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return [p for p in out if p.endswith(name)]


def show(repo: str, path: str) -> str:
    return subprocess.run(
        ["git", "-C", repo, "show", f"HEAD:{path}"], check=True, capture_output=True, text=True
    ).stdout


def main(repos: list[str]) -> None:
    messages: dict[str, list[tuple[str, str, str, bool]]] = {}  # name -> (field, number, type, repeated)
    pointers: set[tuple[str, str]] = set()  # (package-qualified struct, json name)
    inline: set[tuple[str, str]] = set()  # embedded structs whose fields JSON inlines
    for repo in repos:
        for path in files(repo, "generated.proto"):
            text = show(repo, path)
            package = short(re.search(r"^package ([\w.]+);", text, re.M)[1])  # type: ignore[index]
            current = None
            for line in text.splitlines():
                if m := re.match(r"^message (\w+) \{", line):
                    current = f"{package}.{m[1]}"
                    messages[current] = []
                elif line.startswith("}"):
                    current = None
                elif current and (m := FIELD.match(line)):
                    label, type_, map_value, field, number = m.groups()
                    kind = f"map:{qualify(map_value, package)}" if map_value else qualify(type_, package)
                    messages[current].append((field, number, kind, label == "repeated"))
            go = path.replace("generated.proto", "types.go")
            try:
                source = show(repo, go)
            except subprocess.CalledProcessError:
                continue
            struct = None
            for line in source.splitlines():
                if m := re.match(r"^type (\w+) struct \{", line):
                    struct = f"{package}.{m[1]}"
                elif line.startswith("}"):
                    struct = None
                elif struct and (m := GO_FIELD.match(line)):
                    pointers.add((struct, m[2]))
                elif struct and (m := GO_INLINE.match(line)):
                    inline.add((struct, m[2] or m[1][0].lower() + m[1][1:]))
    seen: list[str] = []
    todo = list(ROOTS)
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen.append(name)
        for _, _, kind, _ in messages[name]:
            target = kind.removeprefix("map:")
            if target not in SCALARS:
                todo.append(target)
    for name in sorted(seen):
        parts = []
        for field, number, kind, repeated in messages[name]:
            flag = "?" if (name, field) in pointers else "^" if (name, field) in inline else ""
            parts.append(f"{field}={number}:{'*' if repeated else ''}{kind}{flag}")
        lines = textwrap.wrap(" ".join(parts), 96, break_long_words=False)
        if len(lines) <= 1 and len(name) + len(" ".join(lines)) < 96:
            print(f'    "{name}": "{" ".join(lines)}",')
            continue
        print(f'    "{name}": (')
        for n, line in enumerate(lines):
            print(f'        "{" " if n else ""}{line}"')
        print("    ),")


if __name__ == "__main__":
    main(sys.argv[1:])
