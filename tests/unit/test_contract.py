"""Both sides of `mnft_contract` agree: the operator and the trainer refuse and accept the same
hyperparameter values, the rank table the operator writes is the one launch reads, the termination message
the trainer writes is what the operator reports, and the exit codes mean the same on both sides."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mnft_contract import exit_codes, hyperparameters, rank_table, termination
from mnft_operator import exit_codes as operator_exit_codes
from mnft_operator.progress import parse_result
from mnft_operator.rank_table import build_rank_table
from mnft_operator.spec import validate
from mnft_trainer.config import resolve_config
from mnft_trainer.errors import TrainerError
from mnft_trainer.pod import rank_table as trainer_rank_table


def job(hp: dict[str, Any]) -> dict[str, Any]:
    spec = {"platform": "CPU", "image": "i", "dataset": {"path": "/d"}, "hyperparameters": hp}
    return {"metadata": {"name": "j", "namespace": "ml", "uid": "u"}, "spec": spec}


def _edges() -> list[tuple[hyperparameters.Hyperparameter, float, bool]]:
    """(parameter, value, allowed) at each bound: the bound itself and one step past it."""
    out = []
    for h in hyperparameters.TABLE:
        step = 1 if h.type is int else 1e-6
        if h.minimum is not None:
            out += [(h, h.minimum, not h.exclusive_minimum), (h, h.minimum - step, False)]
        if h.maximum is not None:
            out += [(h, h.maximum, not h.exclusive_maximum), (h, h.maximum + step, False)]
    return out


EDGES = _edges()


def test_every_number_is_bounded_on_both_sides() -> None:
    numbers = [h.key for h in hyperparameters.TABLE if h.type in (int, float)]
    assert [
        h.key for h in hyperparameters.TABLE if h.minimum is not None and h.maximum is not None
    ] == numbers


@pytest.mark.parametrize(("h", "value", "allowed"), EDGES, ids=lambda x: getattr(x, "field", str(x)))
def test_operator_and_trainer_refuse_the_same_values(h, value, allowed) -> None:
    value = h.type(value)
    # Keep the trainer's cross-key checks out of the way of the bound under test.
    others: dict[str, Any] = {"epoch_size": 10000} if h.key == "warmup_epochs" else {}
    if h.key.startswith(("crop_scale", "crop_ratio")):
        low, high = h.key.replace("_max", "_min"), h.key.replace("_min", "_max")
        others = {low: value, high: value}
    operator_errors = validate(job({h.field: value}))
    try:
        resolve_config("CPU", {}, {**others, h.key: value})
        trainer_error = None
    except TrainerError as exc:
        trainer_error = str(exc)
    if allowed:
        assert (operator_errors, trainer_error) == ([], None)
    else:
        assert [e.field for e in operator_errors] == [f"spec.hyperparameters.{h.field}"]
        assert trainer_error is not None and h.key in trainer_error.split(":")[0]


def test_the_table_bound_message_is_the_operators() -> None:
    h = hyperparameters.BY_FIELD["imageHeight"]
    [error] = validate(job({"imageHeight": 31}))
    assert error.message == h.bound_error(31) == "must be at least 32, not 31"
    with pytest.raises(TrainerError, match=r"^image_height: must be at least 32, not 31$"):
        resolve_config("CPU", {}, {"image_height": 31})


def test_ordered_pairs_are_refused_by_the_operator_when_both_are_set() -> None:
    for low, high in hyperparameters.ORDERED_PAIRS:
        big, small = (2, 1) if hyperparameters.BY_FIELD[low].type is int else (0.9, 0.5)
        assert [str(e) for e in validate(job({low: big, high: small}))] == [
            f"spec.hyperparameters.{low}: must not exceed {high}"
        ]
        assert validate(job({low: small, high: big})) == []


def _annotated_pod(index: int, devices: int) -> dict[str, Any]:
    info = {
        "server_id": f"10.0.0.{index + 1}",
        "devices": [{"device_id": str(d), "device_ip": "ip"} for d in range(devices)],
    }
    return {
        "metadata": {
            "name": f"j-worker-{index}",
            "uid": f"u{index}",
            "labels": {"finetune.mindspore.io/replica-index": str(index)},
            "annotations": {"ascend.kubectl.kubernetes.io/ascend-910-configuration": json.dumps(info)},
        },
        "status": {"podIP": f"10.244.0.{index + 1}", "hostIP": f"10.0.0.{index + 1}"},
    }


def test_the_rank_table_the_operator_writes_has_the_contracts_keys_and_launch_reads_it() -> None:
    built = build_rank_table([_annotated_pod(1, 2), _annotated_pod(0, 2)], workers=2, devices_per_worker=2)
    table = built.table
    assert tuple(table) == rank_table.TABLE_KEYS
    assert (table[rank_table.STATUS], table["version"]) == (rank_table.COMPLETED, rank_table.VERSION)
    assert [tuple(s) for s in table[rank_table.SERVER_LIST]] == [rank_table.SERVER_KEYS] * 2
    devices = [d for s in table[rank_table.SERVER_LIST] for d in s[rank_table.DEVICES]]
    assert [tuple(d) for d in devices] == [rank_table.DEVICE_KEYS] * 4
    assert trainer_rank_table.rank_size(table) == 4
    assert [d.rank_id for d in trainer_rank_table.server_devices(table, 1)] == [2, 3]
    pending = build_rank_table([_annotated_pod(0, 2)], workers=2, devices_per_worker=2)
    assert pending.table == {rank_table.STATUS: rank_table.INITIALIZING}


def _failed_pod(code: int, message: str = "") -> dict[str, Any]:
    term = {"exitCode": code, "message": message}
    status = {"phase": "Failed", "containerStatuses": [{"name": "trainer", "state": {"terminated": term}}]}
    return {"metadata": {"name": "j-worker-0"}, "status": status}


def test_the_trainers_failure_message_is_what_the_operator_reports(tmp_path) -> None:
    path = tmp_path / "termination-log"
    path.write_text("")
    env = {termination.PATH_ENV: str(path)}
    assert termination.write_termination_message(termination.error_line("no images in /d/train"), env)
    failure = operator_exit_codes.classify(_failed_pod(exit_codes.ERROR, path.read_text()))
    assert failure == operator_exit_codes.Failure(
        operator_exit_codes.TRAINER_ERROR,
        "TrainerError",
        "j-worker-0: container trainer exited 1: error: no images in /d/train",
        1,
    )


def test_the_trainers_summary_message_is_the_operators_result(tmp_path) -> None:
    summary = {"epochs": 2, "final_loss": 0.5, "accuracy": 0.75, "checkpoint": "/c.ckpt", "history": []}
    message = json.dumps({k: summary[k] for k in termination.SUMMARY_KEYS if k in summary})
    assert parse_result(message) == {"accuracy": 0.75, "checkpoint": "/c.ckpt", "finalLoss": 0.5}


@pytest.mark.parametrize(
    ("code", "kind", "reason"),
    [
        (exit_codes.EX_TEMPFAIL, operator_exit_codes.RETRYABLE, "ClusterFormation"),
        (exit_codes.killed_by(9), operator_exit_codes.RETRYABLE, "ExitCode"),
        (exit_codes.ERROR, operator_exit_codes.TRAINER_ERROR, "TrainerError"),
        (exit_codes.USAGE_ERROR, operator_exit_codes.TRAINER_ERROR, "TrainerError"),
    ],
)
def test_exit_codes_mean_the_same_to_the_operator(code: int, kind: str, reason: str) -> None:
    failure = operator_exit_codes.classify(_failed_pod(code))
    assert failure is not None and (failure.kind, failure.reason, failure.exit_code) == (kind, reason, code)
