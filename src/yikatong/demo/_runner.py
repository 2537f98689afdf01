"""The demo's entry point: prepare the output folder, generate the month's rosters, run the month, write the summary."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from attrs import frozen

from yikatong.adapters.keys import SecretKeys, keys_from_env
from yikatong.adapters.store_location import DEFAULT_SCHEMA, ClosableStore, open_store, safe_location
from yikatong.adapters.summary_report import write_summary_report
from yikatong.catalog import Catalog
from yikatong.demo._county import County, CountyAccounts
from yikatong.demo._month import run_month
from yikatong.demo._progress import Progress
from yikatong.demo._summary import collect, render
from yikatong.ingest import load_ledger, read_roster
from yikatong.period import Period
from yikatong.ports import Clock
from yikatong.synth import generate
from yikatong.workflow.roles import Actor
from yikatong.workflow.summary import summarise_period

__all__ = [
    "DEFAULT_ITEMS",
    "DEFAULT_PERIOD",
    "DEFAULT_ROWS",
    "DEFAULT_SEED",
    "DEMO_KEY_FILE",
    "OUTPUTS",
    "SUMMARY_REPORT",
    "DemoResult",
    "prepare_folder",
    "run_demo",
    "summary_report_names",
]

DEFAULT_ROWS: Final = 4_000
DEFAULT_SEED: Final = 2026
DEFAULT_PERIOD: Final = "2026-11"
DEFAULT_ITEMS: Final = ("GLJT", "GDLBZ", "CJRLXBT", "DB")
DEFAULT_DEFECT_RATE: Final = 0.06

DEMO_KEY_FILE: Final = "demo.key"
"""The key file the demo writes beside its store when ``YIKATONG_AUDIT_KEY`` is not set."""

OUTPUTS: Final = (
    "yikatong.db",
    "yikatong.db-wal",
    "yikatong.db-shm",
    "yikatong.db-rows",
    "demo.key",
    "bank",
    "disclosure",
    "input",
    "summary.json",
    "summary.txt",
)
"""What the demo writes into its folder: what a new run replaces (nothing else is ever touched), besides the month's
汇总表 (``summary_report_names``)."""

SUMMARY_REPORT: Final = re.compile(r"^汇总表-\d{4}-\d{2}\.(xlsx|html)$")
"""The names of the month's 汇总表 files the demo writes (``汇总表-2026-11.xlsx`` and ``.html``)."""


def summary_report_names(period: str) -> tuple[str, str]:
    """The month's 汇总表 files: ``汇总表-<period>.xlsx`` and ``汇总表-<period>.html``."""
    return f"汇总表-{period}.xlsx", f"汇总表-{period}.html"


def _demo_output(name: str) -> bool:
    return name in OUTPUTS or SUMMARY_REPORT.match(name) is not None


@frozen
class DemoResult:
    """What a demo run produced.

    Attributes:
        out: The output folder.
        summary: The figures (as written to ``summary.json``).
        text: The printed summary.
        store: The store file (``yikatong.db`` in ``out``), or None when the month ran in a PostgreSQL store.
    """

    out: Path
    summary: dict[str, Any]
    text: str
    store: Path | None


def prepare_folder(out: Path, *, force: bool) -> None:
    """Make ``out`` ready for a run: missing or empty is fine; an earlier demo's outputs are replaced.

    A folder that holds only what a demo writes (``OUTPUTS``), so ``make demo`` can run again, is emptied of
    them. A folder that holds anything else is refused unless ``force``, which removes only the demo's own outputs
    and leaves every other file where it is.

    Raises:
        FileExistsError: ``out`` is a file, or holds other files and ``force`` is false.
    """
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a folder / 输出路径不是文件夹")
    present = {p.name for p in out.iterdir()} if out.exists() else set()
    earlier_demo = all(_demo_output(n) for n in present) and bool(present & {"summary.json", "yikatong.db"})
    if present and not (earlier_demo or force):
        raise FileExistsError(
            f"{out} holds files that are not an earlier demo's outputs; choose another --out, or pass --force to "
            "replace the demo's outputs there (other files are kept) / 输出文件夹中有其他文件，请换一个文件夹，"
            "或加 --force 覆盖演示结果（其他文件保留）"
        )
    for name in (*OUTPUTS, *sorted(n for n in present if SUMMARY_REPORT.match(n))):
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    out.mkdir(parents=True, exist_ok=True)


def _demo_keys(seed: int) -> tuple[SecretKeys, bytes | None]:
    """The keys of the month: from ``YIKATONG_AUDIT_KEY`` when set, else the demo's own (with its secret)."""
    keys = keys_from_env()
    if keys is not None:
        return keys, None
    # A key anyone can derive from the seed, so the same seed gives the same audit head; written beside the
    # store for `yikatong audit verify --key-file`. A real county keeps its key away from the store.
    secret = f"yikatong demo key, seed {seed}: for the demo only, never for real money".encode()
    return SecretKeys(secret), secret


def _open_empty(location: str, *, keys: SecretKeys, schema: str) -> ClosableStore:
    """The PostgreSQL store the month runs in, refused when it already holds batches."""
    opened = open_store(location, keys=keys, schema=schema)
    try:
        held = len(opened.batches())
    except BaseException:
        opened.close()
        raise
    if held:
        opened.close()
        raise ValueError(
            f"PostgreSQL 模式 {schema} 中已有 {held} 个批次，演示需要空的数据库，请用 --schema 另选一个 / schema "
            f"{schema} already holds {held} batches; the demo needs an empty store: name another with --schema"
        )
    return opened


def _server_accounts(location: str, *, keys: SecretKeys, schema: str) -> Callable[[Clock], CountyAccounts]:
    """Opens the sealed account registry in the PostgreSQL store's schema on a given clock."""

    def open_registry(clock: Clock) -> CountyAccounts:
        from yikatong.adapters.postgres import PostgresRegistry  # only with the [postgres] extra, as open_store

        return PostgresRegistry(location, clock=clock, schema=schema, keys=keys, create=False)

    return open_registry


def run_demo(
    out: str | Path,
    *,
    catalog: Catalog,
    rows: int = DEFAULT_ROWS,
    seed: int = DEFAULT_SEED,
    period: str = DEFAULT_PERIOD,
    items: Sequence[str] = DEFAULT_ITEMS,
    force: bool = False,
    progress: Progress | None = None,
    store: str | None = None,
    schema: str = DEFAULT_SCHEMA,
) -> DemoResult:
    """Run one county month end to end into ``out`` and return its summary.

    The folder receives ``input/`` (the generated roster as a department's GB18030 export, with its registry,
    reference lists and truth), ``yikatong.db`` (the store, unless ``store`` names a server), ``bank/`` (order,
    verification and result files), ``disclosure/`` (the public lists), ``summary.json`` and the month's 汇总表
    (``汇总表-<period>.xlsx`` and ``.html``, [`yikatong.workflow.summary.summarise_period`][]).

    Args:
        out: The output folder: missing, empty, or holding an earlier demo's outputs (replaced); anything else
            there is refused unless ``force`` (see ``prepare_folder``).
        catalog: The subsidy catalogue.
        rows: Roster rows over all items (at least one per item).
        seed: Seed of the data and of the simulated bank and treasury: the same seed gives the same month.
        period: The payment period (a month).
        items: The subsidy items, one batch each.
        force: Run even though ``out`` holds other files (they are left alone).
        progress: Where progress lines go (silent when ``None``).
        store: A ``postgresql://`` URL: the month runs in the PostgreSQL store in ``schema`` there (created when
            missing; it must hold no batches yet) instead of ``yikatong.db``, sealed with the same keys.
        schema: The PostgreSQL schema of ``store``.

    Raises:
        FileExistsError: ``out`` holds other files than a demo's and ``force`` is false.
        ValueError: too few rows for the items, a period that is not a month, or a PostgreSQL store that already
            holds batches.
        StoreError: the PostgreSQL store cannot be opened (a bad URL, no server, psycopg not installed).
    """
    folder = Path(out)
    if rows < len(items):
        raise ValueError(f"--rows must be at least {len(items)} (one per item), got {rows}")
    the_period = Period.parse(period)
    if the_period.kind != "month":
        raise ValueError(f"the demo runs one month, not {period!r}")
    keys, secret = _demo_keys(seed)
    server = None if store is None else _open_empty(store, keys=keys, schema=schema)
    try:
        prepare_folder(folder, force=force)
        key_file = None
        if secret is not None:
            key_file = folder / DEMO_KEY_FILE
            key_file.write_bytes(secret + b"\n")
        shown = progress or Progress(None)
        shown.step("生成", "generate", f"{rows} rows, items {', '.join(items)}, seed {seed}")
        data = generate(
            rows, catalog=catalog, period=the_period, items=items, seed=seed, defect_rate=DEFAULT_DEFECT_RATE
        )
        paths = data.write(folder / "input")
        roster = read_roster(paths["roster"])
        shown.step("读入", "read roster", f"{paths['roster'].name}: {roster.height} rows")
        if store is not None:
            shown.step("数据库", "store", f"PostgreSQL {safe_location(store)}, schema {schema}")
        start = dt.datetime.combine(the_period.start, dt.time(9, 0)) + dt.timedelta(days=2)
        county = County(
            folder,
            catalog=catalog,
            registry=data.registry,
            references=data.references,
            history=load_ledger(paths["ledger"]),  # earlier months' payments, which validation must see
            seed=seed,
            start=start,
            keys=keys,
            store=server,
            accounts=None if store is None else _server_accounts(store, keys=keys, schema=schema),
        )
    except BaseException:
        if server is not None:
            server.close()
        raise
    try:
        run_month(county, catalog, roster, items=items, period=the_period.label, seed=seed, progress=shown)
        summary = collect(
            county.store,
            catalog,
            seed=seed,
            period=the_period.label,
            roster_rows=roster.height,
            audit_key=keys.audit_key(),
            key_file=None if key_file is None else key_file.name,
        )
        report = summarise_period(
            county.store, the_period, actor=Actor(user="财政局-统计", role="finance"), catalog=catalog
        )
        for name in summary_report_names(the_period.label):
            write_summary_report(report, folder / name)
        shown.step("汇总", "summary report", ", ".join(summary_report_names(the_period.label)))
    finally:
        county.close()
    text = render(summary) if store is None else render(summary, store=f"{safe_location(store)} --schema {schema}")
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (folder / "summary.txt").write_text(text + "\n", encoding="utf-8")
    shown.step("完成", "done", f"{folder}")
    return DemoResult(out=folder, summary=summary, text=text, store=county.store_path)
