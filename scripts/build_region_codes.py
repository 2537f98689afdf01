"""Build ``src/yikatong/data/regions.csv``: GB/T 2260 region codes with the years each was in use.

The source is the code list python-stdnum ships (``stdnum/cn/loc.dat``, compiled from the Chinese Wikipedia pages
中华人民共和国行政区划代码). Its format: a province line ``11 province="北京市"`` followed by indented county lines
``  0103 county="[-2010]崇文区"``; a county may carry several comma-separated names, each optionally prefixed by
``[start-end]`` (either year may be empty, meaning "since the first edition" or "still in use"). The script keeps,
per six-digit code, the earliest and latest year any of its names was in use, and the latest name.

python-stdnum is a development dependency only; the library reads the generated CSV and never imports stdnum.
Run it after upgrading python-stdnum::

    .venv/bin/python -m scripts.build_region_codes
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

__all__ = ["RegionCode", "main", "parse_loc_dat", "render_csv"]

OUT = Path(__file__).resolve().parents[1] / "src" / "yikatong" / "data" / "regions.csv"
_PROVINCE = re.compile(r'^(\d{2}) province="([^"]*)"')
_COUNTY = re.compile(r'^\s+(\d{4}) county="([^"]*)"')
_PART = re.compile(r"^\[(\d{4})?-(\d{4})?\](.*)$")


@dataclass(frozen=True)
class RegionCode:
    """One six-digit code: the years it was in use (None = open) and its latest name."""

    code: int
    valid_from: int | None
    valid_to: int | None
    name: str


def _parse_county(code: int, text: str) -> RegionCode:
    starts: list[int | None] = []
    ends: list[int | None] = []
    name = text
    for part in text.split(","):
        m = _PART.match(part)
        if m is None:
            starts.append(None)
            ends.append(None)
            name = part
            continue
        start = int(m[1]) if m[1] else None
        end = int(m[2]) if m[2] else None
        # The list has a few ranges written backwards ("[1983-1982]"): take both years as the span.
        if start is not None and end is not None and end < start:
            start, end = end, start
        starts.append(start)
        ends.append(end)
        name = m[3]
    valid_from = None if any(s is None for s in starts) else min(s for s in starts if s is not None)
    valid_to = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
    return RegionCode(code, valid_from, valid_to, name.strip())


def _merge(a: RegionCode, b: RegionCode) -> RegionCode:
    lo = None if a.valid_from is None or b.valid_from is None else min(a.valid_from, b.valid_from)
    hi = None if a.valid_to is None or b.valid_to is None else max(a.valid_to, b.valid_to)
    return RegionCode(a.code, lo, hi, b.name)


def parse_loc_dat(text: str) -> list[RegionCode]:
    """Parse the text of ``loc.dat`` into region codes sorted by code.

    Raises:
        ValueError: on a line that is neither a comment, a province nor a county line.
    """
    codes: dict[int, RegionCode] = {}
    province: str | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        if m := _PROVINCE.match(line):
            province = m[1]
            continue
        m = _COUNTY.match(line)
        if m is None or province is None:
            raise ValueError(f"loc.dat line {lineno}: unexpected line {line!r}")
        code = int(province + m[1])
        entry = _parse_county(code, m[2])
        codes[code] = _merge(codes[code], entry) if code in codes else entry
    return [codes[c] for c in sorted(codes)]


def render_csv(codes: list[RegionCode], version: str) -> str:
    """The CSV text with its provenance header."""
    lines = [
        "# GB/T 2260 administrative division codes with the years each was in use.",
        f"# Source: python-stdnum {version}, stdnum/cn/loc.dat",
        "# (compiled by python-stdnum from zh.wikipedia.org 中华人民共和国行政区划代码).",
        "# Built by scripts/build_region_codes.py; do not edit by hand.",
        "# valid_from/valid_to: first and last year in use; empty = since the first edition / still in use.",
        "region_code,valid_from,valid_to,name",
    ]
    for c in codes:
        vf = "" if c.valid_from is None else str(c.valid_from)
        vt = "" if c.valid_to is None else str(c.valid_to)
        lines.append(f"{c.code},{vf},{vt},{c.name}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Read loc.dat from the installed python-stdnum and write the CSV."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the CSV")
    args = parser.parse_args(argv)
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    codes = parse_loc_dat(text)
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_csv(codes, metadata.version("python-stdnum")), encoding="utf-8")
    print(f"wrote {len(codes)} region codes to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
