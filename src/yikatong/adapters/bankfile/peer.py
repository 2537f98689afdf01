"""The bank's side of a file exchange, played by any [`yikatong.ports.Bank`][]: for tests, demos and dry runs.

[`BankFilePeer`][yikatong.adapters.BankFilePeer] does what the paying bank does with the exchange folder: it takes order
files and verification requests from ``outbox/`` (moving them to ``bank/received/``, as a transfer would), hands them to
a bank — usually [`SimulatedBank`][yikatong.adapters.SimulatedBank] — and writes what that bank answers as result files
and verification responses in ``inbox/``, in the layout's own format. A host can point it at a copy of its folder to
rehearse the whole exchange without a bank.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from yikatong.adapters.bankfile._files import write_atomic
from yikatong.adapters.bankfile.adapter import answer_pattern, bank_code_for, local_date
from yikatong.adapters.bankfile.layout import BankLayout, FileSection
from yikatong.adapters.bankfile.reader import read_order, read_verify_request
from yikatong.adapters.bankfile.writer import file_name, render_file
from yikatong.adapters.clock import SystemClock
from yikatong.errors import BankFileError
from yikatong.ports import Bank, Clock
from yikatong.records import DisbursementOrder

__all__ = ["BankFilePeer"]


def _status_code(section: FileSection, outcome: str) -> str:
    for code, mapped in section.statuses.items():
        if mapped == outcome:
            return code
    raise BankFileError(f"the layout has no status code for {outcome!r}", file=section.file_name)


class BankFilePeer:
    """Answers the files a [`FileExchangeBank`][yikatong.adapters.FileExchangeBank] writes.

    Args:
        folder: The exchange folder (the same one the adapter uses).
        layout: The bank's layout.
        bank: The bank that decides outcomes; it sees rows keyed by the file's row key (``serial`` or ``row_id``).
        clock: Time source for file dates.
        bank_code: The paying bank's code the files name; the layout's ``code`` when ``None``. The peer takes only
            files naming it and writes it into every answer.
        reason_codes: The bank's reason code → the code written in files; unmapped codes are looked up by their
            text in the layout's ``reasons`` and otherwise written as they are.

    Attributes:
        orders: Orders received, by batch id.
    """

    def __init__(
        self,
        folder: str | Path,
        layout: BankLayout,
        bank: Bank,
        *,
        clock: Clock | None = None,
        bank_code: str | None = None,
        reason_codes: Mapping[str, str] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.layout = layout
        self.bank_code = bank_code_for(layout, bank_code)
        self.bank = bank
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._reason_codes = dict(reason_codes or {})
        self.received = self.folder / "bank" / "received"
        self.orders: dict[str, pl.DataFrame] = {}
        self._written: dict[str, pl.DataFrame] = {}
        self._seq: dict[str, int] = {}

    def _take(self, section: FileSection) -> list[Path]:
        outbox = self.folder / "outbox"
        if not outbox.exists():
            return []
        pattern = answer_pattern(section, None, bank=self.bank_code)
        return sorted(p for p in outbox.iterdir() if p.is_file() and pattern.fullmatch(p.name))

    def _code_for(self, codes: pl.Series, texts: pl.Series, section: FileSection) -> pl.Series:
        by_text = {text: code for code, text in section.reasons.items()}
        frame = pl.DataFrame({"c": codes, "t": texts})
        return frame.select(
            pl.coalesce(
                pl.col("c").replace_strict(self._reason_codes, default=None, return_dtype=pl.String),
                pl.col("t").replace_strict(by_text, default=None, return_dtype=pl.String),
                pl.col("c"),
            )
        ).to_series()

    def exchange(self) -> None:
        """Take every waiting order and request from ``outbox/`` and write every new answer into ``inbox/``.

        When the bank times out on a file, the file stays in ``outbox/`` (or no result file is written this round)
        and the next exchange tries again, as a bank's batch run would.
        """
        today = local_date(self._clock)
        for path in self._take(self.layout.verify_request):
            self._answer_verification(path, today)
        for path in self._take(self.layout.order):
            rows = read_order(path.read_bytes(), self.layout, file=path.name, bank=self.bank_code)
            batch_id = rows["batch_id"][0] if rows.height else None
            if batch_id is None:
                raise BankFileError("the order names no batch id (header or trailer batch_id)", file=path.name)
            order_rows = rows.drop("batch_id").with_columns(row_id=rows[self.layout.order.key])
            order = DisbursementOrder(
                batch_id=batch_id,
                item="",
                period="",
                rows=order_rows,
                count=order_rows.height,
                total_fen=int(order_rows["amount_fen"].sum() or 0),
                bank=self.bank_code,
            )
            try:
                self.bank.submit(order)
            except TimeoutError:
                continue  # the file stays in outbox/ and is taken again on the next exchange
            self.orders[batch_id] = order_rows
            self.received.mkdir(parents=True, exist_ok=True)
            shutil.move(path, self.received / path.name)
        for batch_id in self.orders:
            with contextlib.suppress(TimeoutError):  # no answer this time: no result file this round
                self._answer_results(batch_id, today)

    def _answer_verification(self, path: Path, today: dt.date) -> None:
        request = read_verify_request(path.read_bytes(), self.layout, file=path.name, bank=self.bank_code)
        request_id = request["request_id"][0] if request.height else None
        if request_id is None:
            raise BankFileError("the request names no request id (header or trailer batch_id)", file=path.name)
        key = self.layout.verify_request.key
        try:
            answer = self.bank.verify_accounts(request.with_columns(row_id=request[key]))
        except TimeoutError:
            return  # the request stays in outbox/ and is answered on a later exchange
        section = self.layout.verify_response
        joined = request.join(answer.rename({"row_id": key}), on=key, how="left")
        reasons = joined["reason"].fill_null("")
        codes = self._code_for(reasons, reasons, section)
        rows = joined.select(
            key,
            "account",
            "name",
            "id_number",
            status=pl.when(pl.col("verified"))
            .then(pl.lit(_status_code(section, "verified")))
            .otherwise(pl.lit(_status_code(section, "rejected"))),
            reason_code=pl.when(pl.col("verified")).then(pl.lit("")).otherwise(codes),
            reason=pl.col("reason").fill_null(""),
        )
        name = file_name(section, batch_id=request_id, date=today, bank=self.bank_code)
        values: dict[str, str | int] = {"bank_code": self.bank_code, "batch_id": request_id, "count": rows.height}
        data = render_file(section, rows, values=values, date=today, file=name)
        write_atomic(self.folder / "inbox" / name, data)
        self.received.mkdir(parents=True, exist_ok=True)
        shutil.move(path, self.received / path.name)

    def _answer_results(self, batch_id: str, today: dt.date) -> None:
        section = self.layout.result
        key = section.key
        found = self.bank.results(batch_id).unique(maintain_order=True)
        written = self._written.get(batch_id)
        new = found if written is None else found.join(written, on=list(found.columns), how="anti", nulls_equal=True)
        # a payment and its reversal first reported together: the file carries the reversal (it implies the payment)
        reversed_now = new.filter(pl.col("outcome") == "reversed").select("row_id")
        new = new.filter(~((pl.col("outcome") == "paid") & pl.col("row_id").is_in(reversed_now["row_id"].implode())))
        if new.height == 0:
            return
        self._written[batch_id] = new if written is None else pl.concat([written, new])
        codes = {o: _status_code(section, o) for o in ("paid", "failed")}
        if (new["outcome"] == "reversed").any():
            codes["reversed"] = _status_code(section, "reversed")
        order = self.orders[batch_id].select(pl.col("row_id").alias(key), "account", "name", "id_number")
        rows = (
            new.rename({"row_id": key})
            .join(order, on=key, how="left", maintain_order="left")
            .with_columns(pl.col("account", "name", "id_number").fill_null(""))
            .with_columns(
                status=pl.col("outcome").replace_strict(codes, default=None, return_dtype=pl.String),
                reason_code=self._code_for(new["reason_code"].fill_null(""), new["reason"].fill_null(""), section),
                reason=pl.col("reason").fill_null(""),
            )
            .with_columns(reason_code=pl.when(pl.col("outcome") == "paid").then(pl.lit("")).otherwise("reason_code"))
        )
        values: dict[str, str | int] = {
            "bank_code": self.bank_code,
            "batch_id": batch_id,
            "count": rows.height,
            "total": int(rows["amount_fen"].sum() or 0),
        }
        for outcome in ("paid", "failed", "reversed"):
            picked = rows.filter(pl.col("outcome") == outcome)
            values[f"{outcome}_count"] = picked.height
            values[f"{outcome}_total"] = int(picked["amount_fen"].sum() or 0)
        seq = self._seq.get(batch_id, 0) + 1
        self._seq[batch_id] = seq
        name = file_name(section, batch_id=batch_id, date=today, seq=seq, bank=self.bank_code)
        data = render_file(section, rows.drop("outcome"), values=values, date=today, file=name)
        write_atomic(self.folder / "inbox" / name, data)
