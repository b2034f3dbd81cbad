"""The chart's Deployment, as `helm template` renders it (real helm), passes Pod Security "restricted"."""

from __future__ import annotations

import pytest
import yaml
from chart_helpers import helm_template

from kube_emulator.apiserver.pod_security import check_pod


@pytest.mark.parametrize("values", [[], ["--set", "watchNamespaces={a,b}"]], ids=["default", "namespaced"])
def test_chart_deployment_passes_restricted(values: list[str]) -> None:
    docs = [d for d in yaml.safe_load_all(helm_template(*values)) if d]
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    assert check_pod(deployment) == []
