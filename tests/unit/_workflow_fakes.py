"""Plain fakes for the workflow tests: a bank and a treasury that record what they were asked, and a roster maker."""

from __future__ import annotations

import datetime as dt

import polars as pl

from yikatong.adapters.clock import FixedClock
from yikatong.adapters.memory_reference import MemoryReference
from yikatong.adapters.memory_store import MemoryStore
from yikatong.catalog import Catalog
from yikatong.errors import WithdrawalRefused
from yikatong.ports import Keys, Store
from yikatong.records import DisbursementOrder, DisclosureNotice, FundingRequest, FundingStatus, Refund
from yikatong.rules import amounts, duplicates, identity, ingestion, ledger
from yikatong.rules._keys import canonical_id_expr
from yikatong.workflow import Actor, Service, build_service

__all__ = [
    "AUDITOR",
    "BANK",
    "CHECKER",
    "FINANCE",
    "MAKER",
    "OTHER_DEPT",
    "START",
    "TEST_RULES",
    "TOWN",
    "FakeBank",
    "FakeRegistry",
    "FakeSink",
    "FakeTreasury",
    "World",
    "make_id",
    "make_roster",
    "no_deaths",
    "over_store",
    "snapshot",
]

TEST_RULES = (
    *ingestion.RULES,
    *identity.RULES,
    *duplicates.RULES,
    *(r for r in ledger.RULES if r.code == "DUP_ALREADY_PAID"),
    *(r for r in amounts.RULES if r.code in ("AMOUNT_INVALID", "AMOUNT_STANDARD_MISMATCH", "BATCH_TOTAL_MISMATCH")),
)
"""The rules the workflow tests run: enough to produce every verdict and a batch-level block, and quick to plan."""

START = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
MAKER = Actor("mz-clerk", "department", department="民政局")
CHECKER = Actor("mz-chief", "department", department="民政局")
OTHER_DEPT = Actor("ny-clerk", "department", department="农业农村委")
FINANCE = Actor("cz-1", "finance")
BANK = Actor("bank-1", "bank", bank="RCC")
TOWN = Actor("town-1", "town", town="中和街道")
AUDITOR = Actor("sj-1", "audit")

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(birth: str, seq: int, region: str = "500241") -> str:
    """A valid 18-character ID for a birth date ``YYYYMMDD`` and a sequence number."""
    body = f"{region}{birth}{seq:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def make_roster(n: int, *, birth: str = "19400101", amount_fen: int = 10_000, start: int = 1) -> pl.DataFrame:
    """``n`` clean rows for the 高龄津贴 item (age 80+, 100.00 yuan), all in one town."""
    ids = [make_id(birth, start + i) for i in range(n)]
    return pl.DataFrame(
        {
            "row_id": list(range(1, n + 1)),
            "name": [f"张{'三四五六七八九十'[i % 8]}{'甲乙丙'[i % 3]}" for i in range(n)],
            "id_number": ids,
            "account": [f"6217{(start + i):015d}" for i in range(n)],
            "amount_fen": [amount_fen] * n,
            "town": ["中和街道"] * n,
            "village": [f"村{i % 3 + 1}" for i in range(n)],
        },
        schema_overrides={"row_id": pl.Int64, "amount_fen": pl.Int64},
    )


class FakeBank:
    """Verifies every account (unless told otherwise), keeps orders, and returns the results it is given."""

    def __init__(self) -> None:
        self.orders: dict[str, DisbursementOrder] = {}
        self.pending_results: dict[str, pl.DataFrame] = {}
        self.unverified: set[int] = set()
        self.withdrawn: list[str] = []
        self.funded: set[str] = set()  # batches whose money has arrived: withdrawal is refused

    def verify_accounts(self, rows: pl.DataFrame) -> pl.DataFrame:
        return rows.select(
            "row_id",
            (~pl.col("row_id").is_in(list(self.unverified))).alias("verified"),
            pl.lit(None, pl.String).alias("reason"),
        )

    def submit(self, order: DisbursementOrder) -> None:
        self.orders[order.batch_id] = order

    def withdraw(self, batch_id: str) -> None:
        if batch_id in self.funded:
            raise WithdrawalRefused(f"batch {batch_id}: the money has arrived")
        self.withdrawn.append(batch_id)

    def results(self, batch_id: str) -> pl.DataFrame:
        return self.pending_results.get(batch_id, pl.DataFrame(schema={"row_id": pl.Int64}))

    def pay_all(self, batch_id: str, *, failed: tuple[int, ...] = ()) -> pl.DataFrame:
        """Results for every row of the batch's order: paid, except ``failed`` row ids."""
        order = self.orders[batch_id].rows
        return order.select(
            "row_id",
            pl.when(pl.col("row_id").is_in(list(failed)))
            .then(pl.lit("failed"))
            .otherwise(pl.lit("paid"))
            .alias("outcome"),
            "amount_fen",
            pl.when(pl.col("row_id").is_in(list(failed)))
            .then(pl.lit("ACCOUNT_CLOSED"))
            .otherwise(None)
            .alias("reason_code"),
            pl.when(pl.col("row_id").is_in(list(failed)))
            .then(pl.lit("账户已销户"))
            .otherwise(pl.lit(""))
            .alias("reason"),
        )


class FakeTreasury:
    """Funds whatever it is asked for when told to."""

    def __init__(self) -> None:
        self.requests: dict[str, FundingRequest] = {}
        self.status: dict[str, FundingStatus] = {}
        self.refunds: dict[str, Refund] = {}

    def request_funding(self, request: FundingRequest) -> None:
        self.requests[request.batch_id] = request
        self.status.setdefault(request.batch_id, FundingStatus("pending"))

    def funding_status(self, batch_id: str) -> FundingStatus:
        return self.status[batch_id]

    def refund(self, refund: Refund) -> None:
        self.refunds.setdefault(refund.refund_id, refund)


class FakeSink:
    """Keeps published notices."""

    def __init__(self) -> None:
        self.notices: list[DisclosureNotice] = []

    def publish(self, notice: DisclosureNotice) -> None:
        self.notices.append(notice)


class FakeRegistry:
    """A one-card registry in which every person a batch of the store names holds, as active account, the account
    their latest batch row names; ``changes`` (``id_number, account, status``) overrides it, as when a town reviews a
    new declaration or closes an account between validation and dispatch."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.changes = pl.DataFrame(schema={"id_number": pl.String, "account": pl.String, "status": pl.String})

    def change(self, id_number: str, account: str, status: str = "active") -> None:
        """Make ``account`` the person's account with ``status`` (their other accounts are closed)."""
        row = pl.DataFrame({"id_number": [id_number], "account": [account], "status": [status]})
        self.changes = pl.concat([self.changes.filter(pl.col("id_number") != id_number), row])

    def snapshot(self) -> pl.LazyFrame:
        frames = [self.store.rows(b.batch_id) for b in self.store.batches()]
        declared = (
            pl.concat(frames).filter(pl.col("account").is_not_null()).unique("id_number", keep="last")
            if frames
            else pl.DataFrame(schema={"id_number": pl.String, "account": pl.String, "name": pl.String})
        )
        declared = declared.with_columns(canonical_id_expr(pl.col("id_number")).alias("id_number"))
        declared = declared.join(self.changes.select("id_number"), on="id_number", how="anti").select(
            "id_number", "account", "name", pl.lit("active").alias("status")
        )
        changed = self.changes.join(declared.select("id_number", "name"), on="id_number", how="left").select(
            "id_number", "account", "name", "status"
        )
        return (
            pl.concat([declared, changed])
            .select(
                "id_number",
                "account",
                pl.lit("card").alias("account_kind"),
                pl.lit("RCC").alias("bank"),
                pl.col("name").alias("holder_name"),
                "status",
            )
            .lazy()
        )


def no_deaths() -> MemoryReference:
    """A deceased list on which no one of the tests' rosters is."""
    return MemoryReference({"deceased": pl.DataFrame(schema={"id_number": pl.String, "death_date": pl.Date})})


class World:
    """A service over fakes, with helpers that walk a batch through the life cycle.

    The service has the example catalogue's mandatory controls: the registry (:class:`FakeRegistry`), the ledger
    (its store's) and a deceased list (:func:`no_deaths`); ``registry=False`` leaves the registry out.
    """

    def __init__(
        self,
        catalog: Catalog,
        *,
        history: pl.DataFrame | None = None,
        registry: bool = True,
        keys: Keys | None = None,
    ) -> None:
        self.store = MemoryStore()
        self.bank = FakeBank()
        self.treasury = FakeTreasury()
        self.sink = FakeSink()
        self.clock = FixedClock(START, step=dt.timedelta(seconds=1))
        self.registry = FakeRegistry(self.store)
        self.service: Service = build_service(
            store=self.store,
            bank=self.bank,
            treasury=self.treasury,
            disclosure=self.sink,
            clock=self.clock,
            catalog=catalog,
            rules=TEST_RULES,
            history=history,
            registry=self.registry if registry else None,
            reference=no_deaths(),
            keys=keys,
        )

    def draft(self, roster: pl.DataFrame | None = None) -> str:
        record = self.service.create_batch(
            make_roster(5) if roster is None else roster, item="GLJT", period="2026-11", actor=MAKER
        )
        return record.batch_id

    def to(self, state: str, roster: pl.DataFrame | None = None, *, failed: tuple[int, ...] = ()) -> str:
        """A new batch walked to ``state`` along the main path."""
        s = self.service
        batch_id = self.draft(roster)
        path = ["submitted", "validated", "dispatched", "funding_requested", "funded", "disbursing", "settled"]
        for step in path[: path.index(state) + 1] if state in path else []:
            if step == "submitted":
                s.submit(batch_id, actor=MAKER)
            elif step == "validated":
                s.validate(batch_id)
            elif step == "dispatched":
                s.dispatch(batch_id)
            elif step == "funding_requested":
                s.request_funding(batch_id, actor=CHECKER)
            elif step == "funded":
                self.treasury.status[batch_id] = FundingStatus("funded", self.treasury.requests[batch_id].amount_fen)
                s.poll_funding(batch_id)
            elif step == "disbursing":
                s.disburse(batch_id, actor=BANK)
            elif step == "settled":
                s.record_results(batch_id, self.bank.pay_all(batch_id, failed=failed), actor=BANK)
        return batch_id


def snapshot(world: World, batch_id: str) -> tuple[object, ...]:
    """Everything the store holds about a batch, to check that a refusal changed nothing."""
    store = world.store
    return (
        store.batch(batch_id),
        store.rows(batch_id).to_dicts(),
        store.ledger().to_dicts(),
        store.exceptions().to_dicts(),
        store.audit(),
        store.commits,
    )


def over_store(world: World, store: Store, catalog: Catalog, *, keys: Keys | None = None) -> Service:
    """``world``'s service wired as usual but over ``store`` (a real store file), its registry reading that store."""
    world.registry = FakeRegistry(store)
    world.service = build_service(
        store=store,
        bank=world.bank,
        treasury=world.treasury,
        disclosure=world.sink,
        clock=world.clock,
        catalog=catalog,
        rules=TEST_RULES,
        registry=world.registry,
        reference=no_deaths(),
        keys=keys,
    )
    return world.service
