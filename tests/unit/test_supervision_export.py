"""The supervision export: what the audit office supervises in a period, masked, read-only, audit role only."""

from __future__ import annotations

import io
import random
import re
import zipfile
from pathlib import Path

import polars as pl
import pytest

from tests.unit._workflow_fakes import AUDITOR, BANK, FINANCE, MAKER, TOWN, World, make_roster
from yikatong.actors import Actor
from yikatong.adapters.faults import Faults
from yikatong.adapters.supervision_export import SHEET_TITLES, supervision_xlsx_bytes, write_supervision_export
from yikatong.catalog import Catalog
from yikatong.errors import PermissionDenied
from yikatong.simulation._life import run_lifecycle
from yikatong.simulation._world import LogCapture
from yikatong.simulation._world import World as SimWorld
from yikatong.workflow.supervision import EXCEPTION_STATUSES, supervision_tables

FINANCE_2 = Actor("cz-2", "finance")


@pytest.fixture(scope="module")
def county() -> SimWorld:
    """A simulated county whose bank and treasury misbehave: failures, reversals, refused results, extensions."""
    world = SimWorld(7, people=80, faults=Faults.typical(), logs=LogCapture())
    for k in range(6):
        run_lifecycle(world, random.Random(k), rows=10)
    assert world.violations == []
    return world


def _texts(frames: dict[str, pl.DataFrame]) -> str:
    return "\n".join(
        str(v)
        for frame in frames.values()
        for column in frame.columns
        for v in frame[column].to_list()
        if v is not None
    )


def test_no_full_id_account_or_name_appears_in_any_table(county: SimWorld) -> None:
    export = supervision_tables(county.store, "2026", actor=AUDITOR)
    rows = pl.concat([county.store.rows(b.batch_id) for b in county.store.batches()])
    secrets = {
        *rows["id_number"].drop_nulls(),
        *rows["account"].drop_nulls(),
        *rows["pay_account"].drop_nulls(),
        *(n for n in rows["name"].drop_nulls() if len(n) >= 2),
    }
    text = _texts(export.sheets())
    assert export.exceptions.height > 0
    assert not {s for s in secrets if s in text}
    assert export.exceptions["id_number"].str.contains(r"\*").all()


def test_the_exception_rows_and_reversals_are_those_of_the_store(county: SimWorld) -> None:
    export = supervision_tables(county.store, "2026", actor=AUDITOR)
    rows = pl.concat([county.store.rows(b.batch_id) for b in county.store.batches()])
    assert export.exceptions.height == rows.filter(pl.col("status").is_in(EXCEPTION_STATUSES)).height
    reversed_entries = county.store.ledger().filter(pl.col("status") == "reversed")
    assert export.reversals.height == reversed_entries.height > 0
    assert export.bank_exceptions.height == county.store.exceptions().height > 0
    granted = [e for e in county.store.audit() if e.action == "grant_extension"]
    assert export.extensions.filter(pl.col("decision") == "granted").height == len(granted)
    assert set(export.batches["batch_id"]) == {b.batch_id for b in county.store.batches()}


def test_a_period_in_which_nothing_happened_gives_empty_tables(county: SimWorld) -> None:
    export = supervision_tables(county.store, "2025-12", actor=AUDITOR)
    assert all(frame.is_empty() for frame in export.sheets().values())
    assert export.head == county.store.audit_head()


@pytest.mark.parametrize("reader", [FINANCE, MAKER, TOWN, BANK, Actor("gk-1", "treasury")])
def test_only_the_audit_office_and_the_system_may_export(county: SimWorld, reader: Actor) -> None:
    with pytest.raises(PermissionDenied, match="supervision"):
        supervision_tables(county.store, "2026", actor=reader)


def test_an_unknown_period_form_is_refused(county: SimWorld) -> None:
    with pytest.raises(ValueError, match="期间"):
        supervision_tables(county.store, "2026-Q5", actor=AUDITOR)


def test_reviews_waivers_and_withdrawals_of_the_period_are_listed(catalog: Catalog) -> None:
    world = World(catalog)
    s = world.service
    cancelled = world.to("dispatched", make_roster(3))
    s.cancel(cancelled, actor=MAKER, reason="名单有误 身份证500241194001010011")
    sent_back = world.to("dispatched", make_roster(3, start=10))
    s.send_back(sent_back, actor=FINANCE, reason="金额需复核")
    waived = world.to("submitted", make_roster(2, start=20))
    s.waive_control(waived, "ledger", actor=FINANCE, reason="台账迁移")
    s.approve_waiver(waived, "ledger", actor=FINANCE_2)
    export = supervision_tables(world.store, "2026-11", actor=AUDITOR)
    kinds = dict(export.withdrawals.select("batch_id", "kind").iter_rows())
    assert kinds == {cancelled: "cancel", sent_back: "send_back"}
    assert export.withdrawals["order_withdrawn"].all()
    assert "500241194001010011" not in _texts(export.sheets())
    assert export.waivers.select("control", "proposed_by", "approved_by").rows() == [("ledger", "cz-1", "cz-2")]
    assert export.withdrawals.filter(pl.col("batch_id") == cancelled)["rows_withdrawn"].to_list() == [3]


def test_the_workbook_is_protected_formula_safe_and_carries_the_head_on_its_cover(
    catalog: Catalog, tmp_path: Path
) -> None:
    world = World(catalog)
    roster = make_roster(4).with_columns(
        pl.when(pl.col("row_id") == 2).then(pl.lit('=HYPERLINK("http://x","y")')).otherwise("village").alias("village")
    )
    batch = world.to("validated", roster)  # the formula-like village holds its row for review
    export = supervision_tables(world.store, "2026", actor=AUDITOR)
    assert batch in set(export.exceptions["batch_id"])
    book = supervision_xlsx_bytes(export)
    with zipfile.ZipFile(io.BytesIO(book)) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = {n: z.read(n).decode("utf-8") for n in [*sheets, "xl/sharedStrings.xml", "xl/workbook.xml"]}
    assert len(sheets) == 1 + len(SHEET_TITLES)
    assert all("<sheetProtection" in xml[n] for n in sheets)
    assert 'readOnlyRecommended="1"' in xml["xl/workbook.xml"]
    assert not any(re.search(r"<f>", xml[n]) for n in sheets)
    assert "&apos;=HYPERLINK" in xml["xl/sharedStrings.xml"] or "'=HYPERLINK" in xml["xl/sharedStrings.xml"]
    assert export.head is not None
    assert export.head.hash in xml["xl/sharedStrings.xml"]
    with pytest.raises(ValueError, match=r"\.xlsx"):
        write_supervision_export(export, tmp_path / "x.csv")


def test_the_service_gives_the_same_export_and_refuses_finance(catalog: Catalog) -> None:
    world = World(catalog)
    world.to("settled", make_roster(4), failed=(3,))
    served = world.service.supervision("2026-11", actor=AUDITOR)
    direct = supervision_tables(world.store, "2026-11", actor=AUDITOR, zone=world.clock.zone)
    assert served.exceptions.equals(direct.exceptions)
    assert served.exceptions["status"].to_list() == ["failed"]  # settled, not yet returned for correction
    with pytest.raises(PermissionDenied):
        world.service.supervision("2026-11", actor=FINANCE)
