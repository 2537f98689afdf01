"""File system helpers of the file exchange: atomic writes and safe file names."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

__all__ = ["safe_name", "write_atomic"]

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
