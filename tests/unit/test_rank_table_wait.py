"""Reading hccl.json and waiting for the operator to complete it."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from mnft_trainer.pod import rank_table
from mnft_trainer.pod.rank_table import Device, RankTableError

COMPLETED = {
    "status": "completed",
    "version": "1.0",
    "server_count": "1",
    "server_list": [
        {
            "server_id": "10.0.0.1",
            "container_ip": "10.244.1.5",
            "device": [
                {"device_id": "0", "device_ip": "192.168.100.101", "rank_id": "0"},
                {"device_id": "1", "device_ip": "192.168.100.102", "rank_id": "1"},
            ],
        }
    ],
}


def write_atomically(path: Path, content: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(content)
    os.replace(tmp, path)


def test_completed_table_is_returned_at_once(tmp_path):
    path = tmp_path / "hccl.json"
    path.write_text(json.dumps(COMPLETED))
    assert rank_table.wait_until_completed(path, timeout_s=0) == COMPLETED


def test_waits_while_initializing_and_proceeds_when_the_file_flips(tmp_path):
    path = tmp_path / "hccl.json"
    path.write_text('{"status": "initializing"}')
    messages: list[str] = []
    waiting = threading.Event()

    def log(message: str) -> None:
        messages.append(message)
        waiting.set()

    def flip() -> None:
        waiting.wait()  # handshake: flip only once the waiter has seen "initializing"
        write_atomically(path, json.dumps(COMPLETED))

    thread = threading.Thread(target=flip)
    thread.start()
    table = rank_table.wait_until_completed(path, timeout_s=300, poll_s=0.05, log=log)
    thread.join()
    assert table == COMPLETED
    assert messages == [f"waiting for rank table {path} to be completed (status is 'initializing')"]


def test_times_out_with_a_clear_message(tmp_path):
    path = tmp_path / "hccl.json"
    path.write_text('{"status": "initializing"}')
    with pytest.raises(RankTableError) as info:
        rank_table.wait_until_completed(path, timeout_s=0.2, poll_s=0.05)
    message = str(info.value)
    assert message.startswith(f"rank table {path} is not completed after 0.2 s (status is 'initializing')")
    assert "MNFT_RANK_TABLE_TIMEOUT" in message


def test_a_half_written_file_is_read_again(tmp_path):
    path = tmp_path / "hccl.json"
    path.write_text('{"status": "comp')

    def finish() -> None:
        time.sleep(0.3)
        path.write_text(json.dumps(COMPLETED))

    thread = threading.Thread(target=finish)
    thread.start()
    assert rank_table.wait_until_completed(path, timeout_s=10, poll_s=0.05) == COMPLETED
    thread.join()


def test_a_file_that_stays_invalid_fails_after_the_grace_period(tmp_path, monkeypatch):
    monkeypatch.setattr(rank_table, "INVALID_GRACE_S", 0.2)
    path = tmp_path / "hccl.json"
    path.write_text("not json")
    with pytest.raises(RankTableError, match=f"rank table {path} is not valid JSON"):
        rank_table.wait_until_completed(path, timeout_s=30, poll_s=0.05)


def test_missing_file_fails_at_once(tmp_path):
    path = tmp_path / "nope.json"
    with pytest.raises(RankTableError, match="does not exist; check RANK_TABLE_FILE"):
        rank_table.wait_until_completed(path, timeout_s=30)


def test_server_devices_and_rank_size():
    assert rank_table.server_devices(COMPLETED, 0) == [
        Device(rank_id=0, device_id=0, device_ip="192.168.100.101"),
        Device(rank_id=1, device_id=1, device_ip="192.168.100.102"),
    ]
    assert rank_table.rank_size(COMPLETED) == 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, 600.0), ("", 600.0), ("2.5", 2.5), ("0", 0.0)],
)
def test_timeout_from_env(raw, expected):
    env = {} if raw is None else {"MNFT_RANK_TABLE_TIMEOUT": raw}
    assert rank_table.timeout_from_env(env) == expected


def test_bad_timeout_env_names_the_variable():
    with pytest.raises(RankTableError, match="MNFT_RANK_TABLE_TIMEOUT='soon' is not a number"):
        rank_table.timeout_from_env({"MNFT_RANK_TABLE_TIMEOUT": "soon"})
