"""The command line: a thin layer over the public API.

Each sub-command lives in its own ``_<name>.py`` module exposing ``register(subparsers)``; the handler returns the
process exit code. Exit codes: 0 ran, 1 a ``--fail-on`` condition was met, 2 usage or whole-file errors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import yikatong
from yikatong.cli import _audit, _demo, _simulate, _synth, _validate

__all__ = ["main"]

_COMMANDS = (_audit, _demo, _simulate, _synth, _validate)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="yikatong",
        description="惠民惠农财政补贴资金“一卡通” — roster validation and disbursement workflow.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {yikatong.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _COMMANDS:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (also used by the ``yikatong`` console script)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except KeyboardInterrupt:
        print("interrupted / 已中断", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
