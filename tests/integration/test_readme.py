"""The README's quick start and example stay true: its Python block runs and its commands parse."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from yikatong.cli import build_parser
from yikatong.rules import ValidationReport

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    """The fenced blocks whose info string is ``lang`` ("" for plain fences), in order."""
    found: list[str] = []
    info: str | None = None  # the info string of the open fence, None outside a fence
    lines: list[str] = []
    for line in README.splitlines():
        if line.startswith("```"):
            if info is None:
                info, lines = line[3:].strip(), []
            else:
                if info == lang:
                    found.append("\n".join(lines) + "\n")
                info = None
        elif info is not None:
            lines.append(line)
    return found


def test_the_quick_start_is_exactly_the_two_make_commands() -> None:
    quick_start = README.split("## Quick start", 1)[1]
    assert _blocks("")[0] == "make demo\nmake test\n"
    assert "make demo\nmake test" in quick_start


def test_the_make_targets_the_readme_names_exist() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("demo", "test", "test-slow", "bench"):
        assert re.search(rf"^{target}:", makefile, flags=re.M), target


def test_the_library_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    (code,) = _blocks("python")
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    report = namespace["report"]
    assert isinstance(report, ValidationReport)
    assert report.rows == 400


def test_the_example_command_parses_with_the_real_parser() -> None:
    example = next(b for b in _blocks("") if b.startswith("yikatong validate examples/"))
    assert example.count("\n") >= 1
    argv = shlex.split(example.replace("\\\n", " "))[1:]
    args = build_parser().parse_args(argv)
    assert args.command == "validate"
