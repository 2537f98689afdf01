"""The county the demo runs: its ports wired to the workflow service, and the people who act in it.

Everything is the project's own adapters: the embedded SQLite store (or a PostgreSQL one the caller names), the
simulated paying bank reached through the bank file exchange (so real order, verification and result files are left
in the output folder), the simulated treasury, disclosure files and a fixed clock. The account registry as
validation reads it and the reference lists are the county's exports, held as frames (the demo's people come from
[`yikatong.synth.generate`][]); the new cards towns enter during the month are declared and approved in a sealed
[`SqliteRegistry`][yikatong.adapters.sqlite.SqliteRegistry] inside the store file (or a sealed
[`PostgresRegistry`][yikatong.adapters.postgres.PostgresRegistry] in the PostgreSQL store's schema), whose history
``yikatong audit verify`` checks with the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Final, Protocol

import polars as pl

from yikatong.adapters.bankfile import BankFilePeer, FileExchangeBank, builtin_layout
from yikatong.adapters.clock import FixedClock
from yikatong.adapters.disclosure_files import DisclosureFileSink
from yikatong.adapters.faults import Faults
from yikatong.adapters.memory_reference import MemoryReference
from yikatong.adapters.simulated_bank import SimulatedBank
from yikatong.adapters.simulated_treasury import SimulatedTreasury
from yikatong.adapters.sqlite import SqliteRegistry, SqliteStore
from yikatong.adapters.store_location import ClosableStore
from yikatong.catalog import Catalog
from yikatong.ports import AccountRegistry, Clock, Keys
from yikatong.registry import Account
from yikatong.workflow.roles import Actor
from yikatong.workflow.service import Service, build_service

__all__ = ["BANK_CODE", "PAYMENT_FAULTS", "County", "CountyAccounts", "CountyTime", "FrameRegistry", "Staff"]

BANK_CODE: Final = "CQRCB"
"""The paying bank of every demo batch (重庆农村商业银行)."""

PAYMENT_FAULTS: Final = Faults(account_closed=0.012, account_frozen=0.008, name_mismatch=0.006)
"""What goes wrong at payment in the demo: accounts closed or frozen since verification, and names the bank's own
records hold differently. The bank's protocol faults (repeats, phantoms, timeouts) are the simulation's business."""

_BEIJING: Final = dt.timezone(dt.timedelta(hours=8))


class FrameRegistry:
    """The one-card account registry as validation sees it: a snapshot frame the county exported.

    A declaration of a new account (for a returned row whose card was closed) closes the old record and adds an
    active one, as the town's account office would.
    """

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame

    def snapshot(self) -> pl.LazyFrame:
        """Accounts: ``id_number, account, account_kind, bank, holder_name, status``."""
        return self.frame.lazy()

    def replace_accounts(self, new: pl.DataFrame) -> None:
        """Close each person's current records and add the new accounts (``id_number, account, holder_name``)."""
        people = new.get_column("id_number").implode()
        closed = self.frame.with_columns(
            status=pl.when(pl.col("id_number").is_in(people)).then(pl.lit("closed")).otherwise(pl.col("status"))
        )
        added = new.select(
            "id_number",
            "account",
            pl.lit("card").alias("account_kind"),
            pl.lit("重庆农村商业银行").alias("bank"),
            "holder_name",
            pl.lit("active").alias("status"),
        )
        self.frame = pl.concat([closed, added.cast(dict(closed.schema))])  # type: ignore[arg-type]


class CountyAccounts(AccountRegistry, Protocol):
    """The sealed account registry the towns enter new cards in (the store file's, or the server store's)."""

    def records(self, id_number: str) -> tuple[Account, ...]:
        """Every declaration record of the person, oldest first."""

    def release(self) -> None:
        """Close the registry's connection."""


class CountyTime:
    """The county's clock read without moving it: the registry's events carry the county's time, and entering cards
    leaves the workflow's timeline as it is (so the registry's writes never change the store's audit head)."""

    def __init__(self, clock: FixedClock) -> None:
        self._clock = clock
        self.zone = clock.zone

    def now(self) -> dt.datetime:
        """The county clock's current reading."""
        return self._clock.peek()


class Staff:
    """The people acting for one department: a maker who prepares batches and a checker who approves them."""

    def __init__(self, department: str) -> None:
        self.maker = Actor(f"{department}-经办员", "department", department=department)
        self.checker = Actor(f"{department}-审核员", "department", department=department)


class County:
    """Xiushan for one month: the store, the bank and its exchange folder, the treasury, disclosure, the clock.

    Args:
        out: The output folder (the store file, ``bank/`` and ``disclosure/`` go here).
        catalog: The subsidy catalogue.
        registry: The account registry snapshot.
        references: Reference lists by name.
        history: Payments of earlier months (ledger shape), seen by validation.
        seed: Seed of the simulated bank and treasury.
        start: When the month's work starts (Beijing time).
        keys: The county's keys: the audit chain is keyed with them, and the store's personal data sealed.
        store: The store to work in, empty (opened with ``keys``; closed by ``close``); default a new SQLite
            file ``yikatong.db`` in ``out``.
        accounts: With ``store``: opens the store's sealed account registry on the county's clock (closed by
            ``close``). Without ``store`` the registry is the one inside ``yikatong.db``.
    """

    def __init__(
        self,
        out: Path,
        *,
        catalog: Catalog,
        registry: pl.DataFrame,
        references: dict[str, pl.DataFrame],
        history: pl.LazyFrame | None = None,
        seed: int,
        start: dt.datetime,
        keys: Keys,
        store: ClosableStore | None = None,
        accounts: Callable[[Clock], CountyAccounts] | None = None,
    ) -> None:
        self.clock = FixedClock(start.replace(tzinfo=_BEIJING), step=dt.timedelta(seconds=1))
        self.store_path: Path | None = None
        self.accounts: CountyAccounts | None = None
        if store is None:
            self.store_path = out / "yikatong.db"
            store = SqliteStore(self.store_path, keys=keys)  # sealed: no ID, account or name in clear on disk
            self.accounts = SqliteRegistry(self.store_path, clock=CountyTime(self.clock), keys=keys, create=False)
        elif accounts is not None:
            self.accounts = accounts(CountyTime(self.clock))
        self.store: ClosableStore = store
        self.treasury = SimulatedTreasury(seed=seed)
        self.simulated_bank = SimulatedBank(
            seed=seed,
            faults=PAYMENT_FAULTS,
            item_names={code: item.name for code, item in catalog.items.items()},
            funding=self._funds_at_bank,
        )
        layout = builtin_layout("fixed-width-gb18030")
        self.exchange = FileExchangeBank(out / "bank", layout, clock=self.clock)
        self.peer = BankFilePeer(out / "bank", layout, self.simulated_bank, clock=self.clock)
        self.sink = DisclosureFileSink(out / "disclosure", zone=self.clock.zone)
        self.registry = FrameRegistry(registry)
        self.bank_actor = Actor(f"bank-{BANK_CODE}", "bank", bank=BANK_CODE)
        self.service: Service = build_service(
            store=self.store,
            bank=self.exchange,
            treasury=self.treasury,
            disclosure=self.sink,
            clock=self.clock,
            catalog=catalog,
            registry=self.registry,
            reference=MemoryReference(references),
            history=history,
            keys=keys,
        )

    def _funds_at_bank(self, batch_id: str) -> int:
        """Money the bank has for a batch: the treasury's funding plus what a correction drew from the money its
        corrected batch holds at the bank."""
        try:
            drawn = self.store.batch(batch_id).drawn_fen
        except KeyError:
            drawn = 0
        return self.treasury.funded_fen(batch_id) + drawn

    def advance(self, days: int = 0, hours: int = 0) -> None:
        """Move the county's clock on (work happens over days, not seconds)."""
        self.clock.advance(dt.timedelta(days=days, hours=hours))

    def declare_new_cards(self, new: pl.DataFrame) -> None:
        """Towns enter new cards (``id_number, account, holder_name, town``): each declared by the town's clerk
        and approved by its checker in the store's registry (when it has one), then in force for validation."""
        if self.accounts is not None:
            for person, card, holder, town in new.select("id_number", "account", "holder_name", "town").iter_rows():
                clerk = Actor(f"{town}-经办员", "town", town=town)
                checker = Actor(f"{town}-审核员", "town", town=town)
                bank = "重庆农村商业银行"
                if self.accounts.records(person):
                    self.accounts.change(
                        clerk, id_number=person, account=card, kind="card", bank=bank, holder_name=holder
                    )
                else:
                    self.accounts.declare(
                        clerk, id_number=person, account=card, kind="card", bank=bank, holder_name=holder, town=town
                    )
                self.accounts.review(checker, id_number=person, account=card, approve=True)
        self.registry.replace_accounts(new)

    def close(self) -> None:
        """Close the store (its file or connection) and the registry."""
        if self.accounts is not None:
            self.accounts.release()
        self.store.close()
