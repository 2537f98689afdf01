"""Invariant 7 per paying bank on plain Python rows: the violations
[`bank_checks`][yikatong.workflow._money_checks.bank_checks] finds with Polars, clause by clause, without Polars'
cost per query (see [`yikatong.workflow._plain_checks`][] for why and how nulls are treated).

[`bank_money_lazy`][yikatong.workflow.funds.bank_money_lazy] is repeated here as ``_bank_money``: per batch and
bank what was sent, paid, reversed, failed, in flight, drawn, passed on and refunded, and so what is held.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final

from yikatong.workflow._plain_more import held_fen
from yikatong.workflow._plain_rows import Row, by_keys, grouped, ne, text, violations
from yikatong.workflow.funds import BANK_MONEY_COLUMNS, FUNDED_STATES

__all__ = ["plain_bank_checks"]

_BEFORE_DISPATCH: Final = frozenset({"draft", "submitted", "validated", "rejected"})
_FIGURES: Final = BANK_MONEY_COLUMNS[BANK_MONEY_COLUMNS.index("drawn_fen") : BANK_MONEY_COLUMNS.index("held_fen")]
"""The figures per batch and paying bank that are added up (``drawn_fen`` … ``refunded_fen``); ``funded_fen`` and
``held_fen`` are worked out from them."""

Found = list[tuple[int, str, str]]
Key = tuple[Any, str]


def plain_bank_checks(
    batches: Sequence[Row], ledger: Sequence[Row], rows: Sequence[Row] | None, fundings: Sequence[Row] | None
) -> Found:
    """Invariant 7 per paying bank, as (invariant, batch_id, detail) in the order ``bank_checks`` gives them.

    Args:
        batches: Batch headers with ``batch_id``, ``state``, ``corrects``, ``drawn_fen``, ``refunded_fen`` and, when
            known, ``drawn_by_bank`` / ``refunded_by_bank`` (lists of ``{"bank", "fen"}``).
        ledger: Ledger entries (``batch_id``, ``row_id``, ``amount_fen``, ``status``).
        rows: Rows with ``batch_id``, ``row_id``, ``bank``, or None when no row has a bank column.
        fundings: What the treasury funded per bank (``batch_id``, ``bank``, ``amount_fen``), or None when its books
            do not say per bank.
    """
    money = _bank_money(batches, ledger, rows)
    out = violations(
        7,
        (
            (
                m["batch_id"],
                f"at bank {text(m['bank'])}: passed on {m['passed_on_fen']} + refunded {m['refunded_fen']} fen, more"
                f" than that bank held of the batch (held {m['held_fen']} fen)",
            )
            for m in money
            if m["held_fen"] < 0
        ),
    )
    out += violations(
        7,
        (
            (
                m["batch_id"],
                f"drew {m['drawn_fen']} fen at bank {text(m['bank'])} but sent only {m['sent_fen']} fen there",
            )
            for m in money
            if m["state"] is not None and m["state"] not in _BEFORE_DISPATCH and m["drawn_fen"] > m["sent_fen"]
        ),
    )
    out += _breakdowns_add_up(money, batches)
    out += _identity_per_bank(money)
    if fundings is not None:
        out += _treasury_per_bank(money, fundings)
    return out


def _bank_money(batches: Sequence[Row], ledger: Sequence[Row], rows: Sequence[Row] | None) -> list[Row]:
    """One dict per (batch, bank) in ``BANK_MONEY_COLUMNS``, as ``bank_money_lazy`` computes them."""
    where = by_keys(rows, ("batch_id", "row_id")) if rows is not None else {}
    sums: dict[Key, dict[str, int]] = {}
    for entry in ledger:
        matched = where.get((entry["batch_id"], entry["row_id"]), []) if rows is not None else []
        banks = [m["bank"] or "" for m in matched] or [""]
        for bank in banks:
            _add_entry(sums.setdefault((entry["batch_id"], bank), {}), entry)
    drawn = _breakdown(batches, "drawn_by_bank", "drawn_fen")
    refunded = _breakdown(batches, "refunded_by_bank", "refunded_fen")
    heads_at = by_keys(batches, ("batch_id",))
    passed_on: dict[Key, int] = {}
    for (batch_id, bank), fen in drawn.items():
        for head in heads_at.get((batch_id,), []) if batch_id is not None else []:
            if head["corrects"] is not None:
                key = (head["corrects"], bank)
                passed_on[key] = passed_on.get(key, 0) + fen
    keys = dict.fromkeys([*sums, *drawn, *refunded, *passed_on])
    out: list[Row] = []
    for key in keys:
        batch_id, bank = key
        if batch_id is None:
            continue
        figures = dict.fromkeys(_FIGURES, 0)
        if bank is not None:  # as in a join, a null key matches none of the parts
            figures |= sums.get(key, {})
            figures |= {"drawn_fen": drawn.get(key, 0), "refunded_fen": refunded.get(key, 0)}
            figures["passed_on_fen"] = passed_on.get(key, 0)
        for head in heads_at.get((batch_id,), []):
            funded = head["state"] in FUNDED_STATES
            m = {
                "batch_id": batch_id,
                "bank": bank,
                "state": head["state"],
                "corrects": head["corrects"],
                **figures,
                "funded_fen": figures["sent_fen"] - figures["drawn_fen"] if funded else 0,
            }
            out.append({**m, "held_fen": held_fen(m)})
    return out


def _add_entry(figures: dict[str, int], entry: Row) -> None:
    status, fen = entry["status"], entry["amount_fen"] or 0
    if status is None:
        return
    named = {
        "sent_fen": status != "withdrawn",
        "paid_fen": status in ("paid", "reversed"),
        "reversed_fen": status == "reversed",
        "failed_fen": status == "failed",
        "in_flight_fen": status == "sent",
    }
    for name, counts in named.items():
        figures[name] = figures.get(name, 0) + (fen if counts else 0)


def _breakdown(batches: Iterable[Row], column: str, scalar: str) -> dict[Key, int]:
    """(batch_id, bank) → fen from a per-bank breakdown; a header without one counts its whole ``scalar`` under
    ``""`` (when it is not 0)."""
    out: dict[Key, int] = {}
    for head in batches:
        listed = head.get(column) or []
        whole = head.get(scalar) or 0
        parts = [(p["bank"], p["fen"]) for p in listed] if listed else ([("", whole)] if whole != 0 else [])
        for bank, fen in parts:
            key = (head["batch_id"], bank)
            out[key] = out.get(key, 0) + (fen or 0)
    return out


def _breakdowns_add_up(money: Sequence[Row], batches: Sequence[Row]) -> Found:
    per_batch = grouped(money, ("batch_id",))
    found: list[tuple[Any, str]] = []
    for (batch_id,), members in per_batch.items():
        drawn_banks = sum(m["drawn_fen"] for m in members)
        refunded_banks = sum(m["refunded_fen"] for m in members)
        for head in by_keys(batches, ("batch_id",)).get((batch_id,), []):
            drawn, refunded = head.get("drawn_fen"), head.get("refunded_fen")
            if ne(drawn_banks, drawn) or ne(refunded_banks, refunded):
                found.append(
                    (
                        batch_id,
                        f"drawn {text(drawn)} / refunded {text(refunded)} fen, but its banks add up to {drawn_banks}"
                        f" / {refunded_banks} fen",
                    )
                )
    return violations(7, found)


def _identity_per_bank(money: Sequence[Row]) -> Found:
    found: list[tuple[Any, str]] = []
    for (bank,), members in grouped(money, ("bank",)).items():
        funded = sum(m["funded_fen"] for m in members)
        got = sum(m["paid_fen"] - m["reversed_fen"] + m["held_fen"] + m["refunded_fen"] for m in members)
        if funded != got:
            detail = f"at bank {text(bank)}: funded {funded} fen ≠ paid − reversed + held + refunded = {got} fen"
            found.append(("", detail))
    return violations(7, found)


def _treasury_per_bank(money: Sequence[Row], fundings: Sequence[Row]) -> Found:
    told: dict[Key, int] = {}
    for f in fundings:
        key = (f["batch_id"], f["bank"] if f["bank"] is not None else "")
        told[key] = told.get(key, 0) + (f["amount_fen"] or 0)
    funded = [m for m in money if m["state"] in FUNDED_STATES]
    funded_batches = {m["batch_id"] for m in funded}
    pairs: list[tuple[Any, str, int, int]] = [
        (m["batch_id"], m["bank"], m["funded_fen"], told.get((m["batch_id"], m["bank"]), 0)) for m in funded
    ]
    seen = {(m["batch_id"], m["bank"]) for m in funded}
    pairs += [(b, bank, 0, fen) for (b, bank), fen in told.items() if (b, bank) not in seen]
    return violations(
        7,
        (
            (
                b,
                f"the treasury funded bank {text(bank)} {fen_told} fen, the rows sent there less the draw there need"
                f" {fen_needed} fen",
            )
            for b, bank, fen_needed, fen_told in pairs
            if b in funded_batches and fen_needed != fen_told
        ),
    )
