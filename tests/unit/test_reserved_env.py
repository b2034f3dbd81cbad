"""spec.env may not set a variable the operator or mnft launch sets: reserved.RESERVED_ENV covers every
name env.pod_env renders and every name launch puts into a process's environment, and both the CRD's CEL
rule (evaluated by cel-python, as the embedded API does) and spec.validate refuse them."""

from __future__ import annotations

import ast
import inspect
from typing import Any

import pytest

from kube_emulator.apiserver import openapi_schema
from mnft_contract import env as contract_env
from mnft_contract import termination
from mnft_operator import reserved
from mnft_operator.crd import crd
from mnft_operator.env import pod_env
from mnft_operator.spec import parse, validate
from mnft_trainer.pod import launch

# What launch sets or reads but deliberately leaves to the pod: the user's MindSpore log level (launch
# only defaults it), the device plugin's visible devices, its grace period and dry run.
LAUNCH_USER_SETTINGS = {"GLOG_v", "ASCEND_VISIBLE_DEVICES", *reserved.ALLOWED_MNFT_ENV}


def job(spec: dict[str, Any]) -> dict[str, Any]:
    base = {"platform": "CPU", "image": "mnft-trainer:0.1.0", "dataset": {"path": "/data"}}
    return {"metadata": {"name": "flowers", "namespace": "ml"}, "spec": {**base, **spec}}


def _name(node: ast.expr | None) -> str | None:
    """An env name as launch.py spells it: a string literal, a contract name (`E.RANK_ID`) or
    termination.PATH_ENV."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        if node.value.id == "E":
            value = getattr(contract_env, node.attr)
            return value if isinstance(value, str) else None
        if node.value.id == "termination" and node.attr == "PATH_ENV":
            return termination.PATH_ENV
    return None


def _launch_set_names() -> set[str]:
    """Every env name launch.py writes: dict keys, update(...) keywords and setdefault(...) keys (read
    from its source, so a name added there must be classified here)."""
    tree = ast.parse(inspect.getsource(launch))
    found: list[str | None] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            found += [_name(key) for key in node.keys]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "update":
                found += [k.arg for k in node.keywords]
            if node.func.attr == "setdefault" and node.args:
                found.append(_name(node.args[0]))
    # env names; the dry-run line's keys are lowercase
    return {n for n in found if n is not None and n[:1].isupper()}


def test_the_reserved_names_are_the_contracts_pod_and_process_names() -> None:
    assert set(reserved.RESERVED_ENV) == set(contract_env.POD) | set(contract_env.PROCESS)
    assert set(contract_env.USER_SETTINGS) == LAUNCH_USER_SETTINGS
    assert [reserved.env_error(n) for n in contract_env.USER_SETTINGS] == [None] * 4


def test_every_name_launch_sets_is_reserved_or_a_user_setting() -> None:
    names = _launch_set_names()
    assert {"RANK_ID", "MS_ROLE", "PYTHONUNBUFFERED", "TERMINATION_MESSAGE_PATH", "GLOG_v"} <= names
    unclassified = {n for n in names if n not in LAUNCH_USER_SETTINGS and reserved.env_error(n) is None}
    assert unclassified == set()


@pytest.mark.parametrize(
    ("platform", "env"),
    [
        ("CPU", {}),
        (
            "GPU",
            {
                "MNFT_COMM_MODE": "dynamicCluster",
                "MNFT_DEVICES_PER_WORKER": "2",
                "MS_WORKER_NUM": "4",
                "MNFT_WORKERS": "2",
                "MNFT_LOCAL_WORKER_NUM": "2",
                "MS_SCHED_HOST": "w0",
                "MNFT_NODE_RANK": "0",
                "CUDA_VISIBLE_DEVICES": "0,1",
            },
        ),
        ("Ascend", {"MNFT_COMM_MODE": "dynamicCluster", "MNFT_LOCAL_WORKER_NUM": "8", "MS_WORKER_NUM": "8"}),
    ],
)
def test_every_variable_of_a_planned_process_is_reserved(platform: str, env: dict[str, str]) -> None:
    specs = launch.plan_processes({"MNFT_PLATFORM": platform, **env}, free_port=lambda: 4242)
    names = {name for spec in specs for name in spec.env}
    assert names and {n for n in names if reserved.env_error(n) is None} == set()


def test_rank_table_processes_set_only_reserved_names() -> None:
    table = {
        "version": "1.0",
        "status": "completed",
        "server_count": "1",
        "server_list": [
            {"server_id": "10.0.0.1", "device": [{"device_id": "4", "device_ip": "", "rank_id": "0"}]}
        ],
    }
    env = {"MNFT_PLATFORM": "Ascend", "MNFT_COMM_MODE": "rankTable", "RANK_TABLE_FILE": "/t/hccl.json"}
    specs = launch.plan_processes(env, table)
    assert {n for s in specs for n in s.env if reserved.env_error(n) is None} == set()


@pytest.mark.parametrize(
    ("platform", "mode"),
    [
        ("CPU", "dynamicCluster"),
        ("GPU", "dynamicCluster"),
        ("Ascend", "dynamicCluster"),
        ("Ascend", "rankTable"),
    ],
)
def test_every_variable_the_operator_renders_is_reserved(platform: str, mode: str) -> None:
    parsed = parse(
        job(
            {
                "platform": platform,
                "communication": {"mode": mode},
                "workers": 2,
                "devicesPerWorker": 8 if platform == "Ascend" else 1,
            }
        )
    )
    assert {e["name"] for e in pod_env(parsed, 1) if reserved.env_error(e["name"]) is None} == set()


def test_validate_names_the_variable_and_the_setting_to_use() -> None:
    env = [
        {"name": "NCCL_DEBUG", "value": "INFO"},
        {"name": "GLOG_v", "value": "2"},
        {"name": "MS_SCHED_PORT", "value": "9000"},
        {"name": "CUDA_VISIBLE_DEVICES", "value": "0"},
        {"name": "MNFT_DEBUG", "value": "1"},
    ]
    assert [str(e) for e in validate(job({"env": env}))] == [
        "spec.env[2].name: MS_SCHED_PORT is set by the operator; use spec.communication.schedulerPort",
        "spec.env[3].name: CUDA_VISIBLE_DEVICES is set by mnft launch for each process; remove it (each "
        "process gets one of the pod's GPUs; use spec.devicesPerWorker)",
        "spec.env[4].name: MNFT_DEBUG: names starting with MNFT_ are reserved for the operator and mnft "
        "launch; rename it",
    ]


def test_user_settings_and_mindspore_tuning_variables_stay_allowed() -> None:
    env = [
        {"name": n, "value": "1"}
        for n in (
            "GLOG_v",
            "MNFT_LAUNCH_GRACE_SECONDS",
            "MS_ALLOC_CONF",
            "MS_SUBMODULE_LOG_v",
            "NCCL_IB_DISABLE",
            "HCCL_CONNECT_TIMEOUT",
        )
    ]
    assert validate(job({"env": env})) == []
    assert server_errors(job({"env": env})) == []


def server_errors(obj: dict[str, Any]) -> list[str]:
    root = crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    defaulted = openapi_schema.apply_defaults(root, openapi_schema.prune(root, obj))
    return [str(e) for e in openapi_schema.validate(root, defaulted, None)]


def test_the_crd_rule_refuses_each_reserved_name_with_its_own_message() -> None:
    """The CEL rule and its messageExpression, evaluated by cel-python: every reserved name, one error each,
    the same text spec.validate gives."""
    names = [*reserved.RESERVED_ENV, "MNFT_SOMETHING"]
    obj = job({"env": [{"name": n, "value": "x"} for n in names]})
    expected = [
        f'spec.env[{i}].name: Invalid value: "object": {reserved.env_error(n)}' for i, n in enumerate(names)
    ]
    assert server_errors(obj) == expected
    assert [str(e) for e in validate(obj)] == [
        f"spec.env[{i}].name: {reserved.env_error(n)}" for i, n in enumerate(names)
    ]
