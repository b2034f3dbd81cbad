"""A short seeded chaos run (bench/chaos.py): 4 faults (the Service deleted, API errors, a killed rank, the
node lost with a pod evicted) on a real 2-worker CPU job through the embedded API, the local kubelet and
the operator; every invariant holds, the job succeeds with an accuracy, and both restarts resume from the
newest checkpoint. The lost node needs the operator to force-delete pods stuck terminating there. The
Service deletion and the API errors are judged with the job frozen (chaos.Chaos.frozen), so a machine that
trains fast cannot finish the job before the last fault."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import chaos  # bench/ is not a package: found through the path above

pytestmark = [
    pytest.mark.slow,  # real MindSpore ranks
]

SEED = 5  # draws delete-service, api-errors, kill-rank, node-lost


def test_seeded_faults_are_all_survived(tmp_path: Path, demo_data: Path) -> None:
    lines: list[str] = []
    report = chaos.run_chaos(
        SEED, 4, tmp_path, per_class=16, log=lines.append, source=demo_data / "digits-0-4"
    )
    assert [f.kind for f in report.faults] == ["delete-service", "api-errors", "kill-rank", "node-lost"]
    assert report.violations == [], "\n".join(lines + report.tracebacks[:3])
    assert all(f.survived for f in report.faults), report.faults
    assert report.phase == "Succeeded" and report.accuracy is not None
    assert report.status_restarts == 2
    for restart in report.restarts:
        assert restart.resumed_from == restart.checkpoint
        assert restart.lost is not None and restart.lost <= 1  # one save interval (every epoch)
    table = chaos.markdown(report)
    assert "| kill-rank | 1 | 1 | 1 |" in table and "| node-lost | 1 | 1 | 1 |" in table
