"""The test session's PostgreSQL server and a fresh schema per test.

One throwaway server (:func:`yikatong.testing.postgres_server.throwaway_server`) serves the whole test session; each
test gets its own PostgreSQL schema, so tests never see each other's tables. Without server binaries the tests are
skipped on a developer's machine, and fail under CI (``CI`` set), where ``.ci/run`` installs them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from yikatong.testing.postgres_server import find_bindir, throwaway_server

__all__ = ["new_schema", "postgres_server"]


def new_schema() -> str:
    """A schema name no test has used."""
    return f"t_{uuid.uuid4().hex[:16]}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of the session's PostgreSQL server (started on first use, stopped at the end of the session)."""
    if find_bindir() is None:
        message = "no PostgreSQL server binaries (initdb, pg_ctl); .ci/run installs them"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with throwaway_server() as url:
        yield url
