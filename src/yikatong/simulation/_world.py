"""One simulated county for [`yikatong.simulation`][]: the ports wired to a service, and every check after a step.

A world holds a population, their one-card accounts, an in-memory store, a simulated bank and treasury (with or
without faults), a disclosure sink and a fixed clock, all seeded. ``World.step`` runs one workflow call as a
given actor, keeps the message of a refusal, makes sure a refusal changed nothing, and checks every invariant.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import random
from collections import Counter
from collections.abc import Callable
from typing import Any, Final, TypeVar

import polars as pl

from yikatong.adapters.clock import FixedClock
from yikatong.adapters.faults import Faults
from yikatong.adapters.memory_disclosure import MemoryDisclosureSink
from yikatong.adapters.memory_store import MemoryStore
from yikatong.adapters.simulated_bank import SimulatedBank
from yikatong.adapters.simulated_treasury import SimulatedTreasury
from yikatong.catalog import Catalog
from yikatong.errors import YikatongError
from yikatong.rules.registry import RULES
from yikatong.simulation import _roster as _simroster
from yikatong.workflow.invariants import Snapshot, Violation, check_invariants
from yikatong.workflow.service import Service, build_service

__all__ = ["BANK_CODE", "SECOND_BANK_CODE", "SIM_CATALOG", "SIM_RULES", "SIM_RULE_CODES", "LogCapture", "World"]

T = TypeVar("T")

BANK_CODE: Final = "CQRCB"
"""The paying bank of every simulated batch (with faults, the first of two)."""
SECOND_BANK_CODE: Final = "PSBC"
"""With faults, the second paying bank: the registry holds about 40% of the accounts there, and a correction may
find a payee's account moved to the other bank."""

SIM_CATALOG: Final = Catalog.from_dict(
    {
        "item": [
            {
                "code": "GLJT",
                "name": "高龄津贴",
                "department": "民政局",
                "legal_basis": "重庆市民政局 重庆市财政局关于建立高龄津贴制度的通知",
                "unit": "person",
                "period": "month",
                "age_min": 80,
                "cap_per_period": "100.00",
                "correction_days": 15,
                "standard": {"kind": "fixed", "amount": "100.00"},
            },
            {
                "code": "ZDJSBT",
                "name": "计划生育家庭特别扶助金",
                "department": "卫生健康委",
                "legal_basis": "全国独生子女伤残死亡家庭扶助制度",
                "unit": "person",
                "period": "month",
                "age_min": 49,
                "standard": {"kind": "fixed", "amount": "590.00"},
            },
        ]
    }
)
"""The items simulated batches pay: two fixed-amount, per-person, monthly items of two departments."""

SIM_RULE_CODES: Final = frozenset(
    {
        "ROW_MALFORMED",
        "ID_FORMAT",
        "ID_CHECKSUM",
        "ID_SEX_MISMATCH",
        "AGE_NOT_ELIGIBLE",
        "ACCOUNT_NOT_REGISTERED",
        "ACCOUNT_MISMATCH",
        "ACCOUNT_INACTIVE",
        "BANK_VERIFY_FAILED",
        "DUP_IN_BATCH",
        "DUP_ALREADY_PAID",
        "AMOUNT_INVALID",
        "AMOUNT_STANDARD_MISMATCH",
        "BATCH_TOTAL_MISMATCH",
    }
)
"""The rules simulated batches are validated by unless every rule is asked for: those the simulated rosters' defects
trip (blocks and reviews), without the costly fuzzy ones, so thousands of life cycles run in minutes."""
SIM_RULES: Final = tuple(r for r in RULES if r.code in SIM_RULE_CODES)

_REFUSALS: Final = (YikatongError, PermissionError, ValueError, KeyError, TimeoutError)


class LogCapture(logging.Handler):
    """Keeps the formatted text of every log record emitted while it is attached to the root logger."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record's message and any exception text."""
        self.lines.append(record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            self.lines.append(str(record.exc_info[1]))


class _Registry:
    """The account registry as validation sees it: a snapshot frame (replaced when an account moves bank)."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame

    def snapshot(self) -> pl.LazyFrame:
        return self.frame.lazy()


def _fingerprint(store: MemoryStore) -> tuple[Any, ...]:
    head = store.audit_head()
    return (
        tuple((b.batch_id, b.version) for b in store.batches()),
        None if head is None else head.hash,
        store.ledger().height,
        store.exceptions().height,
    )


class World:
    """A seeded county: people, accounts, ports and the service over them.

    Args:
        seed: Seed of everything in the world.
        people: Population size.
        faults: Faults the bank and treasury inject (None: a well-behaved outside world).
        logs: Where log lines are being captured.
        all_rules: Validate by every rule of the library rather than ``SIM_RULES``.
        keep_texts: Keep every text scanned in ``archive`` (for tests that scan it again their own way).
    """

    def __init__(
        self,
        seed: int,
        *,
        people: int,
        faults: Faults | None,
        logs: LogCapture,
        all_rules: bool = False,
        keep_texts: bool = False,
    ) -> None:
        self.rng = random.Random(seed)
        self.faulty = faults is not None
        self.people = _simroster.population(people, self.rng)
        second = SECOND_BANK_CODE if faults is not None else None
        self.registry = _simroster.registry_snapshot(self.people, self.rng, second_bank=second)
        book = _simroster.bank_book(self.registry, self.rng) if faults is not None else None
        self.clock = FixedClock(dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC), step=dt.timedelta(minutes=1))
        self.store = MemoryStore()
        self.treasury = SimulatedTreasury(seed=self.rng.getrandbits(32), faults=faults)
        self.bank = SimulatedBank(
            seed=self.rng.getrandbits(32),
            faults=faults,
            accounts=book,
            item_names={code: item.name for code, item in SIM_CATALOG.items.items()},
            funding=self._funds_at_bank if faults is None else functools.partial(self._funds_at, BANK_CODE),
        )
        self.banks: dict[str, SimulatedBank] = {BANK_CODE: self.bank}
        if faults is not None:
            self.banks[SECOND_BANK_CODE] = SimulatedBank(
                seed=self.rng.getrandbits(32),
                faults=faults,
                accounts=book,
                item_names={code: item.name for code, item in SIM_CATALOG.items.items()},
                funding=functools.partial(self._funds_at, SECOND_BANK_CODE),
            )
        self.sink = MemoryDisclosureSink()
        self.accounts = _Registry(self.registry.drop("town"))
        self.service: Service = build_service(
            store=self.store,
            bank=self.bank if faults is None else None,
            banks=None if faults is None else dict(self.banks),
            treasury=self.treasury,
            disclosure=self.sink,
            clock=self.clock,
            catalog=SIM_CATALOG,
            registry=self.accounts,
            rules=None if all_rules else SIM_RULES,
        )
        self.logs = logs
        self.texts: list[str] = []
        self.archive: list[str] | None = [] if keep_texts else None
        self.counts: Counter[str] = Counter()
        self.violations: list[tuple[str, str, str]] = []
        self.steps = 0
        self.last_error: BaseException | None = None
        self._log_seen = len(logs.lines)
        self._sms_seen: dict[str, int] = {}
        self._published_seen = 0

    def _funds_at_bank(self, batch_id: str) -> int:
        """Money the bank has for a batch: the treasury's funding plus what it drew from the corrected batch."""
        try:
            drawn = self.store.batch(batch_id).drawn_fen
        except KeyError:
            drawn = 0
        return self.treasury.funded_fen(batch_id) + drawn

    def _funds_at(self, bank: str, batch_id: str) -> int:
        """Money the paying bank ``bank`` has for a batch: what the treasury funded there plus what the batch drew
        there from the money its corrected batch holds at that bank."""
        try:
            drawn = dict(self.store.batch(batch_id).drawn_by_bank).get(bank, 0)
        except KeyError:
            drawn = 0
        return self.treasury.funded_at(bank, batch_id) + drawn

    def move_accounts(self, id_numbers: list[str]) -> int:
        """Move these people's registered accounts to the other paying bank (a payee changed banks); returns how
        many accounts moved."""
        if len(self.banks) < 2 or not id_numbers:
            return 0
        frame = self.accounts.frame
        moving = pl.col("id_number").is_in(id_numbers)
        other = pl.when(pl.col("bank") == BANK_CODE).then(pl.lit(SECOND_BANK_CODE)).otherwise(pl.lit(BANK_CODE))
        self.accounts.frame = frame.with_columns(pl.when(moving).then(other).otherwise(pl.col("bank")).alias("bank"))
        return int(frame.select(moving.sum()).item())

    # -- running steps ------------------------------------------------------------------------------------------
    def step(self, label: str, call: Callable[[], T], *, expect_refusal: bool = False) -> T | None:
        """Run one workflow call, check every invariant, and return its result (None when it was refused).

        Args:
            label: What the step is (for counts and violation reports).
            call: The call.
            expect_refusal: The call must be refused (a forbidden actor, a larger correction…); success is a
                violation.
        """
        before = _fingerprint(self.store)
        result: T | None = None
        refused = False
        self.last_error = None
        try:
            result = call()
        except _REFUSALS as exc:
            refused = True
            self.last_error = exc
            self.texts.append(str(exc))
            self.counts[f"refused:{type(exc).__name__}"] += 1
            if _fingerprint(self.store) != before:
                self.violations.append(("refusal_changes_nothing", label, f"refused {label} changed the store"))
        self.steps += 1
        self.counts[f"step:{label}"] += 1
        if expect_refusal and not refused:
            self.violations.append(("role_and_rule_checks", label, f"{label} should have been refused"))
        self.check(label)
        return result

    @property
    def last_was_timeout(self) -> bool:
        """Whether the last step was refused because a port timed out (so retrying makes sense)."""
        return isinstance(self.last_error, TimeoutError)

    def check(self, label: str, *, final: bool = False) -> list[Violation]:
        """Check every invariant now, against the bank's and treasury's real books and the new texts."""
        texts = self._new_texts()
        found = check_invariants(
            Snapshot.of(self.store),
            bank_truth=pl.concat([bank.outcomes() for bank in self.banks.values()]),
            treasury_fundings=self.treasury.fundings.select("batch_id", "amount_fen"),
            treasury_refunds=self.treasury.refunds.select("batch_id", "amount_fen"),
            treasury_bank_fundings=self.treasury.bank_fundings if len(self.banks) > 1 else None,
            texts=texts,
            final=final,
            engine="python",
        )
        for v in found:
            self.violations.append((f"{v.invariant}_{v.name}", label, f"{v.batch_id}: {v.detail}"))
        return found

    def _new_texts(self) -> list[str]:
        texts, self.texts = self.texts, []
        texts += self.logs.lines[self._log_seen :]
        self._log_seen = len(self.logs.lines)
        for code, bank in self.banks.items():
            sms = bank.sms
            texts += sms.get_column("text").slice(self._sms_seen.get(code, 0)).to_list()
            self._sms_seen[code] = sms.height
        for notice in self.sink.history[self._published_seen :]:
            for frame in (notice.rows, notice.totals):
                if frame is not None:
                    texts += _cells(frame)
        self._published_seen = len(self.sink.history)
        self.counts["texts_scanned"] += len(texts)
        if self.archive is not None:
            self.archive += texts
        return texts


def _cells(frame: pl.DataFrame) -> list[str]:
    """Every cell of a frame as text, one string per row (all columns joined)."""
    if frame.is_empty():
        return []
    joined = frame.select(
        pl.concat_str([pl.col(c).cast(pl.String) for c in frame.columns], separator="|", ignore_nulls=True)
    )
    return joined.to_series().to_list()
