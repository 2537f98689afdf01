"""A simulated paying bank 代发金融机构 with seeded fault injection.

It implements [`yikatong.ports.Bank`][] the way a real bank behaves on a bad day: accounts that turn out closed,
frozen or held under another name; results that arrive a few rows at a time, twice, out of order, contradicting an
earlier result, for rows never sent or with a different amount; money that comes back after it was paid (退汇);
and calls that time out. Each fault is one rate of [`Faults`][yikatong.adapters.Faults], so a test can switch
on exactly one. An order whose money has not arrived can be withdrawn; once it has, withdrawal is refused.

The bank keeps what it really did, so tests and the simulation can hold the workflow's books against it: the true
per-row outcome of every order ([`SimulatedBank.truth`][yikatong.adapters.SimulatedBank.truth]), the money it paid
([`SimulatedBank.payments`][yikatong.adapters.SimulatedBank.payments]) and got back
([`SimulatedBank.reversals`][yikatong.adapters.SimulatedBank.reversals]), the orders withdrawn
([`SimulatedBank.withdrawn`][yikatong.adapters.SimulatedBank.withdrawn]) and the SMS it sent
([`SimulatedBank.sms`][yikatong.adapters.SimulatedBank.sms], masked account only). Everything is deterministic for a
seed.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping

import polars as pl
from attrs import define

from yikatong.adapters._bank_book import BANK_REASONS, PAID_REASON, AccountBook, book_failure, reason_text
from yikatong.adapters._bank_faults import RESULT_SCHEMA, contradictions, duplicates, phantoms, wrong_amounts
from yikatong.adapters._bank_sms import SMS_SCHEMA, sms_notices
from yikatong.adapters.faults import Faults, uniform
from yikatong.errors import WithdrawalRefused
from yikatong.records import DisbursementOrder

__all__ = ["BANK_REASONS", "RESULT_SCHEMA", "SimulatedBank"]

_REVERSAL_CODES = ("ACCOUNT_CLOSED", "PAYMENT_RETURNED")

_ORDER_COLUMNS = ("row_id", "id_number", "name", "account", "amount_fen")
_PAYMENT_SCHEMA: dict[str, pl.DataType] = {
    "batch_id": pl.String(),
    "row_id": pl.Int64(),
    "account": pl.String(),
    "amount_fen": pl.Int64(),
}


@define
class _Order:
    """One accepted order: what was asked, what really happened, and which true results went out."""

    order: DisbursementOrder
    truth: pl.DataFrame  # RESULT_SCHEMA + delivered, seen, will_reverse (Boolean)
    paid: bool = False  # the money went out (the bank had the funds)
    withdrawn: bool = False  # taken back before its money arrived: never paid
    accounts: pl.DataFrame | None = None  # row_id, account: kept once paid, for the book of reversals


class SimulatedBank:
    """A paying bank that implements [`yikatong.ports.Bank`][] and injects faults on purpose.

    Args:
        seed: Seed of every draw; the same seed and the same calls give the same results.
        faults: Which faults to inject (none by default).
        accounts: The bank's own account book: ``account``, ``id_number``, ``name``, ``status`` (``active``,
            ``closed`` or ``frozen``). With a book, 联网核查 and payment check name, ID and status against it and an
            account missing from it fails; without one, every account is taken as open and correctly held.
        item_names: Item code → name, for the SMS text (the code is used when absent).
        funding: Batch id → money the bank has received for it (e.g. ``SimulatedTreasury.funded_fen``). With it,
            an order is paid only once its total has arrived, on the first ``results`` call after that, and has no
            results before; without it, an order is paid when it is accepted.

    Attributes:
        injected: How many times each fault was injected (``timeout``, ``partial``, ``duplicate``, ...).
        duplicate_submissions: Orders submitted again after they had been accepted (never paid twice).
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        faults: Faults | None = None,
        accounts: pl.DataFrame | None = None,
        item_names: Mapping[str, str] | None = None,
        funding: Callable[[str], int] | None = None,
    ) -> None:
        self.faults = faults if faults is not None else Faults()
        self._rng = random.Random(seed)
        self._book = AccountBook(accounts)
        self._item_names = dict(item_names or {})
        self._funding = funding
        self._orders: dict[str, _Order] = {}
        self._payments: list[pl.DataFrame] = []
        self._reversals: list[pl.DataFrame] = []
        self._sms: list[pl.DataFrame] = []
        self.injected: Counter[str] = Counter()
        self.duplicate_submissions = 0

    # -- 联网核查 ----------------------------------------------------------------------------------------------

    def verify_accounts(self, rows: pl.DataFrame) -> pl.DataFrame:
        """Check name + ID + account against the bank's book (联网核查); one result row per input row, in order.

        Returns:
            ``row_id``, ``verified`` (Boolean), ``reason`` (the bank's text, null when verified).
        """
        joined = self._book.join(rows.select("row_id", "id_number", "name", "account"))
        code = book_failure(pl.col("book_id"), pl.col("book_name"), pl.col("book_status"))
        return joined.select(
            pl.col("row_id"),
            code.is_null().alias("verified"),
            code.replace_strict(BANK_REASONS, default=None, return_dtype=pl.String).alias("reason"),
        )

    # -- orders --------------------------------------------------------------------------------------------

    def _timeout(self) -> bool:
        if self._rng.random() < self.faults.bank_timeout:
            self.injected["timeout"] += 1
            return True
        return False

    def submit(self, order: DisbursementOrder) -> None:
        """Accept a pay order and pay it at once; the same order again is acknowledged and pays nothing.

        Raises:
            TimeoutError: when the ``bank_timeout`` fault fires; half of the time the order was accepted first.
            ValueError: when the control count or total does not match the rows, a row has no positive amount or
                a ``row_id`` repeats, or a different order was already accepted under the same batch number.
        """
        timed_out = self._timeout()
        if timed_out and self._rng.random() < 0.5:
            raise TimeoutError(
                f"银行未应答，指令未受理 / bank did not answer, order not taken (batch {order.batch_id})"
            )
        rows = order.rows.select(_ORDER_COLUMNS)
        if order.batch_id in self._orders and self._orders[order.batch_id].withdrawn:
            raise ValueError(f"批次 {order.batch_id} 的指令已撤回 / the order of this batch was withdrawn")
        if order.batch_id in self._orders:
            known = self._orders[order.batch_id].order
            same = (
                known.count == order.count
                and known.total_fen == order.total_fen
                and known.rows.get_column("row_id").sort().equals(rows.get_column("row_id").sort())
            )
            if not same:
                raise ValueError(
                    f"批次号 {order.batch_id} 已受理其他指令 / a different order was accepted as this batch"
                )
            self.duplicate_submissions += 1
        else:
            self._check_controls(order, rows)
            state = _Order(order=order, truth=self._decide(rows))
            self._orders[order.batch_id] = state
            self._pay_if_funded(state)
        if timed_out:
            raise TimeoutError(f"银行应答超时 / bank answer lost (batch {order.batch_id})")

    def _funded(self, order: DisbursementOrder) -> bool:
        return self._funding is None or self._funding(order.batch_id) >= order.total_fen

    def withdraw(self, batch_id: str) -> None:
        """Take back an order whose money has not arrived; it is then never paid and has no results.

        Withdrawing again, or a batch never accepted, changes nothing.

        Raises:
            WithdrawalRefused: the order's money has arrived or it was paid; the order stands.
            TimeoutError: when the ``bank_timeout`` fault fires; half of the time the order was withdrawn first.
        """
        timed_out = self._timeout()
        if timed_out and self._rng.random() < 0.5:
            raise TimeoutError(f"银行未应答，撤回未受理 / bank did not answer, withdrawal not taken (batch {batch_id})")
        state = self._orders.get(batch_id)
        if state is not None and not state.withdrawn:
            if state.paid or self._funded(state.order):
                raise WithdrawalRefused(
                    f"批次 {batch_id} 资金已到账，指令不能撤回 / the batch's money has arrived: the order stands"
                )
            state.withdrawn = True
            self.injected["withdrawn"] += 1
        if timed_out:
            raise TimeoutError(f"银行应答超时 / bank answer lost (batch {batch_id})")

    @staticmethod
    def _check_controls(order: DisbursementOrder, rows: pl.DataFrame) -> None:
        amounts = rows.get_column("amount_fen")
        if order.count != rows.height or order.total_fen != (amounts.sum() if rows.height else 0):
            raise ValueError(f"控制数不符 / control count or total differs from the rows (batch {order.batch_id})")
        if rows.height and (amounts.null_count() or amounts.min() <= 0):  # type: ignore[operator]
            raise ValueError(f"金额无效 / a row without a positive amount (batch {order.batch_id})")
        if rows.get_column("row_id").is_duplicated().any():
            raise ValueError(f"行号重复 / a row_id repeats (batch {order.batch_id})")

    def _decide(self, rows: pl.DataFrame) -> pl.DataFrame:
        """Decide every row's true outcome: the account book first, then the account fault rates."""
        f = self.faults
        u = uniform(pl.col("row_id"), self._rng)
        by_rate = (
            pl.when(u < f.account_closed)
            .then(pl.lit("ACCOUNT_CLOSED"))
            .when(u < f.account_closed + f.account_frozen)
            .then(pl.lit("ACCOUNT_FROZEN"))
            .when(u < f.account_closed + f.account_frozen + f.name_mismatch)
            .then(pl.lit("NAME_MISMATCH"))
            .otherwise(pl.lit(None, dtype=pl.String))
        )
        decided = self._book.join(rows).with_columns(
            reason_code=pl.coalesce(
                book_failure(pl.col("book_id"), pl.col("book_name"), pl.col("book_status")), by_rate
            )
        )
        return decided.select(
            pl.col("row_id"),
            pl.when(pl.col("reason_code").is_null()).then(pl.lit("paid")).otherwise(pl.lit("failed")).alias("outcome"),
            pl.col("amount_fen"),
            pl.col("reason_code"),
            reason_text(pl.col("reason_code")).alias("reason"),
            pl.lit(False).alias("delivered"),
            pl.lit(False).alias("seen"),  # the true result went out unaltered at least once
            (
                (pl.col("reason_code").is_null() & (uniform(pl.col("row_id"), self._rng) < f.reversal))
                if f.reversal
                else pl.lit(False)
            ).alias("will_reverse"),
            pl.col("account"),
        )

    def _pay_if_funded(self, state: _Order) -> None:
        """Pay an accepted order once its money is there: book the payments and send the SMS, once."""
        order = state.order
        if state.paid or state.withdrawn or not self._funded(order):
            return
        state.paid = True
        paid = state.truth.filter(pl.col("outcome") == "paid")
        state.accounts = state.truth.select("row_id", "account")
        state.truth = state.truth.drop("account")
        self._payments.append(
            paid.select(pl.lit(order.batch_id).alias("batch_id"), "row_id", "account", "amount_fen").cast(
                _PAYMENT_SCHEMA  # type: ignore[arg-type]
            )
        )
        item = self._item_names.get(order.item, order.item)
        self._sms.append(sms_notices(paid, batch_id=order.batch_id, item=item, period=order.period))

    # -- results -------------------------------------------------------------------------------------------

    def results(self, batch_id: str) -> pl.DataFrame:
        """Every result the bank has released so far for a batch, with whatever faults are switched on.

        A well-behaved bank releases every row's result on the first call and returns the same rows, in ``row_id``
        order, on every later call. With ``partial`` a call releases only some of the rows still pending, so the
        results grow over several calls. The other faults change what one call returns: a row twice, a result for a
        row never sent, a row with a different amount or with its outcome reversed in place of its true result (which
        the following call carries again), or everything shuffled. An unknown batch has no
        results (an empty frame).

        Raises:
            TimeoutError: when the ``bank_timeout`` fault fires (nothing is released by that call).
        """
        state = self._orders.get(batch_id)
        if state is None:
            return pl.DataFrame(schema=RESULT_SCHEMA)
        if self._timeout():
            raise TimeoutError(f"银行结果查询超时 / bank results timed out (batch {batch_id})")
        self._pay_if_funded(state)
        if not state.paid:
            return pl.DataFrame(schema=RESULT_SCHEMA)
        f = self.faults
        truth = state.truth
        pending = truth.filter(~pl.col("delivered"))
        release = pending
        if pending.height > 1 and self._rng.random() < f.partial:
            share = self._rng.uniform(0.2, 0.8)
            release = pending.filter(uniform(pl.col("row_id"), self._rng) < share)
            if release.height == 0:
                release = pending.head(1)
            self.injected["partial"] += 1
        if release.height:
            released = release.get_column("row_id").implode()
            state.truth = truth = truth.with_columns(delivered=pl.col("delivered") | pl.col("row_id").is_in(released))
        state.truth = truth = self._reverse(batch_id, state, truth)
        known = truth.filter(pl.col("delivered"))
        wrong = wrong_amounts(release, f, self._rng, self.injected)
        # only a result the consumer had in hand can be contradicted; a bank that never told the truth is not
        # contradicting itself, it is lying, and the workflow could not tell
        seen = truth.filter(pl.col("seen") & (pl.col("outcome") != "reversed"))
        flipped = contradictions(seen, f, self._rng, self.injected)
        # a wrong amount or a flipped result stands in for the row's true result in this call; the next call has it
        shown = known.join(pl.concat([wrong.select("row_id"), flipped.select("row_id")]), on="row_id", how="anti")
        state.truth = truth.with_columns(seen=pl.col("seen") | pl.col("row_id").is_in(shown["row_id"].implode()))
        # a reversed row was paid first: the bank keeps reporting that payment beside the reversal
        credited = shown.filter(pl.col("outcome") == "reversed").with_columns(
            outcome=pl.lit("paid"), reason_code=pl.lit(None, dtype=pl.String), reason=pl.lit(PAID_REASON)
        )
        parts = [wrong, credited, shown, duplicates(shown, f, self._rng, self.injected), flipped]
        if f.phantom and self._rng.random() < f.phantom:
            parts.append(phantoms(truth, self._rng, self.injected))
        out = pl.concat([p.select(RESULT_SCHEMA.keys()) for p in parts])
        if out.height > 1 and self._rng.random() < f.out_of_order:
            out = out.sample(fraction=1.0, shuffle=True, seed=self._rng.getrandbits(32))
            self.injected["out_of_order"] += 1
        return out.cast(RESULT_SCHEMA)  # type: ignore[arg-type]

    def _reverse(self, batch_id: str, state: _Order, truth: pl.DataFrame) -> pl.DataFrame:
        """Money of some paid rows the consumer already saw comes back now (退汇); the truth shows them reversed."""
        if not self.faults.reversal:
            return truth
        due = (
            pl.col("will_reverse")
            & pl.col("seen")
            & (pl.col("outcome") == "paid")
            & (uniform(pl.col("row_id"), self._rng) < 0.5)
        )
        back = truth.filter(due)
        if back.is_empty():
            return truth
        code = pl.when(pl.col("row_id") % 2 == 0).then(pl.lit(_REVERSAL_CODES[0])).otherwise(pl.lit(_REVERSAL_CODES[1]))
        reversed_rows = back.with_columns(outcome=pl.lit("reversed"), reason_code=code).with_columns(
            reason=reason_text(pl.col("reason_code"))
        )
        self.injected["reversal"] += back.height
        accounts = state.accounts if state.accounts is not None else back.select("row_id", account=pl.lit(""))
        self._reversals.append(
            back.join(accounts, on="row_id", how="left")
            .select(pl.lit(batch_id).alias("batch_id"), "row_id", "account", "amount_fen")
            .cast(_PAYMENT_SCHEMA)  # type: ignore[arg-type]
        )
        return truth.update(reversed_rows.select("row_id", "outcome", "reason_code", "reason"), on="row_id")

    # -- what the bank really did ---------------------------------------------------------------------------

    def truth(self, batch_id: str) -> pl.DataFrame:
        """The true outcome of every row of an accepted order (``RESULT_SCHEMA`` + ``delivered``).

        Raises:
            KeyError: when no order was accepted under ``batch_id``.
        """
        try:
            return self._orders[batch_id].truth.select(*RESULT_SCHEMA, "delivered")
        except KeyError:
            raise KeyError(f"no order accepted as batch {batch_id}") from None

    def outcomes(self) -> pl.DataFrame:
        """What really happened to every row of every order paid so far: ``batch_id``, ``row_id``, ``outcome``,
        ``amount_fen``, ``delivered`` (the result was released). Orders still waiting for funds are left out."""
        frames = [
            s.truth.select(pl.lit(b).alias("batch_id"), "row_id", "outcome", "amount_fen", "delivered")
            for b, s in self._orders.items()
            if s.paid
        ]  # a reversed row shows ``reversed`` from the call that reported its money back
        if frames:
            return pl.concat(frames)
        schema = {"batch_id": pl.String(), "row_id": pl.Int64(), "outcome": pl.String(), "amount_fen": pl.Int64()}
        return pl.DataFrame(schema={**schema, "delivered": pl.Boolean()})

    def accepted(self, batch_id: str) -> bool:
        """Whether an order was accepted under ``batch_id``."""
        return batch_id in self._orders

    @property
    def withdrawn(self) -> frozenset[str]:
        """Batches whose orders were withdrawn before their money arrived."""
        return frozenset(b for b, s in self._orders.items() if s.withdrawn)

    @property
    def reversals(self) -> pl.DataFrame:
        """Every payment whose money came back (退汇): ``batch_id``, ``row_id``, ``account``, ``amount_fen``."""
        return pl.concat(self._reversals) if self._reversals else pl.DataFrame(schema=_PAYMENT_SCHEMA)

    @property
    def payments(self) -> pl.DataFrame:
        """Every payment the bank made: ``batch_id``, ``row_id``, ``account``, ``amount_fen`` (bank-internal)."""
        return pl.concat(self._payments) if self._payments else pl.DataFrame(schema=_PAYMENT_SCHEMA)

    @property
    def sms(self) -> pl.DataFrame:
        """Every SMS sent to a payee: ``batch_id``, ``row_id``, ``account_masked``, ``item``, ``period``,
        ``amount_fen``, ``text`` (the account shows its last 4 digits only)."""
        return pl.concat(self._sms) if self._sms else pl.DataFrame(schema=SMS_SCHEMA)

    def paid_fen(self, batch_id: str) -> int:
        """Money the bank paid out for a batch."""
        p = self.payments
        return int(p.filter(pl.col("batch_id") == batch_id).get_column("amount_fen").sum())
