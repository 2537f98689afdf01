"""Fault rates for the simulated bank and treasury, and the seeded draws behind them.

Every fault of the outside world the workflow must survive is one rate here, so a test can switch on exactly one
(``Faults(duplicate=1.0)``) and the simulation can switch on all of them (``Faults.typical()``). Rates are
probabilities, not money, so they are floats.

Draws are deterministic for a seed: a simulated adapter owns one ``random.Random`` and derives a fresh hash
seed from it for every vectorized draw, so the same seed and the same sequence of calls give the same results.
"""

from __future__ import annotations

import random

import polars as pl
from attrs import field, frozen, validators

__all__ = ["Faults", "uniform"]

_RATE = [validators.instance_of(float), validators.ge(0.0), validators.le(1.0)]
_TWO_POW_64 = float(2**64)


def _rate() -> float:
    return field(default=0.0, converter=float, validator=_RATE)


@frozen(kw_only=True)
class Faults:
    """Which faults the simulated bank and treasury inject, and how often.

    Attributes:
        account_closed: Share of paid rows whose account turns out closed at payment (账户已销户).
        account_frozen: Share of paid rows whose account is frozen at payment (账户冻结).
        name_mismatch: Share of paid rows the bank refuses because the holder name differs (户名不符).
        partial: Chance that one ``results`` call releases only some of the pending rows (results are cumulative:
            every call returns all results released so far).
        duplicate: Chance, per known result and ``results`` call, that the result appears twice in that call.
        out_of_order: Chance that one ``results`` call returns its rows shuffled instead of by ``row_id``.
        contradiction: Chance, per result an earlier call showed unaltered, that a call carries it reversed
            instead (paid then failed, or failed then paid).
        reversal: Share of paid rows whose money comes back after the payee was credited (退汇); the bank reports the
            row ``reversed`` on a later ``results`` call, possibly after the batch settled.
        phantom: Chance, per ``results`` call, of a result for a row that was never sent.
        amount_mismatch: Chance, per released row, that the call releasing it carries it with a different amount
            instead (the true result comes with the next call).
        bank_timeout: Chance that ``submit`` or ``results`` raises ``TimeoutError``; a timed-out submit has been
            accepted half of the time, so a retry is a duplicate submission.
        funding_reject: Chance that the treasury rejects a funding request, with a reason.
        funding_delay: Chance that a funding request stays pending for 1..``max_delay_polls`` status polls.
        max_delay_polls: Longest delay of a delayed funding request, in polls.
        treasury_timeout: Chance that ``request_funding`` raises ``TimeoutError`` (accepted half of the time).
    """

    account_closed: float = _rate()
    account_frozen: float = _rate()
    name_mismatch: float = _rate()
    partial: float = _rate()
    duplicate: float = _rate()
    out_of_order: float = _rate()
    contradiction: float = _rate()
    reversal: float = _rate()
    phantom: float = _rate()
    amount_mismatch: float = _rate()
    bank_timeout: float = _rate()
    funding_reject: float = _rate()
    funding_delay: float = _rate()
    max_delay_polls: int = field(default=3, validator=[validators.instance_of(int), validators.ge(1)])
    treasury_timeout: float = _rate()

    @classmethod
    def none(cls) -> Faults:
        """A well-behaved bank and treasury: every fault off."""
        return cls()

    @classmethod
    def typical(cls) -> Faults:
        """Every fault on at a rate that a few hundred batches exercise many times over."""
        return cls(
            account_closed=0.03,
            account_frozen=0.02,
            name_mismatch=0.02,
            partial=0.4,
            duplicate=0.1,
            out_of_order=0.5,
            contradiction=0.03,
            reversal=0.03,
            phantom=0.15,
            amount_mismatch=0.02,
            bank_timeout=0.1,
            funding_reject=0.1,
            funding_delay=0.3,
            max_delay_polls=3,
            treasury_timeout=0.1,
        )


def uniform(key: pl.Expr, rng: random.Random) -> pl.Expr:
    """A seeded uniform draw in [0, 1) per row, keyed by ``key`` (usually ``row_id``).

    The hash seed comes from ``rng``, so each call is a fresh, reproducible draw; the draw for a row does not depend
    on the frame's order or length.
    """
    return key.hash(seed=rng.getrandbits(63)).cast(pl.Float64) / _TWO_POW_64
