"""Shared fixtures: paths to the shipped examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from yikatong.catalog import Catalog

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The example catalogue shipped in ``examples/catalog.toml``."""
    return Catalog.from_toml(EXAMPLES / "catalog.toml")
