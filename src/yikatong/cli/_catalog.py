"""``yikatong catalog check [FILE]`` and ``yikatong catalog example``: a county's catalogue, checked before use.

``check`` lists every problem of a catalogue at once, each naming the item, the field and the value (exit 0 when it
is valid, 2 otherwise); ``example`` prints the example catalogue shipped in the package, a starting point for a
county's own. ``load_catalog`` is how every command reads its ``--catalog`` option.
"""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from yikatong.catalog import Catalog
from yikatong.cli._common import CliInputError, say
from yikatong.errors import CatalogError

__all__ = ["load_catalog", "register"]


def load_catalog(path: Path | None) -> Catalog:
    """The catalogue at ``path``, or the example catalogue shipped in the package when ``path`` is None.

    Raises:
        CliInputError: when the file is missing or unreadable, or the catalogue is invalid (every problem listed).
    """
    if path is None:
        return Catalog.example()
    try:
        return Catalog.from_toml(path)
    except FileNotFoundError:
        raise CliInputError(f"找不到补贴清单文件：{path}", f"catalogue not found: {path}") from None
    except CatalogError as exc:
        details = [str(p) for p in exc.problems] or [str(exc)]
        count = len(exc.problems)
        zh, en = (
            (f"补贴清单 {path} 有 {count} 处错误", f"the catalogue {path} has {count} problem(s)")
            if count
            else (f"补贴清单 {path} 无法使用", f"the catalogue {path} cannot be used")
        )
        raise CliInputError(zh, en, details) from None
    except OSError as exc:
        raise CliInputError(f"无法读取补贴清单：{path}", f"cannot read the catalogue {path}: {exc.strerror}") from None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``catalog`` sub-command with its ``check`` and ``example`` actions."""
    p = sub.add_parser("catalog", help="check a subsidy catalogue, or print the example one")
    actions = p.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")
    check = actions.add_parser("check", help="list every problem of a catalogue (item, field, value)")
    check.add_argument("file", type=Path, nargs="?", help="catalogue TOML (default: the example catalogue)")
    check.set_defaults(handler=run_check)
    example = actions.add_parser("example", help="print the example catalogue shipped in the package (TOML)")
    example.set_defaults(handler=run_example)


def run_check(args: argparse.Namespace) -> int:
    """Check the catalogue; print its items, or every problem; return 0 valid, 2 invalid."""
    try:
        catalog = load_catalog(args.file)
    except CliInputError as exc:
        return exc.report()
    say(f"补贴清单有效：{len(catalog)} 个项目", f"the catalogue is valid: {len(catalog)} item(s)")
    for item in catalog:
        print(f"  {item.code:<10} {item.name}（{item.department}）")
    return 0


def run_example(args: argparse.Namespace) -> int:
    """Print the example catalogue's TOML text; return 0."""
    print(resources.files("yikatong").joinpath("data/catalog.toml").read_text(encoding="utf-8"), end="")
    return 0
