"""Shared pytest configuration. Area-specific fixtures live in each tier's conftest.py."""
