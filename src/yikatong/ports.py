"""The ports: what the core needs from the outside world, in the core's words.

A host system implements these to connect yikatong to its own bank, treasury, database and publication channels.
The project ships adapters for the common cases in :mod:`yikatong.adapters`, and contract tests in
:mod:`yikatong.testing` that any implementation must pass. The core never imports an adapter.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

__all__ = ["Clock"]


@runtime_checkable
class Clock(Protocol):
    """The time source of the workflow: audit entries, deadlines and pay dates use it, never the system clock."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware."""
        ...
