"""The frame checks of invariants 1–4 and 7 on plain Python rows: the same violations as
[`yikatong.workflow._invariant_checks`][] finds with Polars, without Polars' cost per query.

A simulation checks every invariant after every step of a store of a few hundred rows; there one Polars query plan
of dozens of small joins and group-bys costs far more than reading the rows once and walking them in Python. The
checks here repeat the Polars ones clause by clause, with Polars' handling of nulls (a comparison with a null is
neither true nor false, so a filter drops it; joins never match a null key) and its order (rows in the order of the
left frame, groups in the order they first appear), and report at most the same few examples per check. The
differential tests (``tests/unit/test_invariants_plain.py``) hold the two to the same answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Final

from yikatong.workflow import _violations
from yikatong.workflow._plain_more import held_checks, refused_checks, terminal_checks
from yikatong.workflow._plain_rows import Row, by_keys, grouped, ne, text, violations

__all__ = ["plain_checks"]

_FUNDED_STATES: Final = frozenset({"funded", "disbursing", "settled", "published"})
_SETTLED_STATES: Final = frozenset(_violations.SETTLED_STATES)
_UNFUNDED_STATES: Final = frozenset(
    {"draft", "submitted", "validated", "rejected", "dispatched", "funding_requested", "cancelled"}
)
_BANK_OUTCOMES: Final = frozenset({"paid", "failed", "reversed"})
_OUTCOME_OF_STATUS: Final = {
    "paid": "paid",
    "failed": "failed",
    "reversed": "reversed",
    "returned": "failed",
    "reissued": "failed",
    "expired": "failed",
}

Found = list[tuple[int, str, str]]


def outcome(status: Any, ledger_status: Any) -> str | None:
    """The bank outcome a row status stands for (as ``_invariant_checks._outcome``)."""
    if status in ("returned", "reissued", "expired") and ledger_status == "reversed":
        return "reversed"
    return _OUTCOME_OF_STATUS.get(status) if status is not None else None


def plain_checks(
    batches: Sequence[Row],
    rows: Sequence[Row],
    ledger: Sequence[Row],
    exceptions: Sequence[Row],
    *,
    bank_truth: Sequence[Row] | None,
    treasury_fundings: Sequence[Row] | None,
    final: bool,
    treasury_refunds: Sequence[Row] | None = None,
) -> Found:
    """Every frame check of invariants 1–4 and 7 on rows given as dicts, as (invariant, batch_id, detail) in the
    order [`frame_checks`][yikatong.workflow._invariant_checks.frame_checks] gives them."""
    heads = [{"drawn_fen": 0, "refunded_fen": 0, **b} for b in batches]
    of_batch = by_keys(heads, ("batch_id",))
    r: list[Row] = []
    for row in rows:
        matches = of_batch.get((row.get("batch_id"),), [])
        for b in matches or [{}]:
            r.append({**row, "item": b.get("item"), "period": b.get("period"), "state": b.get("state")})
    out: Found = []
    out += _paid_once(r, ledger, bank_truth)
    out += _money(heads, r, ledger, treasury_fundings)
    out += terminal_checks(heads, r, ledger, final=final)
    out += refused_checks(r, ledger, exceptions, bank_truth, outcome=outcome)
    out += held_checks(heads, ledger, treasury_refunds, final=final)
    return out


def _twice(lf: Iterable[Row], what: str) -> Found:
    groups = grouped(lf, ("id_number", "item", "period"))

    def found() -> Iterator[tuple[Any, str]]:
        for (_, item, period), members in groups.items():
            if len(members) > 1:
                batches = sorted({m["batch_id"] for m in members}, key=lambda b: (b is not None, b or ""))
                listed = ", ".join(b for b in batches if b is not None)
                detail = (
                    f"{what}: one (person, item {text(item)}, period {text(period)}) {len(members)} times, "
                    f"in batches {listed}"
                )
                yield batches[0], detail

    return violations(1, found())


def _paid_once(r: Sequence[Row], led: Sequence[Row], truth: Sequence[Row] | None) -> Found:
    out = _twice((e for e in led if e["status"] == "paid"), "paid twice in the ledger")
    out += _twice((e for e in led if e["status"] in ("sent", "paid")), "held twice in the ledger")
    out += _twice((x for x in r if x["status"] == "paid" and x["id_number"] is not None), "rows paid twice")
    if truth is not None:
        rows_at = by_keys(r, ("batch_id", "row_id"))
        keyed = [row for t in truth if t["outcome"] == "paid" for row in rows_at.get((t["batch_id"], t["row_id"]), [])]
        out += _twice(keyed, "really paid twice by the bank")
    return out


def _sent(led: Sequence[Row]) -> list[Row]:
    return [e for e in led if ne(e["status"], "withdrawn")]


def _money(b: Sequence[Row], r: Sequence[Row], led: Sequence[Row], fundings: Sequence[Row] | None) -> Found:
    sent = _sent(led)
    per_batch = grouped(sent, ("batch_id",))
    sums: list[Row] = []
    for head in b:
        entries = per_batch.get((head["batch_id"],), []) if head["batch_id"] is not None else []

        def total(status: str | None, entries: list[Row] = entries) -> int:
            return sum(e["amount_fen"] or 0 for e in entries if status is None or e["status"] == status)

        sums.append(
            {
                **head,
                "sent_fen": total(None),
                "paid_fen": total("paid"),
                "failed_fen": total("failed"),
                "reversed_fen": total("reversed"),
                "open": sum(1 for e in entries if e["status"] == "sent"),
            }
        )
    settled = [s for s in sums if s["state"] in _SETTLED_STATES]
    rows_at = by_keys(r, ("batch_id", "row_id"))
    both: list[Row] = []
    for e in sent:
        for row in rows_at.get((e["batch_id"], e["row_id"]), []) or [{}]:
            both.append(
                {
                    "batch_id": e["batch_id"],
                    "row_id": e["row_id"],
                    "amount_fen": e["amount_fen"],
                    "ledger_status": e["status"],
                    "status": row.get("status"),
                    "row_fen": row.get("amount_fen"),
                }
            )

    def each(items: Iterable[Row], keep: Callable[[Row], bool], detail: Callable[[Row], str]) -> Found:
        return violations(2, ((x["batch_id"], detail(x)) for x in items if keep(x)))

    out = each(
        sums,
        lambda s: s["state"] in _FUNDED_STATES and ne(_add(s["funded_fen"], s["drawn_fen"]), s["sent_fen"]),
        lambda s: (
            f"funded {text(s['funded_fen'])} + drawn {text(s['drawn_fen'])} fen but {text(s['sent_fen'])} fen sent"
        ),
    )
    out += each(
        sums,
        lambda s: s["state"] in _UNFUNDED_STATES and ne(s["funded_fen"], 0),
        lambda s: f"state {text(s['state'])} yet {text(s['funded_fen'])} fen funded",
    )
    out += each(
        sums,
        lambda s: s["state"] in _UNFUNDED_STATES and s["state"] != "funding_requested" and ne(s["drawn_fen"], 0),
        lambda s: f"state {text(s['state'])} yet {text(s['drawn_fen'])} fen drawn from the corrected batch",
    )
    out += each(
        settled,
        lambda s: s["open"] > 0,
        lambda s: f"settled with {text(s['open'])} rows still sent and without a result",
    )
    out += each(
        settled,
        lambda s: s["paid_fen"] + s["failed_fen"] + s["reversed_fen"] != s["sent_fen"],
        lambda s: (
            f"paid {text(s['paid_fen'])} + failed {text(s['failed_fen'])} + reversed {text(s['reversed_fen'])}"
            f" ≠ sent {text(s['sent_fen'])} fen"
        ),
    )
    out += each(
        both,
        lambda x: x["row_fen"] is None or ne(x["row_fen"], x["amount_fen"]),
        lambda x: f"ledger amount of row {text(x['row_id'])} differs from the row",
    )
    out += each(
        both,
        lambda x: outcome(x["status"], x["ledger_status"]) != _ledger_outcome(x["ledger_status"]),
        lambda x: f"row {text(x['row_id'])} is {text(x['status'])} but its ledger entry {text(x['ledger_status'])}",
    )
    if fundings is not None:
        times = grouped(fundings, ("batch_id",))
        out += violations(
            2, ((k[0], f"the treasury funded the batch {len(v)} times") for k, v in times.items() if len(v) > 1)
        )
        heads_at = by_keys(b, ("batch_id",))
        out += each(
            (
                {**f, "state": h.get("state"), "funded_fen": h.get("funded_fen")}
                for f in fundings
                for h in heads_at.get((f["batch_id"],), []) or [{}]
            ),
            lambda x: x["state"] in _FUNDED_STATES and ne(x["amount_fen"], x["funded_fen"]),
            lambda x: f"treasury paid {text(x['amount_fen'])} fen, batch records {text(x['funded_fen'])}",
        )
    return out


def _ledger_outcome(status: Any) -> str | None:
    return status if status in _BANK_OUTCOMES else None


def _add(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b
