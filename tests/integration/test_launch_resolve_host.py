"""`mnft launch` resolves the scheduler's host name with the system resolver."""

from __future__ import annotations

from mnft_trainer.pod.launch import resolve_host


def test_scheduler_host_names_resolve_to_an_ipv4_address():
    assert resolve_host("localhost", timeout_s=5) == "127.0.0.1"
    assert resolve_host("127.3.4.5", timeout_s=5) == "127.3.4.5"
