"""汇总上报 as Polars frames: figures per group that add up to the ledger to the fen, read by finance and audit only."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit._workflow_fakes import AUDITOR, BANK, FINANCE, MAKER, TOWN, World, make_roster
from yikatong.actors import Actor
from yikatong.adapters.faults import Faults
from yikatong.catalog import Catalog
from yikatong.errors import PermissionDenied
from yikatong.records import BatchRecord
from yikatong.simulation._life import run_lifecycle
from yikatong.simulation._world import LogCapture
from yikatong.simulation._world import World as SimWorld
from yikatong.workflow._summary_money import payment_entries
from yikatong.workflow.funds import batch_money, money_totals, records_frame
from yikatong.workflow.summary import SUMMARY_FIGURES, parse_groups, summarise_period

FINANCE_2 = Actor("cz-2", "finance")


@pytest.fixture(scope="module")
def county() -> SimWorld:
    """A simulated county whose bank and treasury misbehave: failures, reversals, corrections, refunds."""
    world = SimWorld(7, people=80, faults=Faults.typical(), logs=LogCapture())
    for k in range(6):
        run_lifecycle(world, random.Random(k), rows=10)
    assert world.violations == []
    return world


def _ledger_figures(ledger: pl.DataFrame) -> dict[str, int]:
    sent = ledger.filter(pl.col("status") != "withdrawn")
    out = {"sent_rows": sent.height, "sent_fen": int(sent["amount_fen"].sum()), "payees": sent["id_number"].n_unique()}
    for status in ("paid", "failed", "reversed"):
        mine = sent.filter(pl.col("status") == status)
        out[f"{status}_rows"], out[f"{status}_fen"] = mine.height, int(mine["amount_fen"].sum())
    return out


def test_the_totals_equal_the_ledger_and_the_batch_money_to_the_fen(county: SimWorld) -> None:
    summary = summarise_period(county.store, "2026", actor=AUDITOR)
    totals = summary.totals.row(0, named=True)
    money = money_totals(batch_money(records_frame(county.store.batches()), county.store.ledger()))
    assert money["reversed_fen"] > 0  # the county exercised reversals
    assert money["refunded_fen"] > 0  # and refunds
    assert {k: totals[k] for k in _ledger_figures(county.store.ledger())} == _ledger_figures(county.store.ledger())
    assert totals["funded_fen"] == money["funded_fen"]
    assert totals["refunded_fen"] == money["refunded_fen"]
    assert totals["outstanding_fen"] == money["held_fen"]
    assert totals["paid_fen"] == money["paid_fen"] - money["reversed_fen"]
    assert totals["funded_fen"] == totals["paid_fen"] + totals["outstanding_fen"] + totals["refunded_fen"]
    assert totals["drawn_fen"] == totals["passed_on_fen"] > 0  # corrections reused failed money, within the year


@pytest.mark.parametrize(
    "groups",
    ["item,town,month", "town", "village", "department", "item,period", "month,item,town,village,department"],
)
def test_every_grouping_adds_up_to_the_totals(county: SimWorld, groups: str) -> None:
    summary = summarise_period(county.store, "2026-Q1", actor=FINANCE, groups=groups)
    assert summary.table.columns == [*parse_groups(groups), *SUMMARY_FIGURES]
    sums = summary.table.select(pl.col(SUMMARY_FIGURES).sum()).row(0, named=True)
    totals = summary.totals.row(0, named=True)
    assert {k: v for k, v in sums.items() if k != "payees"} == {k: v for k, v in totals.items() if k != "payees"}
    assert sums["payees"] >= totals["payees"]  # a person paid in two groups counts once in the total
    money_in = pl.col("funded_fen") + pl.col("drawn_fen")
    money_out = pl.col("paid_fen") + pl.col("outstanding_fen") + pl.col("refunded_fen") + pl.col("passed_on_fen")
    assert summary.table.filter(money_in != money_out).is_empty()  # every group's money is accounted for


def test_per_batch_money_is_the_batch_headers_and_what_the_bank_holds(county: SimWorld) -> None:
    summary = summarise_period(county.store, "2026-01", actor=FINANCE)
    money = batch_money(records_frame(county.store.batches()), county.store.ledger())
    sent = {e.batch_id for e in county.store.audit() if e.action == "dispatch"}
    assert set(summary.batches["batch_id"]) == sent
    assert county.store.ledger().filter(~pl.col("batch_id").is_in(list(sent))).is_empty()
    joined = summary.batches.join(money, on="batch_id", suffix="_money")
    for figure in ("funded_fen", "drawn_fen", "refunded_fen", "held_fen", "reversed_fen", "failed_fen"):
        assert joined[figure].to_list() == joined[f"{figure}_money"].to_list(), figure


def test_a_period_with_no_batch_sent_gives_empty_tables_and_zero_totals(county: SimWorld) -> None:
    summary = summarise_period(county.store, "2026-02", actor=FINANCE)
    assert summary.table.is_empty()
    assert summary.batches.is_empty()
    assert summary.monthly.is_empty()
    assert all(summary.total(f) == 0 for f in SUMMARY_FIGURES)
    assert summary.head == county.store.audit_head()


def test_extensions_of_the_period_are_listed_with_their_decision(county: SimWorld) -> None:
    summary = summarise_period(county.store, "2026", actor=AUDITOR)
    granted = [e for e in county.store.audit() if e.action == "grant_extension"]
    assert summary.extensions.filter(pl.col("decision") == "granted").height == len(granted) > 0
    assert set(summary.extensions["requested_by"]).isdisjoint(set(summary.extensions["decided_by"].drop_nulls()))


@pytest.mark.parametrize("reader", [MAKER, TOWN, BANK, Actor("gk-1", "treasury")])
def test_only_finance_audit_and_the_system_may_summarise_a_period(county: SimWorld, reader: Actor) -> None:
    with pytest.raises(PermissionDenied, match="summarise"):
        summarise_period(county.store, "2026", actor=reader)


@pytest.mark.parametrize("period", ["2026-13", "Q4", "2026/11", ""])
def test_an_unknown_period_form_is_refused(county: SimWorld, period: str) -> None:
    with pytest.raises(ValueError, match="期间"):
        summarise_period(county.store, period, actor=FINANCE)


@pytest.mark.parametrize("groups", ["item,bank", "", "id_number"])
def test_an_unknown_grouping_is_refused(county: SimWorld, groups: str) -> None:
    with pytest.raises(ValueError, match="汇总维度无效"):
        summarise_period(county.store, "2026", actor=FINANCE, groups=groups)


def test_a_month_batch_with_a_failure_a_waiver_and_names_from_the_catalogue(catalog: Catalog) -> None:
    world = World(catalog)
    paid = world.to("settled", make_roster(5, amount_fen=10_000), failed=(2,))
    waived = world.to("submitted", make_roster(3, amount_fen=10_000, start=10))
    world.service.waive_control(waived, "ledger", actor=FINANCE, reason="台账迁移 账号6217001234567890123")
    world.service.approve_waiver(waived, "ledger", actor=FINANCE_2)
    summary = summarise_period(world.store, "2026-11", actor=FINANCE, groups="item", catalog=catalog)
    assert summary.table.select(
        "item", "item_name", "sent_fen", "paid_fen", "failed_fen", "outstanding_fen"
    ).rows() == [("GLJT", catalog["GLJT"].name, 50_000, 40_000, 10_000, 10_000)]
    assert summary.batches["batch_id"].to_list() == [paid]  # the waived batch was never sent to a bank
    assert summary.waivers.height == 0  # nor is it in the month's report
    wider = summarise_period(world.store, "2026-11-27", actor=FINANCE)
    assert wider.batches["batch_id"].to_list() == [paid]
    world.service.validate(waived)
    world.service.dispatch(waived)
    again = summarise_period(world.store, "2026", actor=AUDITOR)
    row = again.waivers.row(0, named=True)
    assert (row["batch_id"], row["control"], row["proposed_by"], row["approved_by"]) == (
        waived,
        "ledger",
        "cz-1",
        "cz-2",
    )
    assert "6217001234567890123" not in row["reason"]


@settings(max_examples=60, deadline=None)
@given(
    amounts=st.lists(st.integers(min_value=1, max_value=500_000), min_size=1, max_size=12),
    statuses=st.lists(st.sampled_from(["paid", "failed", "reversed", "sent"]), min_size=12, max_size=12),
    drawn_part=st.floats(min_value=0, max_value=1),
    refund_part=st.floats(min_value=0, max_value=1),
)
def test_a_batchs_money_laid_over_its_payments_adds_up_to_its_header(
    amounts: list[int], statuses: list[str], drawn_part: float, refund_part: float
) -> None:
    sent = sum(amounts)
    unpaid = sum(a for a, s in zip(amounts, statuses, strict=False) if s != "paid")
    drawn = int(sent * drawn_part)
    refunded = int(unpaid * refund_part)
    at = dt.datetime(2026, 11, 27, 1, 0, tzinfo=dt.UTC)
    record = BatchRecord(
        batch_id="B",
        item="GLJT",
        period="2026-11",
        department="民政局",
        state="settled",
        prepared_by="x",
        created_at=at,
        updated_at=at,
        corrects="A",
        funded_fen=sent - drawn,
        drawn_fen=drawn,
        refunded_fen=refunded,
    )
    ids = [f"P{i}" for i in range(len(amounts))]
    ledger = pl.DataFrame(
        {
            "batch_id": "B",
            "row_id": list(range(1, len(amounts) + 1)),
            "id_number": ids,
            "status": statuses[: len(amounts)],
            "amount_fen": amounts,
        }
    )
    rows = pl.DataFrame(
        {
            "batch_id": "B",
            "row_id": list(range(1, len(amounts) + 1)),
            "town": "中和街道",
            "village": "一村",
            "status": statuses[: len(amounts)],
            "corrects_row_id": list(range(1, len(amounts) + 1)),
        }
    )
    entries = payment_entries((record,), {"B": "2026-11"}, ledger, rows)
    assert entries.height == len(amounts)
    assert int(entries["funded_fen"].sum()) == sent - drawn
    assert int(entries["drawn_fen"].sum()) == drawn
    assert int(entries["refunded_fen"].sum()) == refunded
    assert int(entries["outstanding_fen"].sum()) == unpaid - refunded
    assert (entries["funded_fen"] + entries["drawn_fen"] == entries["amount_fen"]).all()
    assert (entries["outstanding_fen"] >= 0).all()


def test_the_service_gives_the_same_summary_on_its_catalogue_and_refuses_a_town(catalog: Catalog) -> None:
    world = World(catalog)
    world.to("settled", make_roster(4), failed=(3,))
    direct = summarise_period(world.store, "2026-11", actor=FINANCE, catalog=catalog, zone=world.clock.zone)
    served = world.service.summary("2026-11", actor=FINANCE)
    assert served.table.equals(direct.table)
    assert served.totals.equals(direct.totals)
    assert "item_name" in served.table.columns
    with pytest.raises(PermissionDenied):
        world.service.summary("2026-11", actor=TOWN)
