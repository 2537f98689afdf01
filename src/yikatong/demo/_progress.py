"""Progress lines for the demo's long steps: plain text on a stream, readable in a terminal and in CI logs."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Writes one line per step, ``[  3.2s] 校验 validate GLJT-2026-11-00001 …``, to a stream (stderr by default).

    Plain lines rather than a redrawn bar, so that a CI log shows every step in order and a pipe stays clean.

    Args:
        stream: Where the lines go; ``None`` silences them.
    """

    def __init__(self, stream: TextIO | None = sys.stderr) -> None:
        self._stream = stream
        self._start = time.perf_counter()

    def elapsed(self) -> float:
        """Seconds since the progress began."""
        return time.perf_counter() - self._start

    def step(self, zh: str, en: str, detail: str = "") -> None:
        """Announce a step: its Chinese and English names and an optional detail (batch id, counts)."""
        if self._stream is None:
            return
        tail = f" {detail}" if detail else ""
        print(f"[{self.elapsed():6.1f}s] {zh} {en}{tail}", file=self._stream, flush=True)
