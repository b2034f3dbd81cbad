"""The trainer's one error type: a user, data or checkpoint problem explained in one line."""

from __future__ import annotations


class TrainerError(Exception):
    """Raised with a one-line message naming the field, file or entry at fault and how to fix it."""
