"""An in-memory [`yikatong.ports.DisclosureSink`][] that keeps what was published.

Hosts use it in tests and demos; the simulation scans everything it holds for personal data.
"""

from __future__ import annotations

import polars as pl

from yikatong.records import DisclosureNotice

__all__ = ["MemoryDisclosureSink"]


class MemoryDisclosureSink:
    """Keeps the current notice per batch (a republication replaces it) and every publication in order.

    Attributes:
        history: Every notice ever published, oldest first, replaced ones included.
    """

    def __init__(self) -> None:
        self._current: dict[str, DisclosureNotice] = {}
        self.history: list[DisclosureNotice] = []

    def publish(self, notice: DisclosureNotice) -> None:
        """Publish ``notice``, replacing an earlier notice of the same batch."""
        self._current[notice.batch_id] = notice
        self.history.append(notice)

    def notice(self, batch_id: str) -> DisclosureNotice:
        """The notice currently up for a batch.

        Raises:
            KeyError: when nothing was published for the batch.
        """
        try:
            return self._current[batch_id]
        except KeyError:
            raise KeyError(f"nothing published for batch {batch_id}") from None

    @property
    def notices(self) -> list[DisclosureNotice]:
        """The notices currently up, one per batch, in order of first publication."""
        return list(self._current.values())

    def rows(self) -> pl.DataFrame:
        """The rows of every notice currently up, with a ``batch_id`` column in front (empty frame when none)."""
        frames = [n.rows.select(pl.lit(n.batch_id).alias("batch_id"), pl.all()) for n in self._current.values()]
        return (
            pl.concat(frames, how="diagonal_relaxed")
            if frames
            else pl.DataFrame({"batch_id": []}, schema={"batch_id": pl.String})
        )
