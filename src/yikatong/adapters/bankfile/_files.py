"""File system helpers of the file exchange: atomic writes and safe file names."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

__all__ = ["safe_name", "write_all_atomic", "write_atomic"]

_SYNC_THREADS = 8
"""Files written and fsynced at once by [`write_all_atomic`][yikatong.adapters.bankfile._files.write_all_atomic]."""

_UNSAFE = re.compile(r"[^\w.\-]")


def safe_name(text: str) -> str:
    """``text`` usable inside a file name: anything but letters, digits, ``_``, ``.`` and ``-`` becomes ``_``."""
    cleaned = _UNSAFE.sub("_", text).lstrip(".")
    return cleaned or "_"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the whole new one, never a part.

    The bytes go to a temporary file in the same folder, are flushed and fsynced, and the file is renamed over
    ``path``; the folder is fsynced too so the rename survives a power cut.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_all_atomic(files: Sequence[tuple[Path, bytes]]) -> None:
    """Write many files as [`write_atomic`][yikatong.adapters.bankfile._files.write_atomic] writes one (a reader
    sees each old file or the whole new one), fsyncing each folder once rather than once per file.

    Every file's bytes go to a temporary file beside it and are fsynced; then each is renamed over its path, and
    each folder is fsynced once, so the renames survive a power cut. On an error the temporary files still left are
    removed; files already renamed stay new.
    """

    def put(path: Path, data: bytes) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return tmp

    # fsync waits on the disk, not the processor: several at once let the file system commit them together
    with ThreadPoolExecutor(max_workers=_SYNC_THREADS) as pool:
        futures = [pool.submit(put, path, data) for path, data in files]
    temps: list[str] = []
    failures: list[BaseException] = []
    for future in futures:
        try:
            temps.append(future.result())
        except BaseException as exc:
            failures.append(exc)
    try:
        if failures:
            raise failures[0]
        for (path, _), tmp in zip(files, temps, strict=True):
            os.replace(tmp, path)
    except BaseException:
        for tmp in temps:
            Path(tmp).unlink(missing_ok=True)
        raise
    for folder in dict.fromkeys(path.parent for path, _ in files):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
