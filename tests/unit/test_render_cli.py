"""`mnft render`: every object from the same builders and plan(); invalid files name the field."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

from mnft_operator.render_cli import main

ASCEND = """\
apiVersion: finetune.mindspore.io/v1alpha1
kind: MobileNetFineTune
metadata: {name: ascend-demo, namespace: ml}
spec:
  platform: Ascend
  image: mnft-trainer:0.1.0
  workers: 2
  devicesPerWorker: 8
  dataset: {path: flowers, volume: {persistentVolumeClaim: {claimName: data}}}
  pretrained: {checkpoint: mobilenetv2.ckpt, volume: {persistentVolumeClaim: {claimName: models}}}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "job.yaml"
    path.write_text(text)
    return path


def test_renders_every_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(write(tmp_path, ASCEND))]) == 0
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("Service", "ascend-demo"),
        ("ConfigMap", "rings-config-ascend-demo"),
        ("Pod", "ascend-demo-worker-0"),
        ("Pod", "ascend-demo-worker-1"),
    ]
    assert json.loads(docs[1]["data"]["hccl.json"]) == {"status": "initializing"}
    assert docs[3]["metadata"]["ownerReferences"][0]["uid"] == "00000000-0000-0000-0000-000000000000"


def test_simulated_devices_show_the_completed_rank_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(write(tmp_path, ASCEND)), "--simulate-ascend-devices"]) == 0
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    table = json.loads(docs[1]["data"]["hccl.json"])
    assert (table["status"], table["server_count"], len(table["server_list"])) == ("completed", "2", 2)
    assert [d["rank_id"] for d in table["server_list"][1]["device"]] == [str(r) for r in range(8, 16)]
    assert table["server_list"][0]["container_ip"] == docs[2]["status"]["podIP"]


def test_invalid_spec_names_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, ASCEND.replace("devicesPerWorker: 8", "devicesPerWorker: 4"))
    assert main([str(path)]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == "error: spec.devicesPerWorker: must be 8 on Ascend when spec.workers > 1\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: [1,\n",
            "not valid YAML at line 2 (did not find expected node content); fix the syntax",
        ),
        ("kind: ConfigMap\n", "no document with kind: MobileNetFineTune"),
        (
            ASCEND.replace("v1alpha1", "v1"),
            "apiVersion must be finetune.mindspore.io/v1alpha1, not 'finetune.mindspore.io/v1'",
        ),
    ],
)
def test_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str) -> None:
    path = write(tmp_path, text)
    assert main([str(path)]) == 1
    assert capsys.readouterr().err == f"error: {path}: {expected}\n"


def test_reads_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(
        "sys.stdin", io.StringIO(ASCEND.replace("Ascend", "CPU").replace("devicesPerWorker: 8", ""))
    )
    assert main(["-"]) == 0
    kinds = [d["kind"] for d in yaml.safe_load_all(capsys.readouterr().out)]
    assert kinds == ["Service", "Pod", "Pod"]


HOST_PATH = """\
apiVersion: finetune.mindspore.io/v1alpha1
kind: MobileNetFineTune
metadata: {name: local-out}
spec:
  platform: CPU
  image: mnft-trainer:0.1.0
  dataset: {path: /data}
  output: {volume: {hostPath: {path: /srv/out}}}
"""


def test_host_path_needs_the_allow_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, HOST_PATH)
    assert main([str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: spec.output.volume.hostPath: hostPath volumes are not allowed")
    assert "--allow-host-path" in err and len(err.strip().splitlines()) == 1
    assert main([str(path), "--allow-host-path"]) == 0
    (pod,) = [d for d in yaml.safe_load_all(capsys.readouterr().out) if d["kind"] == "Pod"]
    assert {"name": "output", "hostPath": {"path": "/srv/out"}} in pod["spec"]["volumes"]


def test_nan_from_yaml_is_one_line_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        HOST_PATH.replace("output: {volume: {hostPath: {path: /srv/out}}}", "hyperparameters: {lrMax: .nan}"),
    )
    assert main([str(path)]) == 1
    assert capsys.readouterr().err == (
        "error: spec.hyperparameters.lrMax: must be a finite number, not nan (JSON has no NaN or Infinity)\n"
    )
