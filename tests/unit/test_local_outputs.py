"""Where `mnft local` says the job's summary, pictures and exported models are on this machine."""

from __future__ import annotations

from mnft_local.local_status import output_dir, output_lines


def job(output: dict) -> dict:
    return {"spec": {"platform": "CPU", "output": output}}


def test_output_dir_follows_the_mount_of_the_output_volume() -> None:
    pvc = {"path": "runs/a", "volume": {"persistentVolumeClaim": {"claimName": "mnft-output"}}}
    assert output_dir(job(pvc), {"mnft-output": "/host/out"}) == "/host/out/runs/a"
    assert output_dir(job(pvc), {"output": "/host/o2"}) == "/host/o2/runs/a"  # by the pod's volume name
    assert output_dir(job(pvc), {"mnft-demo-data": "/host/data"}) is None
    assert output_dir(job({}), {"output": "/host/o"}) == "/host/o/checkpoint"  # the CRD default path
    assert output_dir(job({"volume": {"emptyDir": {}}}), {}) is None


def test_output_lines_list_what_is_there() -> None:
    assert output_lines("/host/out/runs/a", ["summary.json", "training.png", "mobilenetv2.mindir"]) == [
        "  outputs:    /host/out/runs/a",
        "              summary.json, training.png, mobilenetv2.mindir",
    ]
    assert output_lines("/host/out", []) == ["  outputs:    /host/out"]
    assert output_lines(None, []) == [
        "  outputs:    in the output volume, which no --mount maps to a directory here"
    ]
