"""Server-side Table printing of the embedded API: JSONPaths, ages, columns per kind."""

from __future__ import annotations

from datetime import datetime, timezone

from kube_emulator.apiserver.api_resources import ResourceDef
from kube_emulator.apiserver.api_table import age, json_path, table

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def test_age_buckets_like_kubectl() -> None:
    assert [
        age(t, NOW)
        for t in (
            "2026-01-02T03:04:00Z",
            "2026-01-02T02:04:05Z",
            "2026-01-01T03:04:05Z",
            "2025-12-20T03:04:05Z",
        )
    ] == ["5s", "60m", "24h", "13d"]
    assert age(None) == "<unknown>"


def test_json_path_keys_indexes_and_filters() -> None:
    obj = {"status": {"conditions": [{"type": "A", "status": "False"}, {"type": "Ready", "status": "True"}]}}
    assert json_path(obj, '.status.conditions[?(@.type=="Ready")].status') == "True"
    assert json_path(obj, ".status.conditions[0].type") == "A"
    assert json_path(obj, ".status.missing.deeper") is None


def test_crd_printer_columns_replace_age_and_dates_print_as_ages() -> None:
    res = ResourceDef(
        group="x.io",
        version="v1",
        plural="jobs",
        kind="Job",
        namespaced=True,
        custom=True,
        printer_columns=(
            {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
            {"name": "Wide", "type": "integer", "jsonPath": ".spec.n", "priority": 1},
        ),
    )
    result = table(res, [{"metadata": {"name": "j"}, "spec": {"n": 3}, "status": {"phase": "Running"}}], "7")
    assert [(c["name"], c["priority"]) for c in result["columnDefinitions"]] == [
        ("Name", 0),
        ("Phase", 0),
        ("Wide", 1),
    ]
    assert result["rows"][0]["cells"] == ["j", "Running", 3]
    assert result["metadata"] == {"resourceVersion": "7"}
    assert result["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
