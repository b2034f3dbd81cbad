"""Shared end-to-end fixtures: the demo dataset (once per session) and a local cluster per test.
Helpers (manifests, the job watcher) are in local_e2e_helpers.py."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from local_e2e_helpers import MNFT

from mnft_local.local_cluster import LocalCluster


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`mnft demo-data` output as `make demo` writes it (digits-0-4/, digits-5-9/), once per session."""
    out = tmp_path_factory.mktemp("demo-data")
    for name, classes in (("digits-0-4", "0,1,2,3,4"), ("digits-5-9", "5,6,7,8,9")):
        command = [MNFT, "demo-data", "--classes", classes, "--output", str(out / name)]
        subprocess.run(command, check=True, capture_output=True, timeout=300)
    return out


@pytest.fixture
def local_cluster(tmp_path: Path) -> Iterator[Callable[..., LocalCluster]]:
    """`start(mounts, simulate_ascend_devices=False)` -> a running LocalCluster, stopped after the test.
    Its namespace enforces Pod Security "restricted", so every pod an e2e job runs has passed it."""
    started: list[LocalCluster] = []

    def start(mounts: Mapping[str, Path], simulate_ascend_devices: bool = False) -> LocalCluster:
        cluster = LocalCluster(
            state_dir=tmp_path / f"state-{len(started)}",
            mounts={name: str(path) for name, path in mounts.items()},
            simulate_ascend_devices=simulate_ascend_devices,
            pod_security="restricted",
        )
        started.append(cluster)
        cluster.start()
        return cluster

    yield start
    for cluster in started:
        cluster.stop()
