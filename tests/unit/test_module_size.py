"""Every module of the package stays small enough to read in one sitting: at most 400 lines, one concept each."""

from __future__ import annotations

from pathlib import Path

import yikatong

MAX_LINES = 400
PACKAGE = Path(yikatong.__file__).resolve().parent


def _line_count(path: Path) -> int:
    """Lines as ``wc -l`` counts them (newline characters)."""
    return path.read_bytes().count(b"\n")


def test_the_size_guard_reads_every_module_of_the_package() -> None:
    modules = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")}
    assert {"__init__.py", "workflow/service.py", "adapters/simulated_bank.py", "cli/_validate.py"} <= modules
    assert len(modules) > 100


def test_no_module_of_the_package_exceeds_400_lines() -> None:
    too_long = {
        p.relative_to(PACKAGE).as_posix(): n for p in sorted(PACKAGE.rglob("*.py")) if (n := _line_count(p)) > MAX_LINES
    }
    assert not too_long, f"modules over {MAX_LINES} lines (split them along a seam): {too_long}"
