"""The README's install and first-job commands name the objects `helm template` renders (real helm)."""

from __future__ import annotations

import yaml
from chart_helpers import REPO, helm_template

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_object_names_in_the_readme_match_what_is_installed() -> None:
    rendered = helm_template()
    (deployment,) = [d for d in yaml.safe_load_all(rendered) if d and d["kind"] == "Deployment"]
    name = deployment["metadata"]["name"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert f"rollout status deployment/{name}" in README
    assert f"set image deployment/{name} {container['name']}=" in README
    assert f"logs deployment/{name}" in README
    assert "helm install mnft charts/mnft-operator --namespace mnft-system" in README

    dataset = list(yaml.safe_load_all((REPO / "manifests/examples/dataset-pvc.yaml").read_text()))
    (job,) = [d for d in dataset if d["kind"] == "Job"]
    assert f"job/{job['metadata']['name']}" in README
    claims = {d["metadata"]["name"] for d in dataset if d["kind"] == "PersistentVolumeClaim"}
    example = yaml.safe_load((REPO / "manifests/examples/cpu-2-workers.yaml").read_text())
    used = {
        example["spec"][key]["volume"]["persistentVolumeClaim"]["claimName"] for key in ("dataset", "output")
    }
    assert used == claims
    for claim in claims:
        assert f"--mount {claim}=" in README
    job_name = example["metadata"]["name"]
    assert f"kubectl describe mft {job_name}" in README
    assert f"kubectl logs {job_name}-worker-0" in README
