"""Canonical resource quantities (what kube-apiserver stores): exact expected strings."""

from __future__ import annotations

import pytest

from kube_schema.quantity import QuantityError, canonical


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (8, "8"),
        (0, "0"),
        (0.5, "500m"),
        (1.0, "1"),
        (0.1, "100m"),
        (1e-10, "1n"),
        ("8", "8"),
        ("500m", "500m"),
        ("1000m", "1"),
        ("1.5", "1500m"),
        (".5", "500m"),
        ("2000", "2k"),
        ("1500", "1500"),
        ("-1", "-1"),
        ("1Gi", "1Gi"),
        ("1024Mi", "1Gi"),
        ("0.5Gi", "512Mi"),
        ("1.5Gi", "1536Mi"),
        ("1024Ki", "1Mi"),
        ("128974848", "128974848"),
        ("1e3", "1e3"),
        ("12e2", "1200"),
        ("129e6", "129e6"),
        ("2e-3", "2e-3"),
        ("1E", "1E"),
    ],
)
def test_canonical(given: object, expected: str) -> None:
    assert canonical(given) == expected


@pytest.mark.parametrize("bad", ["two", "1.2.3", "1Kb", "", True, None, [1]])
def test_not_a_quantity(bad: object) -> None:
    with pytest.raises(QuantityError, match="quantities must match the regular expression"):
        canonical(bad)
