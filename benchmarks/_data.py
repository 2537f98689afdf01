"""Benchmark data: synthetic rosters with their registry, reference lists, ledger and truth, written as Parquet.

A data set is a folder under the output directory, made once per (rows, seed) and reused by every step of a run:

* ``roster-NNN.parquet``: the canonical roster (what :func:`yikatong.read_roster` returns), in parts of at most
  :data:`CHUNK_ROWS` rows, ``row_id`` numbered across parts;
* ``truth-NNN.parquet``: the synth truth of each part, ``row_id`` shifted the same way;
* ``registry-NNN.parquet``, ``ledger-NNN.parquet``, ``reference-<list>-NNN.parquet``: the context, already
  passed through :mod:`yikatong.ingest` (so they have the frames :class:`~yikatong.rules.ValidationContext`
  expects);
* ``manifest.json``: rows, seed, item, period, parts, and how long generation took.

Rosters larger than one part are generated part by part (bounded memory) as the parts of one population
(``generate(..., part=k, parts=n)``): different parts draw different people, whose ID numbers and accounts never
coincide, so a 100M-row roster has the defect rates of a 1M one. Such sizes must be a multiple of
:data:`CHUNK_ROWS` (every part the same size).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Final

import polars as pl

from yikatong.catalog import Catalog
from yikatong.ingest import load_ledger, load_reference, load_registry, read_roster
from yikatong.rules import ValidationContext
from yikatong.synth import generate

__all__ = ["CATALOG", "CHUNK_ROWS", "ITEM", "PERIOD", "Dataset", "context", "prepare", "prepare_step"]

CATALOG: Final = Path(__file__).resolve().parents[1] / "src" / "yikatong" / "data" / "catalog.toml"
ITEM: Final = "GLJT"
PERIOD: Final = "2026-11"
CHUNK_ROWS: Final = 10_000_000


class Dataset:
    """A prepared data set on disk (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))

    @property
    def rows(self) -> int:
        """Roster rows."""
        return int(self.manifest["rows"])

    def files(self, stem: str) -> list[Path]:
        """The parts of ``stem`` (``roster``, ``truth``, ``registry``, ``ledger``, ``reference-<list>``)."""
        return sorted(self.folder.glob(f"{stem}-[0-9][0-9][0-9].parquet"))

    def reference_names(self) -> list[str]:
        """The reference lists present."""
        return list(self.manifest["references"])

    def scan(self, stem: str) -> pl.LazyFrame:
        """All parts of ``stem`` as one lazy frame."""
        return pl.scan_parquet(self.files(stem))

    def read(self, stem: str) -> pl.DataFrame:
        """All parts of ``stem`` in memory."""
        return pl.read_parquet(self.files(stem))


def context(data: Dataset, *, lazy_files: bool) -> ValidationContext:
    """The validation context of ``data``: registry, reference lists, ledger, catalogue and declared totals.

    With ``lazy_files`` the frames are Parquet scans (the streaming engine reads them as it goes); otherwise they
    are read into memory first.
    """

    def frame(stem: str) -> pl.LazyFrame:
        return data.scan(stem) if lazy_files else data.read(stem).lazy()

    references: dict[Any, pl.LazyFrame] = {name: frame(f"reference-{name}") for name in data.reference_names()}
    return ValidationContext(
        catalog=Catalog.from_toml(CATALOG),
        registry=frame("registry"),
        reference=references,
        ledger=frame("ledger"),
        declared_count=data.rows,
        declared_total_fen=int(data.manifest["total_fen"]),
    )


def _write_part(
    index: int, parts: int, rows: int, seed: int, offset: int, folder: Path, catalog: Catalog
) -> tuple[int, int]:
    """Generate part ``index`` of ``parts``; returns (amount total in fen, defect rows) of the part."""
    synth = generate(rows, catalog=catalog, item=ITEM, period=PERIOD, seed=seed, part=index, parts=parts)
    with tempfile.TemporaryDirectory(prefix="yikatong-synth-") as tmp:
        paths = synth.write(tmp, format="parquet", context_format="parquet")
        registry = load_registry(paths["registry"]).collect()
        ledger = load_ledger(paths["ledger"]).collect()
        lists = {
            key.split(":", 1)[1]: load_reference(key.split(":", 1)[1], p)[1].collect()
            for key, p in paths.items()
            if key.startswith("reference:")
        }
    suffix = f"{index:03d}.parquet"
    roster = read_roster(synth.roster).with_columns(pl.col("row_id") + offset, pl.col("source_line") + offset)
    roster.write_parquet(folder / f"roster-{suffix}")
    synth.truth_for("parquet").with_columns(pl.col("row_id") + offset).write_parquet(folder / f"truth-{suffix}")
    registry.write_parquet(folder / f"registry-{suffix}")
    ledger.write_parquet(folder / f"ledger-{suffix}")
    for name, frame in lists.items():
        frame.write_parquet(folder / f"reference-{name}-{suffix}")
    total = int(roster["amount_fen"].sum() or 0)
    return total, synth.truth.height


def prepare(rows: int, out_dir: Path, *, seed: int = 7) -> Dataset:
    """The data set of ``rows`` rows in ``out_dir`` (made now unless a finished one is already there)."""
    if rows > CHUNK_ROWS and rows % CHUNK_ROWS:
        raise ValueError(f"rows above {CHUNK_ROWS:,} must be a multiple of it (equal parts), got {rows:,}")
    folder = out_dir / f"data-{rows}-s{seed}"
    if (folder / "manifest.json").is_file():
        return Dataset(folder)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    catalog = Catalog.from_toml(CATALOG)
    started = time.perf_counter()
    total = 0
    parts = 0
    offsets = range(0, rows, CHUNK_ROWS)
    for index, offset in enumerate(offsets):
        part_total, _ = _write_part(index, len(offsets), min(CHUNK_ROWS, rows - offset), seed, offset, folder, catalog)
        total += part_total
        parts += 1
    references = sorted({p.name.split("-")[1] for p in folder.glob("reference-*.parquet")})
    manifest = {
        "rows": rows,
        "seed": seed,
        "item": ITEM,
        "period": PERIOD,
        "parts": parts,
        "references": references,
        "total_fen": total,
        "generated_seconds": round(time.perf_counter() - started, 1),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return Dataset(folder)


def prepare_step(rows: int, out_dir: str, seed: int = 7) -> dict[str, Any]:
    """:func:`prepare` as a measured step (run in its own process by :func:`benchmarks._harness.run_step`)."""
    data = prepare(rows, Path(out_dir), seed=seed)
    return {"folder": str(data.folder), **data.manifest}
