"""Helpers shared by the sub-commands: error reporting and summary printing."""

from __future__ import annotations

import sys

from yikatong.privacy import scrub

__all__ = ["fail"]


def fail(message: str) -> int:
    """Print ``message`` to stderr as a command-line error and return exit code 2.

    A message may name a file or echo an option, and either may hold an ID or account number: long numbers are
    masked (:func:`yikatong.privacy.scrub`).
    """
    print(f"yikatong: error: {scrub(message)}", file=sys.stderr)
    return 2
