"""The reconcile planner: one pure function from what exists to what to do.

`plan(observed)` is deterministic; applying its Plan and observing again converges.
"""

from __future__ import annotations

from mnft_operator.types import Event, ObjectRef, Observed, Plan

__all__ = ["Event", "ObjectRef", "Observed", "Plan", "plan"]


def plan(observed: Observed) -> Plan:
    """Placeholder until the planner lands: does nothing."""
    return Plan()
