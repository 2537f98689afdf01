"""One county month, end to end: rosters in, validation, reviews, dispatch, funding, payment, corrections, disclosure.

Each department submits one batch per subsidy item; the steps then run across all batches day by day, as a county
office works: validation (with the bank's 联网核查 through the exchange folder), review decisions by a checker who
is not the maker, dispatch, payment requests by three routes (treasury centralised payment, a zero-balance account,
and a town filing for its own residents), funding, payment with failures, returned failures, correction batches for
the rows the departments could fix, and the public lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import polars as pl

from yikatong.catalog import Catalog
from yikatong.demo._county import BANK_CODE, County, Staff
from yikatong.demo._progress import Progress
from yikatong.period import Period
from yikatong.records import FundingRoute
from yikatong.schema import ROSTER_SCHEMA
from yikatong.workflow.roles import Actor

__all__ = ["FUNDING_PLAN", "Filing", "Month", "run_month"]

Filing = tuple[FundingRoute, str]
"""How a batch's payment is requested: the route and who files it (``department`` or ``town``)."""

FUNDING_PLAN: Final[dict[str, Filing]] = {
    "GLJT": ("treasury", "department"),
    "GDLBZ": ("zero_balance", "department"),
    "CJRLXBT": ("treasury", "department"),
    "DB": ("zero_balance", "department"),
}
"""Funding of the original batches by item; an item not listed is paid through the treasury."""

_PASS_REASON: Final = "经村(社区)、乡镇复核，信息属实，同意发放"
_BLOCK_REASON: Final = "经入户核查不符合本期发放条件，暂缓发放"
_CORRECTION_PASS: Final = "已核对新申报账户及户籍信息，同意发放"
_ACCOUNT_ONLY: Final = ["ACCOUNT_MISMATCH", "ACCOUNT_FORMAT", "ACCOUNT_LUHN", "PERSON_MULTIPLE_ACCOUNTS"]
"""Reasons a row is fixed by paying the registered account instead of the one the roster named."""
_NOTHING_TO_PAY: Final = "本批无可发放的行，撤销批次"
_CORRECTING: Final = "更正退回的行 / correct returned rows"
_MAX_ROUNDS: Final = 20
_FIX_SHARE_MOD: Final = 4  # three rows in four of the bank failures are fixed this month; the rest wait


def _luhn_card(key: pl.Expr) -> pl.Expr:
    """A 19-digit UnionPay debit card number derived from ``key`` (a hash), with a valid Luhn check digit."""
    body = pl.concat_str(pl.lit("621458"), (key % 1_000_000_000_000).cast(pl.String).str.zfill(12))
    terms = []
    for i in range(18):
        digit = body.str.slice(i, 1).cast(pl.Int64)
        if i % 2 == 1:  # doubled: an even position counted from the right of the full 19-digit number
            doubled = digit * 2
            terms.append(pl.when(doubled > 9).then(doubled - 9).otherwise(doubled))
        else:
            terms.append(digit)
    check = (10 - pl.sum_horizontal(terms) % 10) % 10
    return pl.concat_str(body, check.cast(pl.String))


class Month:
    """The month's work over a ``County``."""

    def __init__(self, county: County, catalog: Catalog, progress: Progress, *, seed: int) -> None:
        self.county = county
        self.svc = county.service
        self.catalog = catalog
        self.progress = progress
        self.seed = seed
        self.filing: dict[str, Filing] = {}
        self.town_actor: dict[str, Actor] = {}

    def staff(self, batch_id: str) -> Staff:
        return Staff(self.svc.batch(batch_id, actor=Actor.system()).department)

    # -- intake ---------------------------------------------------------------------------------------------
    def create_originals(self, roster: pl.DataFrame, items: Sequence[str], period: str) -> list[str]:
        """One batch per item, each created by its department's maker and submitted."""
        ids: list[str] = []
        for code in items:
            part = roster.filter(pl.col("item") == code)
            maker = Staff(self.catalog[code].department).maker
            own = Period.parse(period).within(self.catalog[code].period).label  # an annual item: the year
            record = self.svc.create_batch(
                part, item=code, period=own, actor=maker, bank=BANK_CODE, declared_count=part.height
            )
            self.filing[record.batch_id] = FUNDING_PLAN.get(code, ("treasury", "department"))
            self.progress.step("建批", "create", f"{record.batch_id} {self.catalog[code].name} {part.height} rows")
            ids.append(record.batch_id)
        return ids

    def validate(self, batch_ids: Sequence[str]) -> None:
        """Submit and validate each batch; the bank answers verification requests through the exchange folder."""
        for bid in batch_ids:
            self.svc.submit(bid, actor=self.staff(bid).maker)
            self.progress.step("校验", "validate", bid)
            for _ in range(_MAX_ROUNDS):
                try:
                    report = self.svc.validate(bid)
                    break
                except TimeoutError:
                    self.county.peer.exchange()  # the bank takes the request file and answers it
            else:  # pragma: no cover - the simulated bank always answers
                raise RuntimeError(f"no verification answer for {bid}")
            counts = report.counts_by_verdict
            shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            self.progress.step("  结果", "verdicts", f"{bid}: {shown}")

    def review(self, batch_ids: Sequence[str], *, pass_all: bool = False) -> None:
        """A checker (not the maker) decides every row in review: most pass, some are blocked, each with a reason."""
        for bid in batch_ids:
            waiting = self.svc.rows(bid, actor=self.staff(bid).checker).filter(pl.col("status") == "review")
            if waiting.is_empty():
                continue
            block = (pl.col("row_id").hash(seed=self.seed) % 3 == 0) & pl.lit(not pass_all)
            decisions = waiting.select(
                "row_id",
                pl.when(block).then(pl.lit("block")).otherwise(pl.lit("pass")).alias("decision"),
                pl.when(block)
                .then(pl.lit(_BLOCK_REASON))
                .otherwise(pl.lit(_CORRECTION_PASS if pass_all else _PASS_REASON))
                .alias("reason"),
            )
            self.svc.confirm_reviews(bid, decisions, actor=self.staff(bid).checker)
            blocked = int((decisions["decision"] == "block").sum())
            self.progress.step("复核", "review", f"{bid}: {decisions.height - blocked} passed, {blocked} blocked")

    # -- money ----------------------------------------------------------------------------------------------
    def pay(self, batch_ids: Sequence[str]) -> None:
        """Dispatch, request funding, fund, disburse and collect the bank's results until every batch settles."""
        county = self.county
        county.advance(days=1)
        batch_ids = [bid for bid in batch_ids if self._dispatch(bid)]
        county.advance(days=1)
        for bid in batch_ids:
            route, filer = self.filing.get(bid, ("treasury", "department"))
            actor = self.town_actor[bid] if filer == "town" else self.staff(bid).checker
            self.svc.request_funding(bid, actor=actor, route=route)
            self.progress.step("申请", "request funding", f"{bid}: {route} by {actor.user}")
        county.advance(days=1)
        for bid in batch_ids:
            for _ in range(_MAX_ROUNDS):
                if self.svc.poll_funding(bid).state == "funded":
                    break
            self.svc.disburse(bid, actor=county.bank_actor)
        self.progress.step("拨付", "funded and disbursing", f"{len(batch_ids)} batches")
        county.advance(days=1)
        open_ids = list(batch_ids)
        for _ in range(_MAX_ROUNDS):
            if not open_ids:
                break
            county.peer.exchange()  # the bank takes order files and writes result files
            for bid in list(open_ids):
                if self.svc.poll_results(bid, actor=county.bank_actor).settled:
                    open_ids.remove(bid)
        if open_ids:  # pragma: no cover - the simulated bank settles every funded order
            raise RuntimeError(f"batches never settled: {', '.join(open_ids)}")
        for bid in batch_ids:
            rows = self.svc.rows(bid, actor=self.staff(bid).checker)
            paid, failed = (int((rows["status"] == s).sum()) for s in ("paid", "failed"))
            self.progress.step("回盘", "results", f"{bid}: {paid} paid, {failed} failed")
        county.advance(days=1)
        for bid in batch_ids:
            self.svc.return_failures(bid)
            self.svc.publish(bid, actor=self.staff(bid).checker)
        self.progress.step("公示", "returned failures and published", f"{len(batch_ids)} batches")

    def _dispatch(self, bid: str) -> bool:
        """Dispatch a batch; a batch left without a payable row (or rejected whole) is cancelled by its maker."""
        record = self.svc.batch(bid, actor=Actor.system())
        if (
            record.state == "validated"
            and self.svc.rows(bid, actor=Actor.system()).filter(pl.col("status") == "passed").is_empty()
        ):
            self.svc.cancel(bid, actor=self.staff(bid).maker, reason=_NOTHING_TO_PAY)
            self.progress.step("撤销", "cancel", f"{bid}: no row can be paid")
            return False
        if record.state != "validated":
            self.progress.step("退回", "not paid", f"{bid}: {record.state}")
            return False
        out = self.svc.dispatch(bid)
        self.progress.step("报盘", "dispatch", f"{bid}: {out.order.count} rows sent, {out.returned} returned")
        return True

    # -- corrections ----------------------------------------------------------------------------------------
    def corrections(self, batch_ids: Sequence[str]) -> list[str]:
        """Correction batches for the returned rows the departments can fix this month.

        Fixable: a payment the bank refused (closed or frozen card, name not matching the bank's record) — the
        person declares a new card at the town, entered in the registry — for three rows in four; and a row whose
        roster named another account than the registered one (``ACCOUNT_MISMATCH``, with at most other
        account-number findings), which is corrected to the registered account. Every other returned row stays in
        the correction queue. The original batch with the most fixes has its largest town's rows corrected in a
        batch of their own, whose payment the town files.
        """
        ledger = self.county.store.ledger().select("batch_id", "row_id", pl.col("status").alias("_ledger"))
        registry = self.county.registry.frame.filter(pl.col("status") == "active").select(
            "id_number", pl.col("account").alias("_registered")
        )
        plans: list[tuple[str, pl.DataFrame]] = []
        new_cards: list[pl.DataFrame] = []
        for bid in batch_ids:
            returned = (
                self.svc.rows(bid, actor=self.staff(bid).maker, reason=_CORRECTING)  # full IDs: a recorded read
                .filter(pl.col("status") == "returned")
                .join(ledger, on=["batch_id", "row_id"], how="left")
                .join(registry.unique("id_number", keep="first"), on="id_number", how="left")
            )
            bank_failed = (pl.col("_ledger") == "failed").fill_null(False)
            keyed = pl.concat_str(pl.lit(str(self.seed)), pl.col("id_number")).hash(seed=self.seed)
            take_new = bank_failed & (pl.col("row_id").hash(seed=self.seed + 1) % _FIX_SHARE_MOD != 0)
            codes = pl.col("reason_code").fill_null("").str.split(",")
            take_registered = (
                ~bank_failed
                & codes.list.contains("ACCOUNT_MISMATCH")
                & codes.list.eval(pl.element().is_in(_ACCOUNT_ONLY)).list.all()
                & pl.col("_registered").is_not_null()
            ).fill_null(False)
            fixed = returned.filter(take_new | take_registered).with_columns(
                account=pl.when(take_new).then(_luhn_card(keyed)).otherwise(pl.col("_registered")),
                _new=take_new,
            )
            if fixed.is_empty():
                continue
            new_cards.append(
                fixed.filter("_new").select("id_number", "account", pl.col("name").alias("holder_name"), "town")
            )
            plans.append((bid, fixed))
        if new_cards:
            self.county.declare_new_cards(pl.concat(new_cards))
            self.progress.step("换卡", "new cards declared", f"{sum(f.height for f in new_cards)} people")
        created: list[str] = []
        largest = max(plans, key=lambda p: p[1].height)[0] if plans else None
        for bid, fixed in plans:
            parts: list[tuple[pl.DataFrame, str | None]] = [(fixed, None)]
            if bid == largest:
                town = fixed.group_by("town").len().sort(["len", "town"], descending=[True, False])["town"][0]
                own = fixed.filter(pl.col("town") == town)
                rest = fixed.filter(pl.col("town").ne_missing(town))
                parts = [(own, str(town))] + ([(rest, None)] if rest.height else [])
            for part, town in parts:
                roster = part.sort("row_id").select(
                    pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("row_id"),
                    *[c for c in ROSTER_SCHEMA if c != "row_id"],
                    pl.col("row_id").alias("corrects_row_id"),
                )
                record = self.svc.create_correction(bid, roster, actor=self.staff(bid).maker)
                if town is not None and record.town == town:
                    self.filing[record.batch_id] = ("treasury", "town")
                    self.town_actor[record.batch_id] = Actor(f"{town}-经办员", "town", town=town)
                else:
                    self.filing[record.batch_id] = ("treasury", "department")
                where = f" ({town})" if town else ""
                self.progress.step("更正", "correction batch", f"{record.batch_id}{where}: {roster.height} rows")
                created.append(record.batch_id)
        return created


def run_month(
    county: County,
    catalog: Catalog,
    roster: pl.DataFrame,
    *,
    items: Sequence[str],
    period: str,
    seed: int,
    progress: Progress,
) -> Month:
    """Run the month over ``county`` for a canonical roster carrying an ``item`` column.

    Returns:
        The finished ``Month`` (its ``filing`` names each batch's route and filer).
    """
    month = Month(county, catalog, progress, seed=seed)
    originals = month.create_originals(roster, items, period)
    month.validate(originals)
    county.advance(days=1)
    month.review(originals)
    month.pay(originals)
    county.advance(days=3)
    corrections = month.corrections(originals)
    if corrections:
        month.validate(corrections)
        month.review(corrections, pass_all=True)
        month.pay(corrections)
    return month
