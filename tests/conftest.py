"""Shared fixtures: paths to the shipped examples; the session's PostgreSQL server (:mod:`tests.postgres`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

from tests.postgres import postgres_server
from yikatong.catalog import Catalog

__all__ = ["catalog", "postgres_server"]

# Tests never assert on durations: a property example that runs slowly on a busy machine is not a failure.
settings.register_profile("yikatong", deadline=None)
settings.load_profile("yikatong")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The example catalogue shipped inside the package (:meth:`Catalog.example`)."""
    return Catalog.example()
