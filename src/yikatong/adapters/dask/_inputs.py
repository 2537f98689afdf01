"""Where a distributed run's roster and context come from: Parquet files the workers read, a Dask DataFrame's
partitions, or a Polars frame the client sends in pieces."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl
from attrs import evolve
from distributed import Client, Future

from yikatong.adapters.dask import _tasks
from yikatong.rules.context import ValidationContext

__all__ = ["sources", "with_paths", "workers"]


def sources(client: Client, roster: Any, storage_options: Mapping[str, Any] | None) -> list[Future]:
    """One future per roster piece, holding the piece as stored."""
    if isinstance(roster, pl.DataFrame):
        size = max(1, math.ceil(roster.height / max(1, workers(client))))
        pieces = [roster.slice(k, size) for k in range(0, max(roster.height, 1), size)]
        return list(client.scatter(pieces))
    if isinstance(roster, str | list | tuple):
        import fsspec

        paths = [roster] if isinstance(roster, str) else list(roster)
        fs, _, found = fsspec.core.get_fs_token_paths(paths, storage_options=dict(storage_options or {}))
        files: list[str] = []
        for path in found:
            if fs.isdir(path):
                files.extend(sorted(f for f in fs.find(path) if f.endswith(".parquet")))
            elif fs.exists(path):
                files.append(path)
        if not files:
            raise FileNotFoundError(f"名单文件不存在 / no roster file matches {paths!r}")
        return [client.submit(_tasks.read_piece, (fs, f), pure=False) for f in files]
    to_delayed = getattr(roster, "to_delayed", None)
    if to_delayed is None:
        raise TypeError(f"roster must be Parquet paths, a Dask DataFrame or a Polars DataFrame, not {type(roster)}")
    return [client.submit(_from_pandas, part) for part in client.compute(to_delayed())]


def with_paths(context: ValidationContext, paths: Mapping[str, str | Sequence[str]]) -> ValidationContext:
    """``context`` with the frames named in ``paths`` as Parquet scans.

    Raises:
        ValueError: when a name is not a context frame.
    """
    frames: dict[str, Any] = {}
    reference = dict(context.reference)
    for name, where in paths.items():
        scan = pl.scan_parquet(where if isinstance(where, str) else list(where))
        if name in ("registry", "ledger", "bank_verification"):
            frames[name] = scan
        elif name.startswith("reference:"):
            reference[name.split(":", 1)[1]] = scan  # type: ignore[index]
        else:
            raise ValueError(
                f"未知的上下文名称 {name!r} / unknown context frame {name!r}: use registry, ledger, "
                "bank_verification or reference:<list>"
            )
    return evolve(context, reference=reference, **frames)


def _from_pandas(frame: Any) -> pl.DataFrame:
    """A Dask DataFrame partition as a Polars frame (Arrow-backed columns are taken over without a copy)."""
    return pl.from_pandas(frame)


def workers(client: Client) -> int:
    return len(client.scheduler_info().get("workers", {})) or 1
