"""The operator's metrics bookkeeping (no server): phases, restarts by reason, reconcile timings."""

from __future__ import annotations

from mnft_operator import metrics


def value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def restarting(restarts: int, reason: str) -> dict:
    return {
        "phase": "Restarting",
        "restarts": restarts,
        "conditions": [{"type": "Restarting", "status": "True", "reason": reason}],
    }


def test_phases_follow_the_last_reconcile_and_forget_deleted_jobs() -> None:
    running = value("mnft_jobs", phase="Running")
    succeeded = value("mnft_jobs", phase="Succeeded")
    metrics.reconciled("ns", "m1", {}, {"phase": "Running"}, 0.01)
    assert value("mnft_jobs", phase="Running") == running + 1
    metrics.reconciled("ns", "m1", {"phase": "Running"}, None, 0.01)  # status unchanged
    assert value("mnft_jobs", phase="Running") == running + 1
    metrics.reconciled("ns", "m1", {"phase": "Running"}, {"phase": "Succeeded"}, 0.01)
    assert (value("mnft_jobs", phase="Running"), value("mnft_jobs", phase="Succeeded")) == (
        running,
        succeeded + 1,
    )
    metrics.reconciled("ns", "m1", None, None, 0.01)  # the job is gone
    assert value("mnft_jobs", phase="Succeeded") == succeeded


def test_restarts_count_once_per_increment_with_the_conditions_reason() -> None:
    before = value("mnft_job_restarts_total", reason="OOMKilled")
    metrics.reconciled("ns", "m2", {"phase": "Running", "restarts": 0}, restarting(1, "OOMKilled"), 0.01)
    metrics.reconciled("ns", "m2", restarting(1, "OOMKilled"), restarting(1, "OOMKilled"), 0.01)
    assert value("mnft_job_restarts_total", reason="OOMKilled") == before + 1
    metrics.reconciled("ns", "m2", None, None, 0.01)


def test_every_reconcile_is_timed_and_api_errors_count_by_code() -> None:
    count, total = (
        value("mnft_reconcile_duration_seconds_count"),
        value("mnft_reconcile_duration_seconds_sum"),
    )
    metrics.reconciled("ns", "m3", None, None, 0.25)
    assert value("mnft_reconcile_duration_seconds_count") == count + 1
    assert value("mnft_reconcile_duration_seconds_sum") == total + 0.25
    conflicts, unreachable = (
        value("mnft_api_errors_total", code="409"),
        value("mnft_api_errors_total", code="none"),
    )
    metrics.api_error(409)
    metrics.api_error(None)
    assert value("mnft_api_errors_total", code="409") == conflicts + 1
    assert value("mnft_api_errors_total", code="none") == unreachable + 1


def test_port_0_serves_nothing() -> None:
    server = metrics.MetricsServer(0)
    assert server.port is None
    server.close()
