import base64
import os
from pathlib import Path

import pytest

from kube_emulator.kubelet.pod_volumes import (
    HostVolume,
    PathMapping,
    VolumeError,
    container_mappings,
    host_volumes,
    host_working_dir,
    projected_files,
    rewrite_paths,
    write_projected_files,
)

STATE = Path("/state")


def pod(volumes):
    return {"metadata": {"name": "p", "namespace": "ns"}, "spec": {"volumes": volumes}}


def test_host_volumes_map_every_kind():
    volumes = host_volumes(
        pod(
            [
                {"name": "scratch", "emptyDir": {}},
                {"name": "host", "hostPath": {"path": "/srv/data"}},
                {"name": "dataset", "persistentVolumeClaim": {"claimName": "imagenet"}},
                {"name": "output", "persistentVolumeClaim": {"claimName": "results"}},
                {"name": "pretrained", "persistentVolumeClaim": {"claimName": "ckpts"}},
                {"name": "cfg", "configMap": {"name": "settings"}},
                {"name": "tls", "secret": {"secretName": "certs"}},
            ]
        ),
        STATE,
        {"dataset": Path("/home/u/data"), "ckpts": Path("/home/u/ckpt")},
    )
    assert volumes == {
        "scratch": HostVolume("scratch", "emptyDir", Path("/state/pods/ns/p/volumes/scratch"), {}),
        "host": HostVolume("host", "hostPath", Path("/srv/data"), {"path": "/srv/data"}),
        "dataset": HostVolume("dataset", "mount", Path("/home/u/data"), {}),
        "output": HostVolume(
            "output", "persistentVolumeClaim", Path("/state/pvcs/ns/results"), {"claimName": "results"}
        ),
        "pretrained": HostVolume("pretrained", "mount", Path("/home/u/ckpt"), {"claimName": "ckpts"}),
        "cfg": HostVolume("cfg", "configMap", Path("/state/pods/ns/p/volumes/cfg"), {"name": "settings"}),
        "tls": HostVolume("tls", "secret", Path("/state/pods/ns/p/volumes/tls"), {"secretName": "certs"}),
    }


def test_container_mappings_longest_first_with_subpath_and_termination_file():
    volumes = {
        "out": HostVolume("out", "persistentVolumeClaim", Path("/h/out"), {}),
        "data": HostVolume("data", "mount", Path("/h/data"), {}),
    }
    container = {
        "name": "trainer",
        "volumeMounts": [
            {"name": "out", "mountPath": "/output"},
            {"name": "data", "mountPath": "/output/data/", "subPath": "train"},
        ],
    }
    assert container_mappings(container, volumes, Path("/h/term")) == [
        PathMapping("/dev/termination-log", Path("/h/term")),
        PathMapping("/output/data", Path("/h/data/train")),
        PathMapping("/output", Path("/h/out")),
    ]


def test_container_mappings_name_the_bad_field():
    with pytest.raises(VolumeError, match=r"volumeMounts\[0\]\.name 'nope' is not one of the pod's volumes"):
        container_mappings(
            {"name": "c", "volumeMounts": [{"name": "nope", "mountPath": "/x"}]}, {}, Path("/t")
        )
    volumes = {"v": HostVolume("v", "emptyDir", Path("/h"), {})}
    with pytest.raises(VolumeError, match=r"subPath must be relative"):
        container_mappings(
            {"name": "c", "volumeMounts": [{"name": "v", "mountPath": "/x", "subPath": "../etc"}]},
            volumes,
            Path("/t"),
        )


def test_rewrite_paths_at_word_starts_only():
    mappings = [
        PathMapping("/output", Path("/h/out")),
        PathMapping("/output/data", Path("/h/data")),
        PathMapping("/dev/termination-log", Path("/h/term")),
    ]
    assert rewrite_paths("/output/data/train", mappings) == "/h/data/train"
    assert rewrite_paths("/output", mappings) == "/h/out"
    assert rewrite_paths("--dataset_path=/output/data,--x=/output/ckpt", mappings) == (
        "--dataset_path=/h/data,--x=/h/out/ckpt"
    )
    assert rewrite_paths("/dev/termination-log", mappings) == "/h/term"
    assert rewrite_paths("/outputs/x", mappings) == "/outputs/x"  # not under /output
    assert rewrite_paths("/tmp/output/x", mappings) == "/tmp/output/x"  # not at a path start
    assert rewrite_paths("A=/output/data:/output", mappings) == "A=/h/data:/h/out"


def test_host_working_dir():
    mappings = [PathMapping("/work", Path("/h/w"))]
    assert host_working_dir("/work/sub", mappings, Path("/root")) == Path("/h/w/sub")
    assert host_working_dir("/opt/app", mappings, Path("/root")) == Path("/root/opt/app")


def test_projected_files_all_keys_items_and_secrets():
    cm = {"data": {"a.yaml": "x: 1", "b": "2"}, "binaryData": {"bin": base64.b64encode(b"\x00\x01").decode()}}
    assert projected_files("configMap", {"name": "c"}, cm) == {
        "a.yaml": b"x: 1",
        "b": b"2",
        "bin": b"\x00\x01",
    }
    assert projected_files("configMap", {"name": "c", "items": [{"key": "b", "path": "sub/b.txt"}]}, cm) == {
        "sub/b.txt": b"2"
    }
    secret = {"data": {"token": base64.b64encode(b"s3cret").decode()}}
    assert projected_files("secret", {"secretName": "s"}, secret) == {"token": b"s3cret"}
    assert projected_files("configMap", {"name": "gone", "optional": True}, None) == {}
    with pytest.raises(VolumeError, match="configMap 'gone' not found"):
        projected_files("configMap", {"name": "gone"}, None)
    with pytest.raises(VolumeError, match="has no key 'zz'"):
        projected_files("configMap", {"name": "c", "items": [{"key": "zz", "path": "z"}]}, cm)


def test_write_projected_files_swaps_atomically(tmp_path):
    assert write_projected_files(tmp_path, {"a": b"1", "d/b": b"2"})
    first = os.readlink(tmp_path / "..data")
    assert (tmp_path / "a").read_bytes() == b"1"
    assert (tmp_path / "d" / "b").read_bytes() == b"2"
    assert os.readlink(tmp_path / "a") == "..data/a"
    assert not write_projected_files(tmp_path, {"a": b"1", "d/b": b"2"})  # unchanged: no new generation
    assert write_projected_files(tmp_path, {"a": b"new"})
    assert os.readlink(tmp_path / "..data") != first
    assert not (tmp_path / first).exists()
    assert (tmp_path / "a").read_bytes() == b"new"
    assert not (tmp_path / "d").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("..")) == ["a"]
