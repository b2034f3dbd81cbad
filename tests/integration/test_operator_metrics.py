"""The operator's /metrics endpoint scraped over HTTP while a job runs against the embedded API.

The job goes Pending -> Running -> Restarting (an OOMKilled worker); a Service someone created first makes
the operator's create answer 409. Counters are process-wide, so the checks compare against a scrape
taken before the job exists.
"""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from kubernetes import client as k8s
from operator_fixtures import NS, Api, job_manifest, run_operator, wait_for
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.status == 200
        text = response.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def get(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def metrics_port(operator_api: Api) -> Iterator[int]:
    port = free_port()
    for _ in run_operator(operator_api, metrics_port=port):
        yield port


def scrape_until(port: int, what: str, done: Callable[[Samples], bool]) -> Samples:
    return wait_for(what, lambda: samples if done(samples := scrape(port)) else None)


def test_metrics_move_while_a_job_runs_and_restarts(operator_api: Api, metrics_port: int) -> None:
    api = operator_api
    before = scrape(metrics_port)

    def up(after: Samples, name: str, by: float = 1, **labels: str) -> bool:
        return get(after, name, **labels) >= get(before, name, **labels) + by

    # A Service named like the job's, made by someone else: the operator's create gets 409 (NameConflict);
    # once it is gone the job proceeds.
    service = k8s.V1Service(
        metadata=k8s.V1ObjectMeta(name="watched"), spec=k8s.V1ServiceSpec(cluster_ip="None")
    )
    api.core.create_namespaced_service(NS, service)
    api.create_job(job_manifest("watched", workers=2, runPolicy={"backoffLimit": 2}))
    scrape_until(metrics_port, "a 409 counted", lambda s: up(s, "mnft_api_errors_total", code="409"))
    api.core.delete_namespaced_service("watched", NS)
    wait_for("Created=True", lambda: (c := api.condition("watched", "Created")) and c["status"] == "True")
    wait_for("2 pods", lambda: len(api.live_pods("watched")) == 2)
    for pod in ("watched-worker-0", "watched-worker-1"):
        api.set_running(pod)
    wait_for("Running", lambda: api.status("watched").get("phase") == "Running")
    running = scrape_until(
        metrics_port, "one more Running job", lambda s: up(s, "mnft_jobs", phase="Running")
    )
    assert up(running, "mnft_reconcile_duration_seconds_count", by=2)

    api.set_terminated("watched-worker-1", 137, reason="OOMKilled")
    wait_for("restarts 1", lambda: api.status("watched").get("restarts") == 1)
    after = scrape_until(
        metrics_port,
        "an OOMKilled restart counted and the job no longer Running",
        lambda s: (
            up(s, "mnft_job_restarts_total", reason="OOMKilled")
            and get(s, "mnft_jobs", phase="Running") == get(before, "mnft_jobs", phase="Running")
        ),
    )
    assert get(after, "mnft_job_restarts_total", reason="OOMKilled") == (
        get(before, "mnft_job_restarts_total", reason="OOMKilled") + 1
    )
    assert up(after, "mnft_jobs", phase="Restarting") or up(after, "mnft_jobs", phase="Pending")
    assert get(after, "mnft_reconcile_duration_seconds_sum") > get(
        before, "mnft_reconcile_duration_seconds_sum"
    )
