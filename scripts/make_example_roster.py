"""Build ``examples/roster.csv`` and the matching example context files from the synthetic generator.

The example is a 高龄津贴 (GLJT, age ≥ 80) roster of a few hundred rows for November 2026, GB18030-encoded as a
county office would export it, with a few rows of every defect kind the generator injects. Next to it: the
one-card registry (``registry.csv``), the reference lists (``reference/<name>.csv``), the payment ledger
(``ledger.csv``) and the truth (``roster_truth.csv``: which row must or may trigger which rule). Deterministic:
rerunning with the same Polars version rewrites the same files. ::

    .venv/bin/python -m scripts.make_example_roster
    .venv/bin/yikatong validate examples/roster.csv --item GLJT --period 2026-11 \\
        --registry examples/registry.csv --ledger examples/ledger.csv \\
        --reference deceased=examples/reference/deceased.csv
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from yikatong.catalog import Catalog
from yikatong.synth import generate

__all__ = ["EXAMPLES", "main", "write_examples"]

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ROWS = 400
SEED = 20261101
DEFECT_RATE = 0.25
PERIOD = "2026-11"
ITEM = "GLJT"


def write_examples(out: Path) -> list[Path]:
    """Generate the example roster and context into ``out``; return the files written."""
    catalog = Catalog.example()
    data = generate(ROWS, catalog=catalog, item=ITEM, period=PERIOD, seed=SEED, defect_rate=DEFECT_RATE)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = data.write(tmp, format="csv", encoding="gb18030", context_format="csv")
        (out / "reference").mkdir(parents=True, exist_ok=True)
        for key, path in paths.items():
            if key == "truth":
                continue
            target = out / path.relative_to(tmp)
            shutil.copyfile(path, target)
            written.append(target)
    truth = out / "roster_truth.csv"
    data.truth.write_csv(truth)
    written.append(truth)
    return written


def main(argv: list[str] | None = None) -> int:
    """Write the example files (into ``examples/`` unless ``--out`` says otherwise)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=EXAMPLES, help="folder to write into (default: examples/)")
    args = parser.parse_args(argv)
    for path in write_examples(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
