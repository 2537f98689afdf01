"""Regenerate the documentation files that are derived from the code.

Usage: ``python -m scripts.generate_docs [--check]``. With ``--check`` nothing is written and the exit code is 1 when
a file is stale.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from scripts.domain_doc import render_domain
from yikatong.rules import RULES
from yikatong.rules.catalogue_doc import render_rule_catalogue
from yikatong.workflow.diagram import state_diagram_markdown

__all__ = ["GENERATED", "main", "stale"]

ROOT = Path(__file__).resolve().parents[1]

GENERATED: dict[str, Callable[[], str]] = {
    "docs/state-diagram.md": state_diagram_markdown,
    "docs/rules.md": lambda: render_rule_catalogue(RULES),
    "docs/domain.md": lambda: render_domain(ROOT / "docs" / "domain.md"),
}
"""Path (relative to the repository root) → function producing its content."""


def stale(root: Path = ROOT) -> list[str]:
    """The generated files whose content on disk differs from what the code produces."""
    out = []
    for rel, render in GENERATED.items():
        path = root / rel
        if not path.exists() or path.read_text(encoding="utf-8") != render():
            out.append(rel)
    return out


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` only compare) every generated file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="report stale files, write nothing")
    args = parser.parse_args(argv)
    if args.check:
        files = stale()
        for rel in files:
            print(f"stale: {rel}")
        return 1 if files else 0
    for rel, render in GENERATED.items():
        path = ROOT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(), encoding="utf-8")
        print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
