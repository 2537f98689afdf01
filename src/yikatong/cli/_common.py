"""One voice for the command line: every message Chinese first, then English; errors end with exit code 2.

Every sub-command speaks through these helpers, so a county clerk reading Chinese and an engineer reading English
see the same line in the same order: ``中文 / English``. Library errors (whose text already names the row, field or
file) go in as ``detail`` lines under the command's own two-language lead. An error or warning may name a file or
echo an option, and either may hold an ID or account number: long numbers in them are masked
([`yikatong.privacy.scrub`][]).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterable
from typing import IO, NoReturn

from yikatong.privacy import scrub

__all__ = [
    "CliInputError",
    "Parser",
    "at_least",
    "between",
    "fail",
    "pipe_safe",
    "say",
    "text",
    "warn",
]


def text(zh: str, en: str) -> str:
    """One message in both languages, Chinese first: ``"中文 / English"``."""
    return f"{zh} / {en}"


def say(zh: str, en: str, *, file: IO[str] | None = None) -> None:
    """Print a message line (stdout unless ``file`` is given)."""
    print(text(zh, en), file=file if file is not None else sys.stdout)


def warn(zh: str, en: str) -> None:
    """Print a warning line on stderr: something the user should know that does not stop the command."""
    print(f"yikatong: 警告 warning: {scrub(text(zh, en))}", file=sys.stderr)


def fail(zh: str, en: str | None = None, details: Iterable[str] = ()) -> int:
    """Print an error on stderr, with indented ``details`` lines under it, and return exit code 2.

    ``en`` None means ``zh`` is already a whole ``"中文 / English"`` message (a library error's text).
    """
    print(f"yikatong: 错误 error: {scrub(zh if en is None else text(zh, en))}", file=sys.stderr)
    for line in details:
        print(f"  {scrub(line)}", file=sys.stderr)
    return 2


class CliInputError(Exception):
    """A whole-file or option problem a command reports with ``fail`` (exit code 2).

    Args:
        zh: The Chinese lead.
        en: The English lead.
        details: Lines under it, usually a library error's own message (already naming row, field or file).
    """

    def __init__(self, zh: str, en: str, details: Iterable[str] = ()) -> None:
        self.zh, self.en, self.details = zh, en, tuple(details)
        super().__init__(text(zh, en))

    def report(self) -> int:
        """Print the error; return exit code 2."""
        return fail(self.zh, self.en, self.details)


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors speak like every other message (and still exit with code 2)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        fail(*_usage_message(message))
        raise SystemExit(2)


_ARGPARSE_ZH = (
    (re.compile(r"invalid choice: (?P<v>.*) \(choose from (?P<c>.*)\)$"), "取值 {v} 无效，可选：{c}"),
    (re.compile(r"expected one argument$"), "缺少取值"),
    (re.compile(r"the following arguments are required: (?P<v>.*)$"), "缺少必需参数：{v}"),
    (re.compile(r"unrecognized arguments: (?P<v>.*)$"), "无法识别的参数：{v}"),
    (re.compile(r"not allowed with argument (?P<v>.*)$"), "不能与 {v} 同时使用"),
    (re.compile(r"invalid (?P<t>\w+) value: (?P<v>.*)$"), "取值 {v} 无效"),
)


def _usage_message(message: str) -> tuple[str, str]:
    """argparse's message as ``(zh, en)``: our own option types already speak both; argparse's phrases are
    translated."""
    argument, sep, rest = message.partition(": ") if message.startswith("argument ") else ("", "", message)
    name = argument.removeprefix("argument ")
    if " / " in rest:  # one of our types: "中文 / English"
        zh, en = rest.split(" / ", 1)
    else:
        zh = next((t.format(**m.groupdict()) for p, t in _ARGPARSE_ZH if (m := p.search(rest))), "命令参数有误")
        en = rest
    if sep:
        return f"参数 {name}：{zh}", f"argument {name}: {en}"
    return zh, en


def at_least(minimum: int, zh: str, en: str) -> Callable[[str], int]:
    """An argparse type: a whole number (``_`` allowed between digits) of at least ``minimum``."""

    def parse(value: str) -> int:
        try:
            n = int(value.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                text(f"{zh}须为整数：{value!r}", f"{en} must be a whole number, got {value!r}")
            ) from None
        if n < minimum:
            raise argparse.ArgumentTypeError(
                text(f"{zh}至少为 {minimum}：{value!r}", f"{en} must be at least {minimum}, got {value!r}")
            )
        return n

    return parse


def between(low: float, high: float, zh: str, en: str) -> Callable[[str], float]:
    """An argparse type: a number from ``low`` to ``high`` inclusive."""

    def parse(value: str) -> float:
        try:
            x = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                text(f"{zh}须为数字：{value!r}", f"{en} must be a number, got {value!r}")
            ) from None
        if not low <= x <= high:
            raise argparse.ArgumentTypeError(
                text(
                    f"{zh}须在 {low:g} 到 {high:g} 之间：{value!r}",
                    f"{en} must be between {low:g} and {high:g}, got {value!r}",
                )
            )
        return x

    return parse


class _PipeSafe:
    """stdout that stops writing, quietly, once its reader has gone (``yikatong validate … | head -2``).

    The command goes on to the end (files under ``--out`` are still written) and exits with its own code; the rest
    of its output goes to the null device instead of ending in a ``BrokenPipeError`` traceback.
    """

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, data: str) -> int:
        try:
            return self._stream.write(data)
        except BrokenPipeError:
            self._silence()
            return len(data)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._silence()

    def _silence(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def pipe_safe(stream: IO[str]) -> IO[str]:
    """``stream`` wrapped so that a closed pipe ends its output quietly (see ``_PipeSafe``)."""
    return _PipeSafe(stream)  # type: ignore[return-value]
