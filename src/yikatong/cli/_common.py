"""Helpers shared by the sub-commands: error reporting and summary printing."""

from __future__ import annotations

import sys

__all__ = ["fail"]


def fail(message: str) -> int:
    """Print ``message`` to stderr as a command-line error and return exit code 2."""
    print(f"yikatong: error: {message}", file=sys.stderr)
    return 2
