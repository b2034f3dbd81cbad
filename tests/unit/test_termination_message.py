"""One termination message per pod: the writer, and which process's message launch picks."""

from __future__ import annotations

from mnft_contract.termination import read_termination_message, write_termination_message
from mnft_trainer.pod.launch import ProcessSpec, pod_message
from mnft_trainer.pod.supervise import Outcome

SPECS = [ProcessSpec(None), ProcessSpec(0), ProcessSpec(1)]
RESULTS = {"scheduler": "", "rank-0": '{"accuracy": 0.9}', "rank-1": '{"accuracy": 0.8}'}


def test_writes_only_into_an_existing_file(tmp_path):
    path = tmp_path / "termination-log"
    assert write_termination_message("error: x", {"TERMINATION_MESSAGE_PATH": str(path)}) is False
    assert not path.exists()
    path.write_text("old")
    assert write_termination_message("error: x", {"TERMINATION_MESSAGE_PATH": str(path)}) is True
    assert read_termination_message(path) == "error: x"


def test_reading_a_missing_message_is_empty(tmp_path):
    assert read_termination_message(tmp_path / "absent") == ""


def test_success_reports_rank_0_not_the_last_rank_to_finish():
    assert pod_message(SPECS, RESULTS, Outcome(0, None, None)) == '{"accuracy": 0.9}'


def test_a_pod_without_rank_0_reports_its_lowest_rank():
    specs = [ProcessSpec(9), ProcessSpec(8)]
    messages = {"rank-8": '{"accuracy": 0.8}', "rank-9": '{"accuracy": 0.7}'}
    assert pod_message(specs, messages, Outcome(0, None, None)) == '{"accuracy": 0.8}'


def test_the_first_failure_reports_its_own_error():
    messages = {**RESULTS, "rank-1": "error: dataset missing\n"}
    assert pod_message(SPECS, messages, Outcome(1, "rank-1", None)) == "error: dataset missing"


def test_a_silent_failure_gets_a_reason():
    assert pod_message(SPECS, {}, Outcome(137, "rank-1", None)) == "error: rank-1 exited with code 137"
    assert pod_message(SPECS, {}, Outcome(75, "scheduler", None)) == (
        "error: the MindSpore scheduler failed before the workers finished (cluster formation)"
    )


def test_a_forwarded_signal_writes_nothing():
    assert pod_message(SPECS, RESULTS, Outcome(143, None, 15)) == ""
