"""The command line: a thin layer over the public API.

Each sub-command lives in its own ``_<name>.py`` module exposing ``register(subparsers)``; the handler returns the
process exit code. Exit codes: 0 ran, 1 a ``--fail-on`` condition was met, 2 usage or whole-file errors. Every
message goes through ``yikatong.cli._common``: Chinese first, then English.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import yikatong
from yikatong.cli import (
    _audit,
    _catalog,
    _demo,
    _export,
    _lookup,
    _purge,
    _queue,
    _report,
    _simulate,
    _synth,
    _validate,
)
from yikatong.cli._common import Parser, pipe_safe, say

__all__ = ["build_parser", "main"]

_COMMANDS = (_audit, _catalog, _demo, _export, _lookup, _purge, _queue, _report, _simulate, _synth, _validate)
_VERBOSE_HELP = "log what the library does (steps, times) on stderr / 在标准错误输出上记录运行日志"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    parser = Parser(
        prog="yikatong",
        description="惠民惠农财政补贴资金“一卡通” — roster validation and disbursement workflow.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {yikatong.__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help=_VERBOSE_HELP)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _COMMANDS:
        module.register(sub)
    for command in sub.choices.values():  # ``yikatong validate --verbose …`` as well as ``yikatong -v validate …``
        command.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=_VERBOSE_HELP)
    return parser


def _log_to_stderr() -> tuple[logging.Handler, int]:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s", "%H:%M:%S"))
    logger = logging.getLogger("yikatong")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler, level


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (also used by the ``yikatong`` console script)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help, --version (0) and usage errors (2), already printed
        return stop.code if isinstance(stop.code, int) else 2
    logging_to = _log_to_stderr() if args.verbose else None
    stdout = sys.stdout
    sys.stdout = pipe_safe(stdout)
    try:
        code: int = args.handler(args)
        sys.stdout.flush()
    except KeyboardInterrupt:
        say("已中断", "interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout = stdout
        if logging_to is not None:
            logging.getLogger("yikatong").removeHandler(logging_to[0])
            logging.getLogger("yikatong").setLevel(logging_to[1])
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
