"""Volumes for the local kubelet: each pod volume becomes a host directory, and paths the pod sees under
a container's mountPath are rewritten to host paths (one host cannot mount at the pod's real paths).

Pure functions except `write_projected_files`, which writes a ConfigMap/Secret volume the way the
kubelet does: files in a timestamped directory, published by atomically swapping a `..data` symlink.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log"


class VolumeError(ValueError):
    """A pod's volume or volumeMount the local kubelet cannot map; the message names the field."""


@dataclass(frozen=True)
class HostVolume:
    name: str
    kind: str  # "emptyDir", "hostPath", "mount", "persistentVolumeClaim", "configMap", "secret", "dir"
    host_path: Path
    source: Mapping[str, Any]  # the volume's source object (e.g. the configMap's {name, items, optional})


def pod_dir(state_dir: Path, namespace: str, name: str) -> Path:
    return state_dir / "pods" / namespace / name


def container_dir(state_dir: Path, namespace: str, name: str, container: str) -> Path:
    return pod_dir(state_dir, namespace, name) / "containers" / container


def host_volumes(
    pod: Mapping[str, Any], state_dir: Path, mounts: Mapping[str, Path]
) -> dict[str, HostVolume]:
    """Where each of the pod's volumes lives on this host."""
    meta = pod["metadata"]
    ns, name = meta.get("namespace", "default"), meta["name"]
    result: dict[str, HostVolume] = {}
    for volume in pod.get("spec", {}).get("volumes") or []:
        vname = volume["name"]
        pvc = volume.get("persistentVolumeClaim")
        claim = pvc.get("claimName") if pvc else None
        if vname in mounts:
            result[vname] = HostVolume(vname, "mount", Path(mounts[vname]), {})
        elif claim and claim in mounts:
            result[vname] = HostVolume(vname, "mount", Path(mounts[claim]), pvc)
        elif "hostPath" in volume:
            result[vname] = HostVolume(
                vname, "hostPath", Path(volume["hostPath"]["path"]), volume["hostPath"]
            )
        elif pvc is not None:
            if not claim:
                raise VolumeError(
                    f"pod {ns}/{name}: volume {vname!r}: persistentVolumeClaim.claimName is empty"
                )
            result[vname] = HostVolume(vname, "persistentVolumeClaim", state_dir / "pvcs" / ns / claim, pvc)
        else:
            kind = next((k for k in ("emptyDir", "configMap", "secret") if k in volume), "dir")
            source = (volume.get(kind) or {}) if kind != "dir" else {}
            result[vname] = HostVolume(vname, kind, pod_dir(state_dir, ns, name) / "volumes" / vname, source)
    return result


@dataclass(frozen=True)
class PathMapping:
    pod_path: str  # the path the container sees (mountPath, or the terminationMessagePath)
    host_path: Path


def container_mappings(
    container: Mapping[str, Any], volumes: Mapping[str, HostVolume], termination_file: Path
) -> list[PathMapping]:
    """The container's mountPaths (and terminationMessagePath) -> host paths, longest pod path first."""
    cname = container.get("name", "?")
    mappings: list[PathMapping] = []
    for i, mount in enumerate(container.get("volumeMounts") or []):
        vname = mount.get("name")
        if vname not in volumes:
            raise VolumeError(
                f"container {cname!r}: volumeMounts[{i}].name {vname!r} is not one of the pod's volumes"
            )
        mount_path = mount.get("mountPath") or ""
        if not mount_path.startswith("/"):
            raise VolumeError(f"container {cname!r}: volumeMounts[{i}].mountPath must be an absolute path")
        host = volumes[vname].host_path
        sub_path = mount.get("subPath") or ""
        if sub_path:
            if sub_path.startswith("/") or ".." in Path(sub_path).parts:
                raise VolumeError(
                    f"container {cname!r}: volumeMounts[{i}].subPath must be relative without '..'"
                )
            host = host / sub_path
        mappings.append(PathMapping(mount_path.rstrip("/") or "/", host))
    path = container.get("terminationMessagePath") or DEFAULT_TERMINATION_MESSAGE_PATH
    mappings.append(PathMapping(path, termination_file))
    return sorted(mappings, key=lambda m: len(m.pod_path), reverse=True)


# A path starts a string or follows one of these (so `--x=/data`, `A:/data` and `"/data"` all match) ...
_BEFORE = r"(?:^|(?<=[=:,;\s\"'(]))"
# ... and ends at the end of the mount path or continues below it.
_AFTER = r"(?=$|[/=:,;\s\"')])"


def rewrite_paths(text: str, mappings: Sequence[PathMapping]) -> str:
    """Rewrite every path in `text` that is, or lies under, a mapped pod path (longest mapping wins)."""
    if not mappings:
        return text
    ordered = sorted(mappings, key=lambda m: len(m.pod_path), reverse=True)
    by_path = {m.pod_path: str(m.host_path) for m in ordered}
    pattern = re.compile(_BEFORE + "(" + "|".join(re.escape(m.pod_path) for m in ordered) + ")" + _AFTER)
    return pattern.sub(lambda match: by_path[match.group(1)], text)


def host_working_dir(working_dir: str, mappings: Sequence[PathMapping], root: Path) -> Path:
    """A container's workingDir on the host: under a mount when it is one, else under the container's root."""
    rewritten = rewrite_paths(working_dir, mappings)
    if rewritten != working_dir:
        return Path(rewritten)
    return root / working_dir.lstrip("/")


def projected_source_name(kind: str, source: Mapping[str, Any]) -> str | None:
    """The ConfigMap or Secret a configMap or secret volume source names."""
    return source.get("name") if kind == "configMap" else source.get("secretName")


def project_volume(volume: HostVolume, obj: Mapping[str, Any] | None) -> bool:
    """Publish a configMap or secret volume's files from `obj` (None: the object is missing)."""
    mode = int(volume.source.get("defaultMode", 0o644))
    return write_projected_files(volume.host_path, projected_files(volume.kind, volume.source, obj), mode)


def projected_files(kind: str, source: Mapping[str, Any], obj: Mapping[str, Any] | None) -> dict[str, bytes]:
    """The files a configMap or secret volume holds: every key, or only `items` (key -> path)."""
    ref = projected_source_name(kind, source)
    if obj is None:
        if source.get("optional"):
            return {}
        raise VolumeError(f"{kind} {ref!r} not found (volume source {kind}); create it or set optional: true")
    values: dict[str, bytes] = {}
    if kind == "secret":
        for key, value in (obj.get("data") or {}).items():
            values[key] = base64.b64decode(value)
        for key, value in (obj.get("stringData") or {}).items():
            values[key] = str(value).encode()
    else:
        for key, value in (obj.get("data") or {}).items():
            values[key] = str(value).encode()
        for key, value in (obj.get("binaryData") or {}).items():
            values[key] = base64.b64decode(value)
    items = source.get("items")
    if not items:
        return values
    files: dict[str, bytes] = {}
    for item in items:
        key, path = item.get("key"), item.get("path") or item.get("key")
        if key not in values:
            if source.get("optional"):
                continue
            raise VolumeError(f"{kind} {ref!r} has no key {key!r} (volume items)")
        if path.startswith("/") or ".." in Path(path).parts:
            raise VolumeError(f"{kind} {ref!r}: items path {path!r} must be relative without '..'")
        files[path] = values[key]
    return files


def write_projected_files(target: Path, files: Mapping[str, bytes], mode: int = 0o644) -> bool:
    """Publish `files` in `target` atomically; returns False when the content is already there.

    Layout as the kubelet's atomic writer: `..<stamp>/<files>`, `..data -> ..<stamp>`, and for each
    top-level name `name -> ..data/name`. Readers see the old or the new set, never a mix.
    """
    target.mkdir(parents=True, exist_ok=True)
    data_link = target / "..data"
    if data_link.is_symlink() and _same_content(data_link, files):
        return False
    stamp_dir = Path(tempfile.mkdtemp(prefix=time.strftime("..%Y_%m_%d_%H_%M_%S."), dir=target))
    for rel, content in files.items():
        path = stamp_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        path.chmod(mode)
    stamp_dir.chmod(0o755)
    old = os.readlink(data_link) if data_link.is_symlink() else None
    tmp_link = target / "..data_tmp"
    if tmp_link.is_symlink():
        tmp_link.unlink()
    os.symlink(stamp_dir.name, tmp_link)
    os.replace(tmp_link, data_link)
    top = {Path(rel).parts[0] for rel in files}
    for name in top:
        link = target / name
        if not link.is_symlink():
            if link.exists():
                shutil.rmtree(link) if link.is_dir() else link.unlink()
            os.symlink(f"..data/{name}", link)
    for entry in target.iterdir():
        if entry.is_symlink() and not entry.name.startswith("..") and entry.name not in top:
            entry.unlink()
    if old and old != stamp_dir.name:
        shutil.rmtree(target / old, ignore_errors=True)
    return True


def _same_content(data_link: Path, files: Mapping[str, bytes]) -> bool:
    current = data_link.resolve()
    existing = {str(p.relative_to(current)) for p in current.rglob("*") if p.is_file()}
    if existing != set(files):
        return False
    return all((current / rel).read_bytes() == content for rel, content in files.items())
