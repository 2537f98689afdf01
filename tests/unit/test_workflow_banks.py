"""Several paying banks: each row goes to the bank holding its account, one order per bank, funding and results
reconciled per bank, and held money followed per bank (a correction draws only where its parent's money sits)."""

from __future__ import annotations

import datetime as dt

import attrs
import polars as pl
import pytest

from tests.unit._workflow_fakes import (
    CHECKER,
    MAKER,
    START,
    TEST_RULES,
    FakeBank,
    FakeSink,
    FakeTreasury,
    make_roster,
    no_deaths,
)
from yikatong.adapters.clock import FixedClock
from yikatong.adapters.memory_store import MemoryStore
from yikatong.catalog import Catalog
from yikatong.errors import PermissionDenied, ReconciliationError
from yikatong.records import Change, FundingStatus
from yikatong.workflow import Actor, Service, build_service
from yikatong.workflow._banks import orders_by_bank
from yikatong.workflow.invariants import check_invariants

RCC = Actor("rcc-ops", "bank", bank="RCC")
PSBC = Actor("psbc-ops", "bank", bank="PSBC")
ICBC = Actor("icbc-ops", "bank", bank="ICBC")
NAMES = {"重庆农村商业银行": "RCC", "中国邮政储蓄银行": "PSBC"}
LATE = START.date() + dt.timedelta(days=60)


class Registry:
    """Accounts of rows 1–3 at the rural commercial bank, the rest at the postal savings bank; ``move`` changes a
    payee's bank (the account moved, as when a payee changes banks)."""

    def __init__(self, roster: pl.DataFrame, *, banks: list[str] | None = None) -> None:
        names = banks or ["重庆农村商业银行"] * 3 + ["中国邮政储蓄银行"] * (roster.height - 3)
        self.frame = roster.select(
            "id_number",
            "account",
            pl.lit("card").alias("account_kind"),
            pl.Series("bank", names),
            pl.col("name").alias("holder_name"),
            pl.lit("active").alias("status"),
        )

    def move(self, id_number: str, bank: str) -> None:
        self.frame = self.frame.with_columns(
            pl.when(pl.col("id_number") == id_number).then(pl.lit(bank)).otherwise(pl.col("bank")).alias("bank")
        )

    def snapshot(self) -> pl.LazyFrame:
        return self.frame.lazy()


class SeeingBank(FakeBank):
    """A fake bank that remembers which rows it was asked to verify."""

    def __init__(self) -> None:
        super().__init__()
        self.verified: list[int] = []

    def verify_accounts(self, rows: pl.DataFrame) -> pl.DataFrame:
        self.verified += rows["row_id"].to_list()
        return super().verify_accounts(rows)


class County:
    """A service over two fake banks (codes RCC and PSBC) and a fake treasury."""

    def __init__(self, catalog: Catalog, roster: pl.DataFrame, *, registry: Registry | None = None) -> None:
        self.roster = roster
        self.store = MemoryStore()
        self.ports = {"RCC": SeeingBank(), "PSBC": SeeingBank()}
        self.treasury = FakeTreasury()
        self.registry = registry or Registry(roster)
        self.service: Service = build_service(
            store=self.store,
            banks=self.ports,
            bank_codes=NAMES,
            treasury=self.treasury,
            disclosure=FakeSink(),
            clock=FixedClock(START, step=dt.timedelta(seconds=1)),
            catalog=catalog,
            registry=self.registry,
            reference=no_deaths(),
            rules=TEST_RULES,
        )

    def dispatched(self, roster: pl.DataFrame | None = None) -> str:
        s = self.service
        rows = self.roster if roster is None else roster
        batch_id = s.create_batch(rows, item="GLJT", period="2026-11", actor=MAKER).batch_id
        s.submit(batch_id, actor=MAKER)
        s.validate(batch_id)
        s.dispatch(batch_id)
        return batch_id

    def fund(self, batch_id: str) -> None:
        request = self.treasury.requests[batch_id]
        self.treasury.status[batch_id] = FundingStatus("funded", request.amount_fen, banks=request.banks)
        self.service.poll_funding(batch_id)

    def funded(self) -> str:
        batch_id = self.dispatched()
        self.service.request_funding(batch_id, actor=CHECKER)
        self.fund(batch_id)
        return batch_id

    def settle(self, batch_id: str, *, failed: tuple[int, ...] = ()) -> None:
        s = self.service
        banks = sorted(self.store.rows(batch_id)["bank"].drop_nulls().unique())
        s.disburse(batch_id, actor=Actor(f"{banks[0]}-ops", "bank", bank=banks[0]))
        for code in banks:
            port = self.ports[code]
            results = port.pay_all(
                batch_id, failed=tuple(r for r in failed if r in port.orders[batch_id].rows["row_id"])
            )
            s.record_results(batch_id, results, actor=Actor(f"{code}-ops", "bank", bank=code))


@pytest.fixture
def county(catalog: Catalog) -> County:
    return County(catalog, make_roster(5))


def test_orders_by_bank_splits_the_rows_into_one_order_per_bank_each_adding_up() -> None:
    rows = make_roster(5).select(
        "row_id",
        "id_number",
        "name",
        "account",
        pl.Series("amount_fen", [100, 200, 300, 400, 500]),
        pl.lit("registry").alias("account_source"),
        pl.Series("bank", ["PSBC", "RCC", "PSBC", "RCC", "RCC"]),
    )
    psbc, rcc = orders_by_bank(rows, batch_id="B", item="GLJT", period="2026-11", named=True)
    assert (psbc.bank, psbc.count, psbc.total_fen, psbc.rows["row_id"].to_list()) == ("PSBC", 2, 400, [1, 3])
    assert (rcc.bank, rcc.count, rcc.total_fen, rcc.rows["row_id"].to_list()) == ("RCC", 3, 1100, [2, 4, 5])
    (one,) = orders_by_bank(
        rows.with_columns(bank=pl.lit(None, pl.String)), batch_id="B", item="GLJT", period="2026-11", named=False
    )
    assert (one.bank, one.count, one.total_fen) == (None, 5, 1500)


def test_dispatch_sends_one_order_per_bank_with_its_own_count_and_total(county: County) -> None:
    batch_id = county.dispatched()
    rcc, psbc = county.ports["RCC"].orders[batch_id], county.ports["PSBC"].orders[batch_id]
    assert (rcc.bank, rcc.count, rcc.total_fen, rcc.rows["row_id"].to_list()) == ("RCC", 3, 30_000, [1, 2, 3])
    assert (psbc.bank, psbc.count, psbc.total_fen, psbc.rows["row_id"].to_list()) == ("PSBC", 2, 20_000, [4, 5])
    banks = dict(county.store.rows(batch_id).select("row_id", "bank").iter_rows())
    assert banks == {1: "RCC", 2: "RCC", 3: "RCC", 4: "PSBC", 5: "PSBC"}
    details = county.store.audit()[-1].details.replace(" ", "")
    assert '"PSBC":{"count":2,"total_fen":20000}' in details
    assert check_invariants(county.store) == []


def test_each_bank_verifies_only_the_accounts_it_holds(county: County) -> None:
    county.dispatched()
    assert sorted(county.ports["RCC"].verified) == [1, 2, 3]
    assert sorted(county.ports["PSBC"].verified) == [4, 5]


def test_a_row_no_bank_of_the_service_holds_is_held_at_dispatch(catalog: Catalog) -> None:
    roster = make_roster(6)
    registry = Registry(roster, banks=["重庆农村商业银行"] * 5 + ["中国工商银行"])
    county = County(catalog, roster, registry=registry)
    batch_id = county.dispatched()
    row = county.store.rows(batch_id).filter(pl.col("row_id") == 6)
    assert row.select("status", "reason_code", "bank").row(0) == ("blocked", "BANK_UNKNOWN", None)
    assert county.ports["RCC"].orders[batch_id].count == 5
    assert batch_id not in county.ports["PSBC"].orders


def test_the_funding_request_names_each_banks_amount_and_funding_reconciles_per_bank(county: County) -> None:
    batch_id = county.dispatched()
    county.service.request_funding(batch_id, actor=CHECKER)
    request = county.treasury.requests[batch_id]
    assert request.amount_fen == 50_000
    assert request.banks == (("PSBC", 20_000), ("RCC", 30_000))
    county.treasury.status[batch_id] = FundingStatus("funded", 50_000, banks=(("PSBC", 30_000), ("RCC", 20_000)))
    before = county.store.batch(batch_id)
    with pytest.raises(ReconciliationError, match="bank PSBC funded 30000 fen but 20000"):
        county.service.poll_funding(batch_id)
    assert county.store.batch(batch_id) == before
    county.treasury.status[batch_id] = FundingStatus("funded", 50_000, banks=request.banks)
    assert county.service.poll_funding(batch_id).state == "funded"


def test_results_reconcile_per_bank_and_the_batch_settles_when_every_bank_reported(county: County) -> None:
    batch_id = county.funded()
    s = county.service
    s.disburse(batch_id, actor=PSBC)
    rcc_results = county.ports["RCC"].pay_all(batch_id)
    psbc_results = county.ports["PSBC"].pay_all(batch_id, failed=(5,))
    wrong = s.record_results(batch_id, psbc_results, actor=RCC)  # the rural bank reports the postal bank's rows
    assert wrong.applied == 0
    assert set(wrong.exceptions["kind"]) == {"other_bank_row"}
    first = s.record_results(batch_id, rcc_results, actor=RCC)
    assert (first.applied, first.settled) == (3, False)
    county.ports["PSBC"].pending_results[batch_id] = psbc_results
    last = s.poll_results(batch_id, actor=PSBC)
    assert (last.applied, last.settled) == (2, True)
    statuses = dict(county.store.rows(batch_id).select("row_id", "status").iter_rows())
    assert statuses == {1: "paid", 2: "paid", 3: "paid", 4: "paid", 5: "failed"}
    assert check_invariants(county.store) == []


def test_a_bank_that_pays_none_of_the_batch_may_not_act_on_it(county: County) -> None:
    batch_id = county.funded()
    before = county.store.batch(batch_id)
    with pytest.raises(PermissionDenied, match="非本批次代发银行"):
        county.service.disburse(batch_id, actor=ICBC)
    assert county.store.batch(batch_id) == before
    county.service.disburse(batch_id, actor=RCC)
    with pytest.raises(PermissionDenied, match="非本批次代发银行"):
        county.service.record_results(batch_id, county.ports["RCC"].pay_all(batch_id), actor=ICBC)
    with pytest.raises(PermissionDenied, match="非本批次代发银行"):
        county.service.poll_results(batch_id, actor=ICBC)
    assert county.store.batch(batch_id).state == "disbursing"


def test_cancelling_after_dispatch_withdraws_the_order_from_every_bank(county: County) -> None:
    batch_id = county.dispatched()
    county.service.cancel(batch_id, actor=MAKER, reason="名单有误")
    assert county.ports["RCC"].withdrawn == [batch_id]
    assert county.ports["PSBC"].withdrawn == [batch_id]


def test_a_service_takes_one_bank_or_one_bank_per_code(catalog: Catalog) -> None:
    ports = {
        "store": MemoryStore(),
        "treasury": FakeTreasury(),
        "disclosure": FakeSink(),
        "clock": FixedClock(START),
        "catalog": catalog,
    }
    with pytest.raises(ValueError, match="bank"):
        build_service(**ports)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bank"):
        build_service(bank=FakeBank(), banks={"RCC": FakeBank()}, **ports)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bank"):
        build_service(banks={}, **ports)  # type: ignore[arg-type]


# -- held money per bank --------------------------------------------------------------------------------------------


def correct(county: County, batch_id: str, row_ids: list[int]) -> str:
    original = county.store.rows(batch_id).filter(pl.col("row_id").is_in(row_ids)).sort("row_id")
    roster = original.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("row_id"),
        "name",
        "id_number",
        "account",
        "amount_fen",
        "town",
        "village",
        pl.col("row_id").alias("corrects_row_id"),
    )
    fix = county.service.create_correction(batch_id, roster, actor=MAKER).batch_id
    county.service.submit(fix, actor=MAKER)
    county.service.validate(fix)
    county.service.dispatch(fix)
    return fix


def failed_at_both_banks(county: County) -> str:
    """A settled batch whose row 2 failed at the rural bank and row 4 at the postal bank, both returned."""
    batch_id = county.funded()
    county.settle(batch_id, failed=(2, 4))
    county.service.return_failures(batch_id)
    return batch_id


def test_held_money_is_followed_per_bank(county: County) -> None:
    batch_id = failed_at_both_banks(county)
    assert county.service.held_by_bank(batch_id) == {"PSBC": 10_000, "RCC": 20_000 - 10_000}
    assert county.service.held_fen(batch_id) == 20_000


def test_a_correction_draws_held_money_at_the_same_bank_and_a_row_that_moved_bank_is_funded_anew(
    county: County,
) -> None:
    batch_id = failed_at_both_banks(county)
    row4 = county.store.rows(batch_id).filter(pl.col("row_id") == 4)["id_number"].item()
    county.registry.move(row4, "重庆农村商业银行")  # row 4's payee now banks with the rural bank
    fix = correct(county, batch_id, [2, 4])
    assert dict(county.store.rows(fix).select("corrects_row_id", "bank").iter_rows()) == {2: "RCC", 4: "RCC"}
    assert county.ports["RCC"].orders[fix].total_fen == 20_000
    assert fix not in county.ports["PSBC"].orders

    county.service.request_funding(fix, actor=CHECKER)
    record = county.store.batch(fix)
    # the rural bank holds row 2's 10,000 fen: drawn there; the postal bank's 10,000 cannot pay at the rural bank
    assert (record.drawn_fen, record.drawn_by_bank) == (10_000, (("RCC", 10_000),))
    request = county.treasury.requests[fix]
    assert (request.amount_fen, request.banks) == (10_000, (("RCC", 10_000),))
    assert check_invariants(county.store) == []

    county.fund(fix)
    county.settle(fix)
    assert county.service.held_by_bank(batch_id) == {"PSBC": 10_000, "RCC": 0}
    # row 4's money stays at the postal bank until it goes back to the treasury, from that bank
    assert county.service.refundable_by_bank(batch_id, as_of=LATE) == {"PSBC": 10_000}
    county.service.refund(batch_id, as_of=LATE)
    (refund,) = county.treasury.refunds.values()
    assert (refund.amount_fen, refund.banks) == (10_000, (("PSBC", 10_000),))
    assert county.store.batch(batch_id).refunded_by_bank == (("PSBC", 10_000),)
    assert county.service.held_by_bank(batch_id) == {"PSBC": 0, "RCC": 0}
    assert check_invariants(county.store) == []


def test_a_correction_staying_at_its_bank_draws_everything_and_needs_no_funding(county: County) -> None:
    batch_id = failed_at_both_banks(county)
    fix = correct(county, batch_id, [2, 4])
    record = county.service.request_funding(fix, actor=CHECKER)
    assert record.state == "funded"
    assert record.drawn_by_bank == (("PSBC", 10_000), ("RCC", 10_000))
    assert fix not in county.treasury.requests
    assert check_invariants(county.store) == []


def test_money_drawn_at_a_bank_that_holds_none_of_it_breaks_invariant_7(county: County) -> None:
    batch_id = failed_at_both_banks(county)
    row4 = county.store.rows(batch_id).filter(pl.col("row_id") == 4)["id_number"].item()
    county.registry.move(row4, "重庆农村商业银行")
    fix = correct(county, batch_id, [4])
    county.service.request_funding(fix, actor=CHECKER)
    record = county.store.batch(fix)
    assert record.drawn_by_bank == (("RCC", 10_000),)  # the rural bank holds row 2's money, drawn for row 4
    # a store claiming the draw came from the postal bank, where the correction sent nothing
    forged = attrs.evolve(record, drawn_by_bank=(("PSBC", 10_000),), version=record.version + 1)
    county.store.commit(Change(batch=forged, expected_version=record.version))
    found = {(v.invariant, v.batch_id) for v in check_invariants(county.store)}
    assert (7, fix) in found
    details = " ".join(v.detail for v in check_invariants(county.store) if v.invariant == 7)
    assert "at bank PSBC" in details
