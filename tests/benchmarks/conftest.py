"""Prints the regression guard's line in the terminal summary, where a reader of the CI log sees it."""

from __future__ import annotations

import pytest

from tests.benchmarks import GUARD_LINES

__all__ = ["pytest_terminal_summary"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Write the guard lines collected by the guard test (nothing when it did not run)."""
    if GUARD_LINES:
        terminalreporter.section("benchmark guard")
        for line in GUARD_LINES:
            terminalreporter.write_line(line)
