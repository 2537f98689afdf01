"""Parquet side files for large row data, written so that a crash never leaves a torn file under a real name.

A file is named by the SHA-256 of its content and written as: temporary file in the same folder, write, fsync,
rename onto the final name, fsync the folder. The database row that references it is committed only afterwards,
in the same ``BEGIN IMMEDIATE`` transaction that holds the store's write lock, so:

* killed while writing: only a ``.tmp-*`` file is left, the transaction never committed;
* killed after the rename, before the commit: an unreferenced file is left, the transaction never committed;
* killed after the commit: the file is complete and referenced.

Leftovers of the first two cases are removed by ``RowFiles.collect_garbage``, which the store runs under the
write lock when it opens. Reading checks the SHA-256, so a damaged or swapped file is reported, never used.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import uuid
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Final

import polars as pl

from yikatong.adapters.sqlite._schema import fsync_directory
from yikatong.errors import StoreError

__all__ = ["RowFiles", "parquet_bytes", "read_parquet_bytes"]

_SUFFIX: Final = ".parquet"
_TMP_PREFIX: Final = ".tmp-"


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    """Serialise a frame to Parquet (zstd) in memory."""
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", statistics=False)
    return buffer.getvalue()


def read_parquet_bytes(
    data: bytes, *, expected_sha256: str, what: str, opener: Callable[[bytes], bytes] | None = None
) -> pl.DataFrame:
    """Deserialise stored row data after checking its SHA-256 (and opening it with ``opener`` when sealed).

    Raises:
        StoreError: when the bytes are not the ones that were stored, or do not open.
    """
    if hashlib.sha256(data).hexdigest() != expected_sha256:
        raise StoreError(f"{what}: row data damaged (checksum mismatch) / 行数据已损坏（校验和不符）")
    return pl.read_parquet(io.BytesIO(data if opener is None else opener(data)))


class RowFiles:
    """The folder of Parquet side files beside a store file (``<store>-rows/``).

    Args:
        directory: The folder; created on the first write.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path_of(self, name: str) -> Path:
        """The path of the side file ``name``."""
        return self.directory / name

    def write(self, data: bytes) -> tuple[str, str]:
        """Write Parquet bytes durably and return ``(file name, sha256)``; an identical file is reused.

        Raises:
            StoreError: when the file cannot be written (disk full, permissions); nothing is left behind.
        """
        digest = hashlib.sha256(data).hexdigest()
        name = f"{digest}{_SUFFIX}"
        final = self.directory / name
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            if final.exists() and final.stat().st_size == len(data):
                fsync_directory(self.directory)  # it may be a leftover whose rename never reached the disk
                return name, digest
            tmp = self.directory / f"{_TMP_PREFIX}{uuid.uuid4().hex}{_SUFFIX}"
            try:
                with tmp.open("xb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, final)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
            fsync_directory(self.directory)
        except OSError as exc:
            raise StoreError(f"cannot write row data file ({exc.strerror}) / 无法写入行数据文件") from exc
        return name, digest

    def read(
        self, name: str, *, expected_sha256: str, what: str, opener: Callable[[bytes], bytes] | None = None
    ) -> pl.DataFrame:
        """Read and check a side file.

        Raises:
            StoreError: when the file is missing or damaged.
        """
        try:
            data = self.path_of(name).read_bytes()
        except FileNotFoundError as exc:
            raise StoreError(f"{what}: row data file {name} is missing / 行数据文件缺失") from exc
        return read_parquet_bytes(data, expected_sha256=expected_sha256, what=what, opener=opener)

    def collect_garbage(self, referenced: Collection[str]) -> int:
        """Remove temporary files and side files no committed row references; returns how many were removed.

        Must run while the caller holds the store's write lock, so no other writer is between its rename and its
        commit.
        """
        if not self.directory.is_dir():
            return 0
        keep = set(referenced)
        removed = 0
        for entry in self.directory.iterdir():
            stale_tmp = entry.name.startswith(_TMP_PREFIX)
            orphan = entry.name.endswith(_SUFFIX) and not stale_tmp and entry.name not in keep
            if (stale_tmp or orphan) and entry.is_file():
                with contextlib.suppress(OSError):  # housekeeping: a file that will not go is tried next time
                    entry.unlink()
                    removed += 1
        if removed:
            fsync_directory(self.directory)
        return removed
