"""Invariants 3, 4 and 7 on plain Python rows, clause by clause as in [`yikatong.workflow._invariant_checks`][] and
[`yikatong.workflow._money_checks`][] (see [`yikatong.workflow._plain_checks`][])."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final

from yikatong.workflow._plain_rows import Row, by_keys, eq, grouped, ne, text, violations
from yikatong.workflow._violations import SETTLED_STATES
from yikatong.workflow.funds import FUNDED_STATES
from yikatong.workflow.statuses import FINAL_STATUSES

__all__ = ["held_checks", "held_fen", "refused_checks", "terminal_checks"]

_OVER_STATES: Final = frozenset({"settled", "published", "rejected", "cancelled", "sent_back"})
_BANK_OUTCOMES: Final = frozenset({"paid", "failed", "reversed"})
_WITH_BANK: Final = frozenset({"sent", *_BANK_OUTCOMES})
"""Ledger and row statuses of a row the bank holds (sent and not withdrawn)."""
_CAME_BACK: Final = frozenset({"returned", "reissued", "expired"})
_ENDED: Final = frozenset({"cancelled", "rejected", "sent_back"})
_KEYS: Final = ("batch_id", "row_id")

Found = list[tuple[int, str, str]]
Outcome = Callable[[Any, Any], "str | None"]


def _loose(row: Row, *, final: bool) -> bool:
    status, state = row["status"], row["state"]
    if status is None:
        return True
    waiting = (
        ((state == "settled" and status == "failed") or status == "reversed") and state in SETTLED_STATES and not final
    )
    return state in _OVER_STATES and status not in FINAL_STATUSES and not waiting


def terminal_checks(b: Sequence[Row], r: Sequence[Row], led: Sequence[Row], *, final: bool) -> Found:
    """Invariant 3: rows of an over batch end in a terminal status; corrections carry returned rows; reissued rows
    were paid again."""
    groups = grouped((x for x in r if _loose(x, final=final)), ("batch_id", "state", "status"))

    def left() -> Iterator[tuple[Any, str]]:
        for (batch_id, state, status), members in groups.items():
            ids = [m["row_id"] for m in members if m["row_id"] is not None]
            first = min(ids) if ids else None
            yield batch_id, f"{len(members)} rows left {text(status)} in a {text(state)} batch (e.g. row {text(first)})"

    out = violations(3, left())
    undated = grouped((x for x in r if x["status"] in ("returned", "expired") and x["deadline"] is None), ("batch_id",))
    out += violations(
        3,
        ((k[0], f"{len(v)} returned or expired rows without a correction deadline") for k, v in undated.items()),
    )
    heads_at = by_keys(b, ("batch_id",))
    originals = by_keys(r, _KEYS)
    fixes: list[Row] = []
    for x in r:
        for h in heads_at.get((x["batch_id"],), []):
            if h["corrects"] is not None:
                fixes += [_fix(x, h, o) for o in originals.get((h["corrects"], x["corrects_row_id"]), []) or [{}]]
    bad = (f for f in fixes if _bad_fix(f))
    out += violations(
        3,
        (
            (
                f["batch_id"],
                f"correction row {text(f['row_id'])} does not carry a returned row of batch {text(f['corrects'])}"
                f" (row {text(f['corrects_row_id'])}: {text(f['orig_status'])})"
                " for the same person and no larger amount",
            )
            for f in bad
        ),
    )
    went = by_keys(led, _KEYS)
    fixed: set[tuple[Any, Any]] = set()
    for f in fixes:
        for e in went.get((f["batch_id"], f["row_id"]), []) or [{}]:
            if f["status"] == "reissued" or e.get("status") in ("paid", "reversed"):
                fixed.add((f["corrects"], f["corrects_row_id"]))
    out += violations(
        3,
        (
            (
                x["batch_id"],
                f"row {text(x['row_id'])} is reissued but no correction row was paid"
                " (directly or through a later correction)",
            )
            for x in r
            if x["status"] == "reissued"
            and (None in (x["batch_id"], x["row_id"]) or (x["batch_id"], x["row_id"]) not in fixed)
        ),
    )
    return out


def _fix(x: Row, head: Row, orig: Row) -> Row:
    return {
        **x,
        "corrects": head["corrects"],
        "fix_state": head["state"],
        "orig_id": orig.get("id_number"),
        "orig_fen": orig.get("amount_fen"),
        "orig_status": orig.get("status"),
    }


def _bad_fix(f: Row) -> bool:
    orig_status = f["orig_status"]
    if orig_status is None:
        return True
    return (
        ne(f["orig_id"], f["id_number"])
        or (f["amount_fen"] is not None and f["orig_fen"] is not None and f["amount_fen"] > f["orig_fen"])
        or orig_status not in _CAME_BACK
        or (
            orig_status == "expired"
            and ne(f["status"], "withdrawn")
            and f["fix_state"] is not None
            and f["fix_state"] not in _ENDED
        )
    )


def refused_checks(
    r: Sequence[Row], led: Sequence[Row], exceptions: Sequence[Row], truth: Sequence[Row] | None, *, outcome: Outcome
) -> Found:
    """Invariant 4: a refused bank result was never applied, and rows agree with what the bank really did."""
    rows_at = by_keys(r, _KEYS)
    ledger_at = by_keys(led, _KEYS)
    ex: list[Row] = []
    for e in exceptions:
        key = (e["batch_id"], e["row_id"])
        for row in rows_at.get(key, []) or [{}]:
            for entry in ledger_at.get(key, []) or [{}]:
                status, ledger_status = row.get("status"), entry.get("status")
                ex.append(
                    {
                        **e,
                        "status": status,
                        "row_fen": row.get("amount_fen"),
                        "ledger_status": ledger_status,
                        "now": outcome(status, ledger_status),
                    }
                )
    wrong: dict[str, Callable[[Row], bool]] = {
        "unknown_row": lambda x: (
            x["status"] is not None and (x["ledger_status"] in _WITH_BANK or x["status"] in _WITH_BANK)
        ),
        "amount_mismatch": lambda x: x["status"] is None or eq(x["row_fen"], x["amount_fen"]),
        "contradicts_final": lambda x: x["now"] is None or eq(x["now"], x["outcome"]),
    }
    out: Found = []
    for kind, condition in wrong.items():
        out += violations(
            4,
            (
                (
                    x["batch_id"],
                    f"{kind} exception for row {text(x['row_id'])} ({text(x['outcome'])})"
                    f" but the row is {text(x['status'])}",
                )
                for x in ex
                if x["kind"] == kind and condition(x)
            ),
        )
    if truth is not None:
        went = by_keys((e for e in led if e["status"] in _BANK_OUTCOMES), _KEYS)
        true_at = by_keys(truth, _KEYS)

        def disagree() -> Iterator[tuple[Any, str]]:
            for x in r:
                key = (x["batch_id"], x["row_id"])
                for entry in went.get(key, []):
                    now = outcome(x["status"], entry["status"])
                    if now is None:
                        continue
                    for t in true_at.get(key, []) or [{}]:
                        true_outcome, true_fen = t.get("outcome"), t.get("amount_fen")
                        if true_outcome is None or ne(now, true_outcome) or ne(true_fen, x["amount_fen"]):
                            yield (
                                x["batch_id"],
                                f"row {text(x['row_id'])} shows {now} but the bank's real outcome is"
                                f" {text(true_outcome)}",
                            )

        out += violations(4, disagree())
    return out


def held_checks(b: Sequence[Row], led: Sequence[Row], refunds: Sequence[Row] | None, *, final: bool) -> Found:
    """Invariant 7: every fen funded is paid (net of reversals), held at the bank, or refunded."""
    per_batch = grouped(led, ("batch_id",))
    passed_on: dict[Any, int] = {}
    for h in b:
        if h["corrects"] is not None:
            passed_on[h["corrects"]] = passed_on.get(h["corrects"], 0) + (h["drawn_fen"] or 0)
    money: list[Row] = []
    for h in b:
        entries = per_batch.get((h["batch_id"],), []) if h["batch_id"] is not None else []

        def fen(keep: Callable[[Any], bool], entries: list[Row] = entries) -> int:
            return sum(e["amount_fen"] or 0 for e in entries if e["status"] is not None and keep(e["status"]))

        figures = {
            "passed_on_fen": passed_on.get(h["batch_id"], 0) if h["batch_id"] is not None else 0,
            "paid_fen": fen(lambda s: s in ("paid", "reversed")),
            "reversed_fen": fen(lambda s: s == "reversed"),
            "failed_fen": fen(lambda s: s == "failed"),
            "in_flight_fen": fen(lambda s: s == "sent"),
        }
        money.append({**h, **figures, "held_fen": held_fen({**h, **figures})})
    out = violations(
        7,
        (
            (
                m["batch_id"],
                f"passed on {text(m['passed_on_fen'])} + refunded {text(m['refunded_fen'])} fen, more than the bank"
                f" held of the batch (held {text(m['held_fen'])} fen)",
            )
            for m in money
            if m["held_fen"] is not None and m["held_fen"] < 0
        ),
    )
    out += violations(
        7,
        (
            (m["batch_id"], f"state {text(m['state'])} yet {text(m['refunded_fen'])} fen refunded")
            for m in money
            if ne(m["refunded_fen"], 0) and m["state"] is not None and m["state"] not in SETTLED_STATES
        ),
    )
    out += violations(
        7,
        (
            (m["batch_id"], f"drew {text(m['drawn_fen'])} fen but corrects no batch")
            for m in money
            if ne(m["drawn_fen"], 0) and m["corrects"] is None
        ),
    )
    funded = sum(m["funded_fen"] or 0 for m in money)
    parts = [_plus(m) for m in money]
    got = sum(p for p in parts if p is not None)
    if funded != got:
        out += violations(7, [("", f"funded {funded} fen ≠ paid − reversed + held + refunded = {got} fen")])
    if refunds is not None:
        back: dict[Any, int] = {}
        for x in refunds:
            back[x["batch_id"]] = back.get(x["batch_id"], 0) + (x["amount_fen"] or 0)
        joined = [
            (m["batch_id"], back.get(m["batch_id"], 0) if m["batch_id"] is not None else 0, m["refunded_fen"] or 0)
            for m in money
        ]
        known = {m["batch_id"] for m in money if m["batch_id"] is not None}
        joined += [(k, v, 0) for k, v in back.items() if k is None or k not in known]
        out += violations(
            7,
            (
                (k, f"the treasury took back {t} fen, the batch records {mine} fen refunded")
                for k, t, mine in joined
                if t < mine or (t != mine and final)
            ),
        )
    return out


def held_fen(m: Row) -> int | None:
    """``funds``' ``held_fen`` of one batch (or one batch at one bank) from its other figures: in a funded state
    the failed, reversed and in-flight money, before funding what was drawn; less what corrections drew from it
    and what was refunded. None when a figure it reads is null, as in Polars."""
    at_bank = (
        m["failed_fen"] + m["reversed_fen"] + m["in_flight_fen"] if m["state"] in FUNDED_STATES else m["drawn_fen"]
    )
    parts = (at_bank, m["passed_on_fen"], m["refunded_fen"])
    return None if any(p is None for p in parts) else int(at_bank - m["passed_on_fen"] - m["refunded_fen"])


def _plus(m: Row) -> int | None:
    parts = (m["paid_fen"], m["reversed_fen"], m["held_fen"], m["refunded_fen"])
    if any(p is None for p in parts):
        return None
    return int(m["paid_fen"] - m["reversed_fen"] + m["held_fen"] + m["refunded_fen"])
