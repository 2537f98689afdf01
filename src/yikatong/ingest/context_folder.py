"""A validation context folder laid out by convention, instead of one option per file.

A department keeps the files a roster is validated against in one folder::

    registry.csv | registry.parquet          the one-card account registry
    ledger.csv | ledger.parquet              the payment ledger
    reference/<name>.csv | .parquet          reference lists by name: deceased, public_employee, disabled,
                                             supported, dibao, registered_poor
    catalog.toml                             the subsidy catalogue (optional)

Every file is optional; ``yikatong synth`` writes exactly this layout.
[`find_context_files`][yikatong.ingest.find_context_files] finds the files and refuses what would be read wrongly (a
list name it does not know, the same input twice in two formats);
[`load_context_folder`][yikatong.ingest.load_context_folder] loads them with the loaders of
[`yikatong.ingest.context_files`][].
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
from attrs import frozen

from yikatong.catalog import REFERENCE_LISTS, ReferenceListName
from yikatong.errors import ReferenceDataError
from yikatong.ingest.context_files import load_ledger, load_reference, load_registry

__all__ = ["ContextFiles", "LoadedContext", "find_context_files", "load_context_folder"]

_FORMATS = (".csv", ".parquet")


@frozen
class ContextFiles:
    """The files found in a context folder (None or empty where the folder has none).

    Attributes:
        registry: ``registry.csv`` or ``registry.parquet``.
        ledger: ``ledger.csv`` or ``ledger.parquet``.
        reference: Reference list files by list name, from ``reference/``.
        catalog: ``catalog.toml``.
    """

    registry: Path | None
    ledger: Path | None
    reference: dict[ReferenceListName, Path]
    catalog: Path | None


@frozen
class LoadedContext:
    """The frames a context folder holds, as [`ValidationContext`][yikatong.ValidationContext] takes them."""

    registry: pl.LazyFrame | None
    ledger: pl.LazyFrame | None
    reference: dict[ReferenceListName, pl.LazyFrame]


def _one(folder: Path, stem: str) -> Path | None:
    found = [folder / f"{stem}{ext}" for ext in _FORMATS if (folder / f"{stem}{ext}").is_file()]
    if len(found) > 1:
        raise ReferenceDataError(
            f"{folder} 中 {stem} 有两种格式，请只留一个 / {folder} holds {stem} twice "
            f"({', '.join(p.name for p in found)}): keep one"
        )
    return found[0] if found else None


def find_context_files(folder: str | os.PathLike[str]) -> ContextFiles:
    """The context files in ``folder`` (see the module docstring); files of other names are left alone.

    Raises:
        ReferenceDataError: the folder does not exist, an input is there in two formats, or ``reference/`` holds a
            list whose name is not one of the known lists.
    """
    root = Path(folder)
    if not root.is_dir():
        raise ReferenceDataError(f"找不到上下文目录：{root} / context folder not found: {root}")
    reference: dict[ReferenceListName, Path] = {}
    lists = root / "reference"
    if lists.is_dir():
        stems = sorted({p.stem for p in lists.iterdir() if p.is_file() and p.suffix in _FORMATS})
        unknown = [s for s in stems if s not in REFERENCE_LISTS]
        if unknown:
            raise ReferenceDataError(
                f"未知的名单：{', '.join(unknown)}（可用：{', '.join(REFERENCE_LISTS)}） / unknown reference "
                f"list(s) in {lists}: {', '.join(unknown)}; known lists: {', '.join(REFERENCE_LISTS)}"
            )
        for name in REFERENCE_LISTS:
            path = _one(lists, name)
            if path is not None:
                reference[name] = path
    catalog = root / "catalog.toml"
    return ContextFiles(
        registry=_one(root, "registry"),
        ledger=_one(root, "ledger"),
        reference=reference,
        catalog=catalog if catalog.is_file() else None,
    )


def load_context_folder(folder: str | os.PathLike[str]) -> LoadedContext:
    """Load the registry, ledger and reference lists of a context folder.

    Raises:
        ReferenceDataError: as [`find_context_files`][yikatong.ingest.find_context_files], or when a file cannot be
            loaded (naming the file, the column and the first bad line).
    """
    files = find_context_files(folder)
    return LoadedContext(
        registry=load_registry(files.registry) if files.registry is not None else None,
        ledger=load_ledger(files.ledger) if files.ledger is not None else None,
        reference=dict(load_reference(name, path) for name, path in files.reference.items()),
    )
