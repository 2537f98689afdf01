"""Tests of the benchmark tooling; the guard's lines are collected here for the terminal summary."""

from __future__ import annotations

__all__ = ["GUARD_LINES"]

GUARD_LINES: list[str] = []
