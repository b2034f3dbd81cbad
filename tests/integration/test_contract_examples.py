"""The operator-trainer contract on every shipped example: the pods the operator renders for each
MobileNetFineTune under manifests/examples/ (`mnft render`'s path, with simulated Ascend devices so the
rank table is completed) go, env and command as rendered, to a real `mnft launch --dry-run` process and to
the trainer's own argument parser. Every hyperparameter arrives with the spec's value (the platform's
default when unset), every process gets the rank, size and device the spec implies.

The one change to a pod's env: RANK_TABLE_FILE points at a copy of the ConfigMap's hccl.json in a
temporary directory instead of the ConfigMap's mount.
"""

from __future__ import annotations

import json
import os
import posixpath
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mnft_contract import env as E
from mnft_contract import hyperparameters, rank_table
from mnft_operator.render_cli import render
from mnft_trainer.cli import config_from_args, train_parser

EXAMPLES = Path(__file__).resolve().parents[2] / "manifests" / "examples"
LAUNCH = [sys.executable, "-m", "mnft_operator.cli", "launch", "--dry-run"]


def _example_jobs() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "MobileNetFineTune":
                out.append((f"{path.stem}/{doc['metadata']['name']}", doc))
    return out


JOBS = _example_jobs()


def test_every_example_with_a_job_is_covered() -> None:
    files = {name.split("/")[0] for name, _ in JOBS}
    assert files == {p.stem for p in EXAMPLES.glob("*.yaml")} - {"dataset-pvc"}  # PVCs and a batch Job
    assert len(JOBS) == 8


def _pods_and_table(job: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    objects = render(job, simulate_ascend_devices=True)
    pods = [o for o in objects if o["kind"] == "Pod"]
    tables = [o["data"][rank_table.FILE_NAME] for o in objects if o["kind"] == "ConfigMap"]
    return pods, (tables[0] if tables else None)


def _container(pod: dict[str, Any], name: str) -> dict[str, Any]:
    containers = pod["spec"].get("initContainers", []) + pod["spec"]["containers"]
    return next(c for c in containers if c["name"] == name)


def _launch(command: list[str], env: dict[str, str]) -> list[dict[str, Any]]:
    assert command[:3] == ["mnft", "launch", "train"]
    result = subprocess.run(
        [*LAUNCH, *command[2:]], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _expected_processes(job: dict[str, Any], index: int, table: dict[str, Any] | None, table_path: str):
    """The dry-run lines the spec implies for pod `index` (docs/architecture.md, pod environment)."""
    spec, meta = job["spec"], job["metadata"]
    workers, devices = spec.get("workers", 1), spec.get("devicesPerWorker", 1)
    world, platform = workers * devices, spec["platform"]
    if table is not None:  # rank table: the ranks of server_list[index], in physical chip order
        chips = sorted(table["server_list"][index]["device"], key=lambda d: int(d["device_id"]))
        return [
            {
                "rank": int(d["rank_id"]),
                "env": {
                    E.RANK_TABLE_FILE: table_path,
                    E.RANK_ID: d["rank_id"],
                    E.RANK_SIZE: str(world),
                    E.LOCAL_RANK: str(local),
                    E.MNFT_LOCAL_RANK: str(local),
                    E.DEVICE_ID: str(local),
                    E.ASCEND_DEVICE_ID: str(local),
                },
            }
            for local, d in enumerate(chips)
        ]
    comm = spec.get("communication", {})
    name, namespace = meta["name"], meta.get("namespace", "default")
    cluster = {
        E.MS_SCHED_HOST: f"{name}-worker-0.{name}.{namespace}.svc",
        E.MS_SCHED_PORT: str(comm.get("schedulerPort", 8118)),
        E.MS_WORKER_NUM: str(world),
        E.MS_TOPO_TIMEOUT: str(comm.get("timeoutSeconds", 600)),
    }
    lines: list[dict[str, Any]] = []
    if world > 1 and index == 0:
        scheduler = {**cluster, E.MS_ROLE: E.ROLE_SCHEDULER, E.RANK_ID: "0", E.RANK_SIZE: str(world)}
        lines.append({"rank": None, "role": "scheduler", "env": scheduler})
    for local in range(devices):
        rank = index * devices + local
        env = {E.RANK_ID: str(rank), E.RANK_SIZE: str(world), E.LOCAL_RANK: str(local)}
        env[E.MNFT_LOCAL_RANK] = str(local)
        if world > 1:
            env.update({**cluster, E.MS_ROLE: E.ROLE_WORKER, E.MS_NODE_ID: str(rank)})
        if platform == "GPU":
            env.update({E.CUDA_VISIBLE_DEVICES: str(local), E.DEVICE_ID: "0"})
        elif platform == "Ascend":
            env.update({E.DEVICE_ID: str(local), E.ASCEND_DEVICE_ID: str(local)})
        lines.append({"rank": rank, "env": env})
    return lines


def _expected_recipe(spec: dict[str, Any]) -> dict[str, Any]:
    """Every recipe key as the trainer must see it: the spec's value, else the platform's default."""
    values = hyperparameters.platform_defaults(spec["platform"])
    for field, value in spec.get("hyperparameters", {}).items():
        h = hyperparameters.BY_FIELD[field]
        values[h.key] = h.type(value)
    output = spec.get("output", {}).get("path", "checkpoint")
    values["save_checkpoint_path"] = posixpath.join("/mnt/output", output)
    return values


def _in_volume(source: dict[str, Any], key: str, mount: str) -> str:
    return posixpath.join(mount, source[key]) if "volume" in source else source[key]


@pytest.mark.parametrize(("name", "job"), JOBS, ids=[name for name, _ in JOBS])
def test_each_pod_of_the_example_reaches_launch_and_the_trainer_intact(name, job, tmp_path) -> None:
    pods, table_text = _pods_and_table(job)
    spec = job["spec"]
    assert len(pods) == spec.get("workers", 1)
    table = json.loads(table_text) if table_text is not None else None
    if table is not None:
        assert table[rank_table.STATUS] == rank_table.COMPLETED
        (tmp_path / rank_table.FILE_NAME).write_text(table_text or "")
    table_path = str(tmp_path / rank_table.FILE_NAME)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MNFT_", "MS_", "RANK_", "TERMINATION"))}
    for index, pod in enumerate(pods):
        container = _container(pod, "trainer")
        pod_env = {e["name"]: e["value"] for e in container["env"]}
        if table is not None:
            assert pod_env[E.RANK_TABLE_FILE] == rank_table.FILE
            pod_env[E.RANK_TABLE_FILE] = table_path
        lines = _launch(container["command"], {**base, **pod_env})
        assert lines == _expected_processes(job, index, table, table_path), name

        args = train_parser().parse_args(container["command"][3:])
        config = config_from_args(args)
        recipe = {key: getattr(config, key) for key in hyperparameters.BY_KEY}
        expected = _expected_recipe(spec)
        assert recipe == expected
        assert {k: type(v) for k, v in recipe.items()} == {k: type(v) for k, v in expected.items()}
        assert config.platform == spec["platform"] == pod_env[E.MNFT_PLATFORM]

        assert args.dataset_path == _in_volume(spec["dataset"], "path", "/mnt/dataset")
        pre = spec.get("pretrained")
        if pre is None:
            assert (args.pretrain_ckpt, args.freeze_layer) == ("", "none")
        elif "url" in pre:
            fetch = _container(pod, "fetch-checkpoint")["command"]
            assert fetch == [
                *("mnft", "fetch-checkpoint", "--url", pre["url"], "--sha256", pre["sha256"]),
                *("--output", args.pretrain_ckpt),
            ]
        else:
            assert args.pretrain_ckpt == _in_volume(pre, "checkpoint", "/mnt/pretrained")
        if pre is not None:
            assert args.freeze_layer == pre.get("freezeLayer", "none")
            assert args.filter_head == ("true" if pre.get("filterHead") else "false")
        evaluation = spec.get("eval", {})
        assert args.run_eval == ("true" if evaluation.get("enabled", True) else "false")
        every = evaluation.get("everyEpochs", 0) if evaluation.get("enabled", True) else 0
        assert args.eval_every_epochs == every
        assert args.export_formats == ",".join(spec.get("export", {}).get("formats", []))
