"""The invariant checker finds each broken invariant in a doctored store snapshot, and nothing in a sound one."""

from __future__ import annotations

import datetime as dt

import attrs
import polars as pl
import pytest

from yikatong.records import EXCEPTION_SCHEMA, LEDGER_SCHEMA, AuditEntry
from yikatong.workflow.audit import chain
from yikatong.workflow.invariants import Snapshot, Violation, check_invariants, find_personal_data

AT = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
IDS = ["500241193407162256", "110105193809297088", "500243193505097315", "500241194001010011"]
ACCOUNTS = ["6217009180627179034", "6217005532378155817", "6217007029827601739", "6217000000000000018"]


def rows_of(batch_id: str, statuses: list[str], *, corrects_row_id: list[int | None] | None = None) -> pl.DataFrame:
    n = len(statuses)
    return pl.DataFrame(
        {
            "batch_id": [batch_id] * n,
            "row_id": list(range(1, n + 1)),
            "id_number": IDS[:n],
            "account": ACCOUNTS[:n],
            "amount_fen": [10_000] * n,
            "status": statuses,
            "deadline": [dt.date(2026, 12, 5) if s == "returned" else None for s in statuses],
            "note": [None] * n,
            "corrects_row_id": corrects_row_id or [None] * n,
        },
        schema={
            "batch_id": pl.String,
            "row_id": pl.Int64,
            "id_number": pl.String,
            "account": pl.String,
            "amount_fen": pl.Int64,
            "status": pl.String,
            "deadline": pl.Date,
            "note": pl.String,
            "corrects_row_id": pl.Int64,
        },
    )


def ledger_of(rows: pl.DataFrame, statuses: list[str]) -> pl.DataFrame:
    return rows.select(
        "batch_id",
        "row_id",
        "id_number",
        item=pl.lit("GLJT"),
        period=pl.lit("2026-11"),
        amount_fen="amount_fen",
        status=pl.Series(statuses),
        updated_at=pl.lit(AT),
    ).cast(LEDGER_SCHEMA)  # type: ignore[arg-type]


def audit_for(states: dict[str, str]) -> tuple[AuditEntry, ...]:
    drafts = [
        {
            "at": AT,
            "actor": "u1",
            "role": "department",
            "action": "step",
            "batch_id": b,
            "from_state": "",
            "to_state": s,
        }
        for b, s in states.items()
    ]
    return chain(None, drafts)


def batches_of(*spec: tuple[str, str, str | None, int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "batch_id": [s[0] for s in spec],
            "item": ["GLJT"] * len(spec),
            "period": ["2026-11"] * len(spec),
            "state": [s[1] for s in spec],
            "corrects": [s[2] for s in spec],
            "funded_fen": [s[3] for s in spec],
        },
        schema={
            "batch_id": pl.String,
            "item": pl.String,
            "period": pl.String,
            "state": pl.String,
            "corrects": pl.String,
            "funded_fen": pl.Int64,
        },
    )


def sound() -> Snapshot:
    """B1 settled and published: rows 1-2 paid, row 3 failed and returned then reissued by B2, row 4 blocked."""
    b1 = rows_of("B1", ["paid", "paid", "reissued", "returned"])
    b2 = rows_of("B2", ["paid"], corrects_row_id=[3]).with_columns(
        id_number=pl.lit(IDS[2]), account=pl.lit(ACCOUNTS[2])
    )
    ledger = pl.concat([ledger_of(b1.head(3), ["paid", "paid", "failed"]), ledger_of(b2, ["paid"])])
    return Snapshot(
        batches=batches_of(("B1", "published", None, 30_000), ("B2", "settled", "B1", 10_000)),
        rows=pl.concat([b1, b2]),
        ledger=ledger,
        exceptions=pl.DataFrame(schema=EXCEPTION_SCHEMA),
        audit=audit_for({"B1": "published", "B2": "settled"}),
    )


def names(violations: list[Violation]) -> set[str]:
    return {v.name for v in violations}


def test_a_sound_store_has_no_violations() -> None:
    assert check_invariants(sound(), final=True) == []


def test_a_person_paid_twice_in_the_ledger_breaks_invariant_1() -> None:
    snap = sound()
    doctored = snap.ledger.with_columns(
        status=pl.when((pl.col("batch_id") == "B1") & (pl.col("row_id") == 3)).then(pl.lit("paid")).otherwise("status")
    )
    found = check_invariants(attrs.evolve(snap, ledger=doctored))
    assert any(v.invariant == 1 and "ledger" in v.detail for v in found)


def test_a_person_really_paid_twice_by_the_bank_breaks_invariant_1() -> None:
    truth = pl.DataFrame(
        {"batch_id": ["B1", "B1", "B1", "B2"], "row_id": [1, 2, 3, 1], "outcome": ["paid"] * 4},
        schema={"batch_id": pl.String, "row_id": pl.Int64, "outcome": pl.String},
    ).with_columns(amount_fen=pl.lit(10_000, pl.Int64))
    found = check_invariants(sound(), bank_truth=truth)
    assert any(v.invariant == 1 and "bank" in v.detail for v in found)


def test_funding_other_than_the_sum_sent_breaks_invariant_2() -> None:
    snap = sound()
    doctored = snap.batches.with_columns(funded_fen=pl.lit(30_001, pl.Int64))
    found = check_invariants(attrs.evolve(snap, batches=doctored))
    assert {v.invariant for v in found} == {2, 7}, "the fen too many is neither paid, held nor refunded either"
    assert any("funded 30001" in v.detail for v in found)


def test_a_settled_batch_whose_paid_and_failed_do_not_add_up_breaks_invariant_2() -> None:
    snap = sound()
    doctored = snap.ledger.with_columns(
        amount_fen=pl.when(pl.col("status") == "failed").then(pl.lit(1)).otherwise("amount_fen")
    )
    found = check_invariants(attrs.evolve(snap, ledger=doctored))
    assert 2 in {v.invariant for v in found}


def test_a_treasury_funding_a_batch_twice_breaks_invariant_2() -> None:
    fundings = pl.DataFrame({"batch_id": ["B1", "B1"], "amount_fen": [30_000, 30_000]})
    found = check_invariants(sound(), treasury_fundings=fundings)
    assert any(v.invariant == 2 and "2 times" in v.detail for v in found)


def test_a_row_left_sent_in_a_published_batch_breaks_invariant_3() -> None:
    snap = sound()
    doctored = snap.rows.with_columns(
        status=pl.when((pl.col("batch_id") == "B1") & (pl.col("row_id") == 1)).then(pl.lit("sent")).otherwise("status")
    )
    found = check_invariants(attrs.evolve(snap, rows=doctored))
    assert 3 in {v.invariant for v in found}


def test_a_failed_row_not_returned_by_the_end_breaks_invariant_3_only_at_the_end() -> None:
    snap = sound()
    b3 = rows_of("B3", ["failed"]).with_columns(id_number=pl.lit("500241194501010013"))
    snap = attrs.evolve(
        snap,
        batches=pl.concat([snap.batches, batches_of(("B3", "settled", None, 10_000))]),
        rows=pl.concat([snap.rows, b3]),
        ledger=pl.concat([snap.ledger, ledger_of(b3, ["failed"])]),
        audit=audit_for({"B1": "published", "B2": "settled", "B3": "settled"}),
    )
    assert check_invariants(snap) == []
    assert {v.invariant for v in check_invariants(snap, final=True)} == {3}


def test_a_reissued_row_without_a_paid_correction_breaks_invariant_3() -> None:
    snap = sound()
    doctored = snap.rows.filter(pl.col("batch_id") != "B2")
    found = check_invariants(attrs.evolve(snap, rows=doctored))
    assert any(v.invariant == 3 and "reissued" in v.detail for v in found)


def test_a_correction_with_a_larger_amount_breaks_invariant_3() -> None:
    snap = sound()
    doctored = snap.rows.with_columns(
        amount_fen=pl.when(pl.col("batch_id") == "B2").then(pl.lit(20_000, pl.Int64)).otherwise("amount_fen")
    )
    found = check_invariants(attrs.evolve(snap, rows=doctored))
    assert any(v.invariant == 3 and "correction row" in v.detail for v in found)


def test_an_applied_contradicting_result_breaks_invariant_4() -> None:
    snap = sound()
    exceptions = pl.DataFrame(
        {
            "batch_id": ["B1"],
            "row_id": [1],
            "kind": ["contradicts_final"],
            "outcome": ["paid"],
            "amount_fen": [10_000],
            "expected_fen": [10_000],
            "detail": ["contradicts_final"],
            "at": [AT],
        },
        schema=EXCEPTION_SCHEMA,
    )
    assert check_invariants(attrs.evolve(snap, exceptions=exceptions)) != []
    assert {v.invariant for v in check_invariants(attrs.evolve(snap, exceptions=exceptions))} == {4}


def test_a_row_whose_outcome_differs_from_what_the_bank_did_breaks_invariant_4() -> None:
    truth = pl.DataFrame(
        {"batch_id": ["B1", "B1", "B1", "B2"], "row_id": [1, 2, 3, 1], "outcome": ["paid", "failed", "failed", "paid"]},
        schema={"batch_id": pl.String, "row_id": pl.Int64, "outcome": pl.String},
    ).with_columns(amount_fen=pl.lit(10_000, pl.Int64))
    found = check_invariants(sound(), bank_truth=truth)
    assert any(v.invariant == 4 and "row 2" in v.detail for v in found)


@pytest.mark.parametrize("tamper", ["edit", "remove", "reorder"])
def test_a_tampered_audit_log_breaks_invariant_5(tamper: str) -> None:
    snap = sound()
    entries = list(audit_for({"B0": "draft", "B1": "published", "B2": "settled"}))
    if tamper == "edit":
        entries[1] = attrs.evolve(entries[1], reason="changed")
    elif tamper == "remove":
        del entries[1]
    else:
        entries[1], entries[2] = entries[2], entries[1]
    found = check_invariants(attrs.evolve(snap, audit=tuple(entries)))
    assert any(v.invariant == 5 and v.batch_id == "" for v in found)


def test_a_batch_whose_state_the_audit_log_never_recorded_breaks_invariant_5() -> None:
    snap = sound()
    found = check_invariants(attrs.evolve(snap, audit=audit_for({"B1": "settled", "B2": "settled"})))
    assert [v.batch_id for v in found if v.invariant == 5] == ["B1"]


def test_a_full_id_or_account_in_a_text_breaks_invariant_6_and_the_report_masks_it() -> None:
    texts = ["batch B1 refused", f"row 2 of person {IDS[1]} failed", f"account {ACCOUNTS[0]} frozen"]
    found = check_invariants(sound(), texts=texts)
    assert [v.invariant for v in found] == [6, 6]
    for v in found:
        assert IDS[1] not in v.detail
        assert ACCOUNTS[0] not in v.detail


def test_masked_values_are_not_personal_data() -> None:
    people = sound().rows
    assert find_personal_data(["500241********2256", "****9034", "何*"], people) == []


def test_a_note_carrying_a_full_account_breaks_invariant_6() -> None:
    snap = sound()
    doctored = snap.rows.with_columns(note=pl.lit(f"户名不符 {ACCOUNTS[1]}"))
    assert 6 in {v.invariant for v in check_invariants(attrs.evolve(snap, rows=doctored))}


def test_a_failed_row_in_a_published_batch_breaks_invariant_3() -> None:
    snap = sound()
    doctored = snap.rows.with_columns(
        status=pl.when((pl.col("batch_id") == "B1") & (pl.col("row_id") == 4))
        .then(pl.lit("failed"))
        .otherwise("status")
    )
    found = check_invariants(attrs.evolve(snap, rows=doctored))
    assert any(v.invariant == 3 and "failed in a published batch" in v.detail for v in found)


def test_a_row_reissued_through_a_correction_of_a_correction_holds() -> None:
    snap = sound()
    b2 = rows_of("B2", ["reissued"], corrects_row_id=[3]).with_columns(
        id_number=pl.lit(IDS[2]), account=pl.lit(ACCOUNTS[2])
    )
    b3 = rows_of("B3", ["paid"], corrects_row_id=[1]).with_columns(
        id_number=pl.lit(IDS[2]), account=pl.lit(ACCOUNTS[2])
    )
    ledger = pl.concat(
        [snap.ledger.filter(pl.col("batch_id") == "B1"), ledger_of(b2, ["failed"]), ledger_of(b3, ["paid"])]
    )
    chained = attrs.evolve(
        snap,
        batches=batches_of(
            ("B1", "published", None, 30_000), ("B2", "published", "B1", 10_000), ("B3", "settled", "B2", 10_000)
        ),
        rows=pl.concat([snap.rows.filter(pl.col("batch_id") == "B1"), b2, b3]),
        ledger=ledger,
        audit=audit_for({"B1": "published", "B2": "published", "B3": "settled"}),
    )
    assert check_invariants(chained, final=True) == []
    broken = attrs.evolve(chained, rows=chained.rows.filter(pl.col("batch_id") != "B3"))
    assert any("reissued" in v.detail for v in check_invariants(broken))


def with_money(snap: Snapshot, **figures: list[int]) -> Snapshot:
    return attrs.evolve(snap, batches=snap.batches.with_columns(pl.Series(k, v, pl.Int64) for k, v in figures.items()))


def test_a_sound_store_with_a_reversal_a_draw_and_a_refund_has_no_violations() -> None:
    """B1: row 2 paid then reversed and returned, row 3 failed; B2 corrects row 3 with money B1 held; the reversed
    row's money was refunded."""
    snap = sound()
    rows = snap.rows.with_columns(
        status=pl.when((pl.col("batch_id") == "B1") & (pl.col("row_id") == 2))
        .then(pl.lit("returned"))
        .otherwise(pl.col("status")),
        deadline=pl.when((pl.col("batch_id") == "B1") & (pl.col("row_id") == 2))
        .then(pl.lit(dt.date(2026, 12, 5)))
        .otherwise(pl.col("deadline")),
    )
    ledger = snap.ledger.with_columns(
        status=pl.when((pl.col("batch_id") == "B1") & (pl.col("row_id") == 2))
        .then(pl.lit("reversed"))
        .otherwise(pl.col("status"))
    )
    doctored = with_money(
        attrs.evolve(snap, rows=rows, ledger=ledger),
        funded_fen=[30_000, 0],
        drawn_fen=[0, 10_000],
        refunded_fen=[10_000, 0],
    )
    refunds = pl.DataFrame({"batch_id": ["B1"], "amount_fen": [10_000]})
    assert check_invariants(doctored, treasury_refunds=refunds, final=True) == []


def test_refunding_more_than_the_bank_holds_breaks_invariant_7() -> None:
    found = check_invariants(with_money(sound(), drawn_fen=[0, 0], refunded_fen=[20_000, 0]))
    assert 7 in {v.invariant for v in found}
    assert any("more than the bank held" in v.detail for v in found)


def test_a_refund_the_treasury_never_received_breaks_invariant_7() -> None:
    snap = with_money(sound(), drawn_fen=[0, 0], refunded_fen=[5_000, 0])
    found = check_invariants(
        snap, treasury_refunds=pl.DataFrame(schema={"batch_id": pl.String, "amount_fen": pl.Int64})
    )
    assert any(v.invariant == 7 and "the treasury took back 0 fen" in v.detail for v in found)


def test_a_refund_the_workflow_has_not_recorded_yet_is_a_violation_only_at_the_end() -> None:
    refunds = pl.DataFrame({"batch_id": ["B1"], "amount_fen": [5_000]})
    assert check_invariants(sound(), treasury_refunds=refunds) == []
    found = check_invariants(sound(), treasury_refunds=refunds, final=True)
    assert {v.invariant for v in found} == {7}


def test_money_drawn_by_a_batch_that_corrects_nothing_breaks_invariant_7() -> None:
    snap = sound()
    doctored = with_money(snap, drawn_fen=[10_000, 0], funded_fen=[20_000, 10_000])
    found = check_invariants(doctored)
    assert any(v.invariant == 7 and "corrects no batch" in v.detail for v in found)
