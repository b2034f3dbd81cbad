"""Integration-tier fixtures. The operator's live in operator_fixtures.py (names prefixed `operator`)."""

from operator_fixtures import (  # noqa: F401
    operator,
    operator_api,
    operator_api_without_cel,
    operator_without_cel,
)
