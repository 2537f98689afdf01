"""One randomized batch life cycle for [`yikatong.simulation`][], with its corrections.

Each step goes through ``World.step``, which checks every invariant afterwards. The choices
are drawn from the life cycle's own seeded generator: cancellations, send-backs (with a faulty outside world more
often after dispatch, so the order is withdrawn from the bank, or refused when its money has arrived), review
decisions, funding routes and who files them, late bank results (reversals 退汇 after publication), corrections,
refunds of money no correction reused, and now and then an actor who must be refused (the maker approving, another
department, finance cancelling, another bank, the audit office writing or refunding, a larger correction).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Final

import polars as pl

from yikatong.catalog import FixedStandard
from yikatong.localtime import local_date, zone_info
from yikatong.records import FundingRoute
from yikatong.schema import ROSTER_SCHEMA
from yikatong.simulation import _roster as _simroster
from yikatong.simulation._world import BANK_CODE, SIM_CATALOG, World
from yikatong.workflow.roles import Actor

__all__ = ["run_lifecycle"]

_MAX_RETRIES: Final = 12
_MAX_RESULT_POLLS: Final = 80
_MAX_DEPTH: Final = 2
_LATE_POLLS: Final = 3
_REASONS: Final = ("材料已核实", "经入户核查属实", "户籍信息一致", "不符合发放条件", "待补充证明材料")


class _Cast:
    """The people acting on one batch."""

    def __init__(self, department: str, town: str | None) -> None:
        self.maker = Actor(f"{department}-经办", "department", department=department)
        self.checker = Actor(f"{department}-审核", "department", department=department)
        self.outsider = Actor("农业农村委-经办", "department", department="农业农村委")
        self.finance = Actor("财政局-国库科", "finance")
        self.finance_checker = Actor("财政局-复核", "finance")
        self.other_bank = Actor("bank-ICBC", "bank", bank="ICBC")
        self.auditor = Actor("审计局-1", "audit")
        self.town = None if town is None else Actor(f"{town}-经办", "town", town=town)
        self.other_town = Actor("外镇-经办", "town", town="外镇")


def _chance(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def _reason(rng: random.Random, w: World, bid: str) -> str:
    """A reason as people type them; now and then with a full ID pasted in (the audit log must mask it)."""
    text = rng.choice(_REASONS)
    if _chance(rng, 0.1):
        rows = w.store.rows(bid)
        if rows.height:
            text += f"（身份证 {rows['id_number'][rng.randrange(rows.height)]}）"
    return text


def run_lifecycle(
    w: World,
    rng: random.Random,
    *,
    rows: int,
    corrects: str | None = None,
    correction: pl.DataFrame | None = None,
    depth: int = 0,
) -> None:
    """Run one batch from creation to publication (or an earlier end), then maybe correct its returned rows."""
    if corrects is None:
        item_code = rng.choice(sorted(SIM_CATALOG.items))
        period = f"2026-{rng.randint(1, 6):02d}"
    else:
        original = w.store.batch(corrects)
        item_code, period = original.item, original.period
    item = SIM_CATALOG[item_code]
    assert isinstance(item.standard, FixedStandard)
    svc = w.service
    cast = _Cast(item.department, None)

    if correction is None:
        people = w.people
        if _chance(rng, 0.3):  # a town's own roster: the town may then file the funding request
            people = people.filter(pl.col("town") == rng.choice(sorted(set(people.get_column("town")))))
        roster, _ = _simroster.roster(people, rows, rng, amount_fen=item.standard.amount, item=item_code)
        declared = roster.height + (1 if _chance(rng, 0.03) else 0)
        if _chance(rng, 0.1):
            w.step(
                "create",
                lambda: svc.create_batch(roster, item=item_code, period=period, actor=cast.outsider, bank=BANK_CODE),
                expect_refusal=True,
            )
        record = w.step(
            "create",
            lambda: svc.create_batch(
                roster, item=item_code, period=period, actor=cast.maker, bank=BANK_CODE, declared_count=declared
            ),
        )
    else:
        assert corrects is not None
        record = w.step("create_correction", lambda: svc.create_correction(corrects, correction, actor=cast.maker))
    if record is None:
        return None
    bid = record.batch_id
    cast = _Cast(item.department, record.town)
    w.counts["batches"] += 1
    w.counts["corrections" if corrects else "originals"] += 1

    def state() -> str:
        return w.store.batch(bid).state

    def end(trigger: str) -> None:
        w.counts[f"ended:{trigger}"] += 1

    if _chance(rng, 0.03):
        w.step("cancel", lambda: svc.cancel(bid, actor=cast.maker, reason=_reason(rng, w, bid)))
        return end("cancelled")
    if _chance(rng, 0.1):
        w.step("cancel", lambda: svc.cancel(bid, actor=cast.finance, reason="财政不得撤销"), expect_refusal=True)
    w.step("submit", lambda: svc.submit(bid, actor=cast.maker))
    if _chance(rng, 0.03):
        w.step("send_back", lambda: svc.send_back(bid, actor=cast.finance, reason=_reason(rng, w, bid)))
        return end("sent_back")
    report = w.step("validate", lambda: svc.validate(bid))
    if report is not None:
        w.texts += report.issues.get_column("evidence").drop_nulls().to_list()
        w.texts += [str(r) for r in report.examples.iter_rows()]
    if state() == "rejected":
        return end("rejected")
    _review(w, rng, bid, cast)
    if _chance(rng, 0.03):
        w.step("cancel", lambda: svc.cancel(bid, actor=cast.maker, reason=_reason(rng, w, bid)))
        return end("cancelled")
    for _ in range(_MAX_RETRIES):
        sent = w.step("dispatch", lambda: svc.dispatch(bid))
        if sent is not None:
            w.counts.update(f"bank_orders:{order.bank or BANK_CODE}" for order in sent.orders)
        if state() == "dispatched" or not w.last_was_timeout:
            break
    if state() != "dispatched":
        w.step("cancel", lambda: svc.cancel(bid, actor=cast.maker, reason="无可发放的行"))
        return end("nothing_to_pay")
    if _chance(rng, 0.08 if w.faulty else 0.03) and _withdraw(w, rng, bid, cast, "send_back"):
        return end("sent_back")
    if w.faulty and _chance(rng, 0.03) and _withdraw(w, rng, bid, cast, "cancel"):
        return end("cancelled")
    if not _fund(w, rng, bid, cast):
        return end(state())
    if _chance(rng, 0.1):
        w.step("disburse", lambda: svc.disburse(bid, actor=cast.other_bank), expect_refusal=True)
    w.step("disburse", lambda: svc.disburse(bid, actor=_paying_banks(w, bid)[0]))
    if not _settle(w, bid, cast):
        return end("unsettled")
    if _chance(rng, 0.2):
        w.step("publish", lambda: svc.publish(bid, actor=cast.auditor), expect_refusal=True)
    w.step("return_failures", lambda: svc.return_failures(bid))
    w.step("publish", lambda: svc.publish(bid, actor=cast.checker))
    end("published" if state() == "published" else state())
    if w.faulty:
        _late_results(w, bid, cast)
    if depth < _MAX_DEPTH and _chance(rng, 0.7):
        _correct(w, rng, bid, cast, rows=rows, depth=depth)
    _refund(w, rng, bid, cast)
    return None


def _withdraw(w: World, rng: random.Random, bid: str, cast: _Cast, trigger: str) -> bool:
    """Cancel or send back a dispatched batch, retrying timeouts; its order is withdrawn from the bank. False when
    the bank refused (the batch's money had arrived): the batch goes on."""
    svc = w.service
    for _ in range(_MAX_RETRIES):
        if trigger == "cancel":
            w.step("cancel", lambda: svc.cancel(bid, actor=cast.maker, reason=_reason(rng, w, bid)))
        else:
            w.step("send_back", lambda: svc.send_back(bid, actor=cast.finance, reason=_reason(rng, w, bid)))
        if not w.last_was_timeout:
            break
    ended = w.store.batch(bid).state in ("cancelled", "sent_back")
    w.counts["withdrawals" if ended else "withdrawals_refused"] += 1
    return ended


def _late_results(w: World, bid: str, cast: _Cast) -> None:
    """Ask the bank a few more times after publication: money may come back (退汇); return what did."""
    for _ in range(_LATE_POLLS):
        for bank in _paying_banks(w, bid):
            w.step("poll_results", lambda: w.service.poll_results(bid, actor=bank))  # noqa: B023
    if (w.store.rows(bid)["status"] == "reversed").any():
        w.step("return_failures", lambda: w.service.return_failures(bid))


def _refund(w: World, rng: random.Random, bid: str, cast: _Cast) -> None:
    """Past the correction deadline, give the money no correction reused back to the treasury."""
    deadlines = w.store.rows(bid)["deadline"].drop_nulls()
    if deadlines.is_empty():
        return
    last = deadlines.max()
    assert isinstance(last, dt.date)
    late = last + dt.timedelta(days=1)
    if w.service.refundable_fen(bid, as_of=late) <= 0:
        return
    if _chance(rng, 0.1):
        w.step("refund", lambda: w.service.refund(bid, actor=cast.auditor, as_of=late), expect_refusal=True)
    actor = cast.finance if _chance(rng, 0.5) else Actor.system()
    for _ in range(_MAX_RETRIES):
        record = w.step("refund", lambda: w.service.refund(bid, actor=actor, as_of=late))
        if record is not None:
            w.counts["refunds"] += 1
            break
        if not w.last_was_timeout:
            break


def _review(w: World, rng: random.Random, bid: str, cast: _Cast) -> None:
    review = w.store.rows(bid).filter(pl.col("status") == "review")
    if review.is_empty():
        return
    pick = (pl.col("row_id").hash(seed=rng.getrandbits(63)) % 3).cast(pl.Int64)
    decisions = review.select(
        "row_id",
        pl.when(pick == 0).then(pl.lit("block")).otherwise(pl.lit("pass")).alias("decision"),
        pl.lit(_reason(rng, w, bid)).alias("reason"),
    )
    if _chance(rng, 0.2):
        w.step(
            "confirm_reviews",
            lambda: w.service.confirm_reviews(bid, decisions, actor=cast.maker),
            expect_refusal=True,
        )
    w.step("confirm_reviews", lambda: w.service.confirm_reviews(bid, decisions, actor=cast.checker))
    w.counts["reviews_passed"] += int((decisions["decision"] == "pass").sum())
    w.counts["reviews_blocked"] += int((decisions["decision"] == "block").sum())


def _fund(w: World, rng: random.Random, bid: str, cast: _Cast) -> bool:
    """Request funding (retrying timeouts, refiling after rejections) until funded; False when the batch ended."""
    svc = w.service
    for _ in range(4):
        filer = cast.town if cast.town is not None and _chance(rng, 0.3) else cast.checker
        route: FundingRoute = "zero_balance" if _chance(rng, 0.3) else "treasury"
        if _chance(rng, 0.1):
            w.step("request_funding", lambda: svc.request_funding(bid, actor=cast.maker), expect_refusal=True)
        for _ in range(_MAX_RETRIES):
            w.step("request_funding", lambda: svc.request_funding(bid, actor=filer, route=route))  # noqa: B023
            if w.store.batch(bid).state == "funding_requested" or not w.last_was_timeout:
                break
        # 原渠道退回 while the treasury decides: the bank refuses to withdraw once the money has arrived
        waiting = w.store.batch(bid).state == "funding_requested"
        if w.faulty and waiting and _chance(rng, 0.05) and _withdraw(w, rng, bid, cast, "send_back"):
            return False
        for _ in range(_MAX_RETRIES):
            if w.store.batch(bid).state != "funding_requested":
                break
            w.step("poll_funding", lambda: svc.poll_funding(bid))
        now = w.store.batch(bid).state
        if now == "funded":
            w.counts[f"route:{route}:{filer.role}"] += 1
            return True
        if now != "dispatched":
            return False
        w.counts["funding_refused"] += 1
        choice = rng.random()
        if choice < 0.15 and _withdraw(w, rng, bid, cast, "cancel"):
            return False
        if choice < 0.3 and _withdraw(w, rng, bid, cast, "send_back"):
            return False
    w.step("cancel", lambda: svc.cancel(bid, actor=cast.maker, reason="多次拨付未果"))
    return False


def _settle(w: World, bid: str, cast: _Cast) -> bool:
    """Poll the bank until the batch is settled; then deliver once more and make sure nothing changed."""
    svc = w.service
    banks = _paying_banks(w, bid)
    for _ in range(_MAX_RESULT_POLLS):
        for bank in banks:  # each paying bank reports its own rows; the batch settles when all of them did
            if w.store.batch(bid).state != "settled":
                w.step("poll_results", lambda: svc.poll_results(bid, actor=bank))  # noqa: B023
        if w.store.batch(bid).state == "settled":
            break
    else:
        w.violations.append(("3_terminal_status", "poll_results", f"{bid}: never settled"))
        return False
    rows, ledger = w.store.rows(bid), w.store.ledger()
    for bank in banks:
        for _ in range(_MAX_RETRIES):
            if w.step("poll_results", lambda: svc.poll_results(bid, actor=bank)) is not None:  # noqa: B023
                break
    if not (_same_but_reversals(rows, w.store.rows(bid)) and _same_but_reversals(ledger, w.store.ledger())):
        w.violations.append(("4_refused_results", "poll_results", f"{bid}: a repeated delivery changed rows"))
    paid = rows.filter(pl.col("status") == "paid")
    w.counts["rows_paid"] += paid.height
    w.counts["fen_paid"] += int(paid["amount_fen"].sum())
    w.counts["rows_failed"] += rows.filter(pl.col("status") == "failed").height
    return True


def _same_but_reversals(before: pl.DataFrame, after: pl.DataFrame) -> bool:
    """True when ``after`` differs from ``before`` only by paid rows (or ledger entries) reversed since (退汇): the one
    change a repeated delivery may bring, because the money came back in the meantime."""
    if before.height != after.height:
        return False
    keys = ["batch_id", "row_id"]
    moved = before.join(after, on=keys, how="inner", suffix="_now").filter(pl.col("status") != pl.col("status_now"))
    if not ((moved["status"] == "paid") & (moved["status_now"] == "reversed")).all():
        return False
    rest = moved.select(keys)
    return before.join(rest, on=keys, how="anti").sort(keys).equals(after.join(rest, on=keys, how="anti").sort(keys))


def _paying_banks(w: World, bid: str) -> list[Actor]:
    """The banks paying rows of a dispatched batch, as bank actors sorted by code (the one bank when rows name
    none)."""
    codes = sorted(w.store.rows(bid).get_column("bank").drop_nulls().unique().to_list()) or [BANK_CODE]
    return [Actor(f"bank-{code}", "bank", bank=code) for code in codes]


def _correct(w: World, rng: random.Random, bid: str, cast: _Cast, *, rows: int, depth: int) -> None:
    """Correct some returned rows of ``bid`` in a correction batch, which goes through the whole flow."""
    returned = w.store.rows(bid).filter(pl.col("status") == "returned")
    if returned.is_empty():
        return
    take = returned.sample(fraction=rng.uniform(0.3, 1.0), seed=rng.getrandbits(32)).sort("row_id")
    if take.is_empty():
        take = returned.head(1)
    roster = take.select(
        pl.int_range(1, take.height + 1, dtype=pl.Int64).alias("row_id"),
        *[c for c in ROSTER_SCHEMA if c != "row_id"],
        pl.col("row_id").alias("corrects_row_id"),
    )
    if w.faulty and _chance(rng, 0.25) and not _late(w, rng, bid, cast, roster):
        return
    if w.faulty and _chance(rng, 0.3):  # some payees changed banks: their corrections go to the other bank
        movers = take.filter(pl.Series(_picks(rng, take.height)))["id_number"].to_list()
        w.counts["accounts_moved_bank"] += w.move_accounts(movers)
    if _chance(rng, 0.2):
        larger = roster.with_columns(amount_fen=pl.col("amount_fen") + 100)
        w.step(
            "create_correction",
            lambda: w.service.create_correction(bid, larger, actor=cast.maker),
            expect_refusal=True,
        )
    run_lifecycle(w, rng, rows=rows, corrects=bid, correction=roster, depth=depth + 1)


def _late(w: World, rng: random.Random, bid: str, cast: _Cast, roster: pl.DataFrame) -> bool:
    """Let the correction deadline pass: the rows expire and the late correction is refused. Finance then may
    extend the deadline (the requester trying to approve it is refused); True when the rows are open again."""
    svc = w.service
    deadline = w.store.rows(bid).filter(pl.col("status") == "returned")["deadline"].max()
    assert isinstance(deadline, dt.date)
    morning_after = dt.datetime.combine(deadline + dt.timedelta(days=1), dt.time(9), tzinfo=zone_info(w.clock.zone))
    w.clock.set(max(morning_after, w.clock.now()))
    expired = w.step("expire_overdue", svc.expire_overdue)
    w.counts["rows_expired"] += 0 if expired is None else expired.height
    w.step("create_correction", lambda: svc.create_correction(bid, roster, actor=cast.maker), expect_refusal=True)
    w.counts["late_corrections_refused"] += 1
    if not _chance(rng, 0.6):
        return False
    until = local_date(w.clock.now(), w.clock.zone) + dt.timedelta(days=10)
    rows = roster["corrects_row_id"].to_list()
    w.step(
        "request_extension",
        lambda: svc.request_extension(bid, actor=cast.finance, until=until, reason=_reason(rng, w, bid), row_ids=rows),
    )
    if _chance(rng, 0.3):
        w.step("grant_extension", lambda: svc.grant_extension(bid, actor=cast.finance), expect_refusal=True)
    granted = w.step("grant_extension", lambda: svc.grant_extension(bid, actor=cast.finance_checker))
    w.counts["extensions_granted"] += 0 if granted is None else 1
    return granted is not None


def _picks(rng: random.Random, n: int) -> list[bool]:
    """About half of ``n`` rows, at least one."""
    picks = [_chance(rng, 0.5) for _ in range(n)]
    if n and not any(picks):
        picks[0] = True
    return picks
