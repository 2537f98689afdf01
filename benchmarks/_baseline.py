"""The library as it was at a baseline revision, for benchmarks that time it beside this checkout in one run.

A benchmark unpacks ``src`` at the revision (``git archive``) and runs its children with that folder first on
``PYTHONPATH``; it prints where a child imports ``yikatong`` from, so that a baseline that silently fell back to the
installed checkout is seen.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

__all__ = ["ROOT", "baseline_src", "imported_from"]

ROOT = Path(__file__).resolve().parents[1]
"""The checkout the benchmarks belong to."""


def baseline_src(rev: str, into: Path) -> Path:
    """``src`` as it was at ``rev``, unpacked into ``into``; returns the ``src`` folder."""
    archive = subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def imported_from(src: Path, cwd: Path) -> str:
    """The folder a child process with ``src`` first on its import path imports ``yikatong`` from."""
    code = "import yikatong, pathlib; print(pathlib.Path(yikatong.__file__).parent)"
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
