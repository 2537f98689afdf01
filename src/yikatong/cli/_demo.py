"""``yikatong demo``: the main job on example data."""

from __future__ import annotations

import argparse
from pathlib import Path

from yikatong.catalog import Catalog
from yikatong.money import format_yuan

__all__ = ["register"]

_EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` sub-command."""
    p = sub.add_parser("demo", help="run the main job on the example data and print a summary")
    p.add_argument("--out", type=Path, default=Path("demo-output"), help="folder for the outputs")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the example catalogue (the demo grows with the library)."""
    catalog = Catalog.from_toml(_EXAMPLES / "catalog.toml")
    print("补贴清单 / subsidy catalogue")
    for item in catalog:
        std = item.standard
        amount = format_yuan(std.amount) if std.kind == "fixed" else std.kind
        print(f"  {item.code:<8} {item.name:<14} {item.department:<8} {item.period:<7} {amount}")
    return 0
