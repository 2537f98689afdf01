"""A [`yikatong.ports.Bank`][] over a folder of exchange files: the common way county banks take 代发 orders.

The host names a folder and moves files between it and its bank by SFTP, a bank client, or a USB key::

    folder/
      outbox/    order files and verification requests written here, for the host to send to the bank
      inbox/     result files and verification responses the host brings back from the bank
      sent/      what was written, to check every answer against (private: full accounts, like the order file)
      refused/   answer files refused whole, each with a ``.reason.txt`` beside it

Every file names the paying bank (its code in the file name and in the header), and ``sent/`` keeps each order under
the bank's code: a batch paid through several banks sends one order to each, and several banks may share a folder.

* [`FileExchangeBank.submit`][yikatong.adapters.FileExchangeBank.submit] writes the order file atomically (temporary
  file, fsync, rename). Submitting the same batch again writes nothing new; a different order under the same batch id is
  refused.
* [`FileExchangeBank.withdraw`][yikatong.adapters.FileExchangeBank.withdraw] takes an order back while its file still
  waits in ``outbox/``: the file is removed and the batch marked withdrawn, so it is never placed again. Once the host
  has carried the file to the bank, the exchange has no way to take it back and withdrawal is refused: ask the bank to
  cancel it.
* [`FileExchangeBank.results`][yikatong.adapters.FileExchangeBank.results] reads every result file of the batch found in
  ``inbox/`` (a bank may send several partial files), each checked whole by
  [`read_result`][yikatong.adapters.bankfile.read_result]. A file that does not add up is moved to ``refused/`` and
  [`BankFileError`][yikatong.errors.BankFileError] is raised: nothing of it is applied, and the next call goes on
  without it.
* [`FileExchangeBank.verify_accounts`][yikatong.adapters.FileExchangeBank.verify_accounts] (联网核查) is a file exchange
  too: the first call writes a verification request and raises ``TimeoutError`` until the response is in ``inbox/``; the
  same call then returns it. The request id is derived from the rows, so asking again for the same rows finds the same
  response.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import shutil
import string
from pathlib import Path

import polars as pl

from yikatong._spreadsheet import CONTROL_CHARACTERS
from yikatong.adapters.bankfile._files import safe_name, write_atomic
from yikatong.adapters.bankfile.layout import BankLayout, FileSection
from yikatong.adapters.bankfile.reader import RESULT_SCHEMA, read_result, read_verify_response
from yikatong.adapters.bankfile.writer import file_name, render_order, render_verify_request, verify_rows
from yikatong.adapters.clock import SystemClock
from yikatong.errors import BankFileError, BankLayoutError, WithdrawalRefused
from yikatong.ports import Clock
from yikatong.records import DisbursementOrder

__all__ = ["BEIJING", "FileExchangeBank", "answer_pattern", "bank_code_for", "local_date"]


BEIJING = dt.timezone(dt.timedelta(hours=8), "CST")
"""Files are dated in Beijing time, as the bank dates them, whatever time zone the clock reads in."""


def local_date(clock: Clock) -> dt.date:
    """Today's date in Beijing time by ``clock``."""
    moment = clock.now()
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)).astimezone(BEIJING).date()


def answer_pattern(section: FileSection, batch_id: str | None, *, bank: str | None = None) -> re.Pattern[str]:
    """A regular expression matching the names the pattern gives a batch's files (any batch when ``None``) of the
    paying bank ``bank`` (any bank when ``None``)."""
    parts: list[str] = []
    for literal, field, _spec, _conv in string.Formatter().parse(section.file_name):
        parts.append(re.escape(literal))
        if field == "bank":
            parts.append(re.escape(safe_name(bank)) if bank is not None else r"[\w.\-]+?")
        elif field in ("batch_id", "request_id"):
            parts.append(re.escape(safe_name(batch_id)) if batch_id is not None else r"(?P<id>[\w.\-]+?)")
        elif field == "seq":
            parts.append("[0-9]+")
        elif field == "date":
            parts.append(_date_regex(section.date_format))
        elif field is not None:
            parts.append(r"[^/]+?")
    return re.compile("".join(parts))


def _date_regex(date_format: str) -> str:
    widths = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2, "y": 2, "j": 3}
    out: list[str] = []
    for i, piece in enumerate(date_format.split("%")):
        if i == 0:
            out.append(re.escape(piece))
        elif piece:
            width = widths.get(piece[0])
            out.append((f"[0-9]{{{width}}}" if width else ".+?") + re.escape(piece[1:]))
    return "".join(out)


def _parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def bank_code_for(layout: BankLayout, bank_code: str | None) -> str:
    """The paying bank's code an exchange names in every file: ``bank_code``, else the layout's ``code``.

    Raises:
        BankLayoutError: no code is known, or the layout leaves a file name without ``{bank}`` or a header without
            ``bank_code`` (files of several banks could then be taken for one another).
    """
    code = bank_code if bank_code is not None else layout.code
    if not code or safe_name(code) != code:
        raise BankLayoutError(
            f"layout {layout.name}: 须指定代发银行代码 / the exchange needs the paying bank's code (letters, digits, "
            "'-' or '_'): pass bank_code= or set code in the layout"
        )
    missing = layout.files_missing_bank()
    if missing:
        raise BankLayoutError(
            f"layout {layout.name}: 每个文件须写明代发银行 / every file must name the paying bank; add "
            + ", ".join(missing)
        )
    return code


class FileExchangeBank:
    """A paying bank reached through exchange files in a folder (see the module docstring for the folders).

    Every file the exchange writes or takes names the bank: its code is in the file name (``{bank}``) and in the
    header (``bank_code``), so several banks' files can share a folder and an answer from another bank is never
    taken for this one's (a file whose header names another bank is refused).

    Args:
        folder: The exchange folder; created when missing.
        layout: The bank's file layout ([`load_layout`][yikatong.adapters.load_layout]).
        bank_code: The paying bank's code (``CQRCB``, ``PSBC``…); the layout's ``code`` when ``None``.
        clock: Time source for file dates (taken in Beijing time); the system clock when ``None``.

    Raises:
        BankLayoutError: no bank code, or a layout file that does not name the bank (see
            [`bank_code_for`][yikatong.adapters.bankfile.adapter.bank_code_for]).
    """

    def __init__(
        self, folder: str | Path, layout: BankLayout, *, bank_code: str | None = None, clock: Clock | None = None
    ) -> None:
        self.folder = Path(folder)
        self.layout = layout
        self.bank_code = bank_code_for(layout, bank_code)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self.outbox = self.folder / "outbox"
        self.inbox = self.folder / "inbox"
        self.sent = self.folder / "sent"
        self.refused = self.folder / "refused"
        for path in (self.outbox, self.inbox, self.sent, self.refused):
            path.mkdir(parents=True, exist_ok=True)

    def _today(self) -> dt.date:
        return local_date(self._clock)

    def _kept(self, batch_id: str) -> str:
        """The stem of what ``sent/`` keeps of a batch's order at this bank (a batch may go to several banks)."""
        return f"{self.bank_code}.{safe_name(batch_id)}"

    def submit(self, order: DisbursementOrder) -> None:
        """Write the order file of a batch into ``outbox/``, once.

        The rows sent are kept in ``sent/`` to check results against; a marker records that the file was placed, so
        a repeated submission places nothing. A process killed before the marker places the same file (same name,
        same bytes, same batch id in the header) again on the next submission.

        Raises:
            BankFileError: when the order does not add up, does not fit the layout, or differs from an order
                already submitted under the same batch id.
        """
        safe = self._kept(order.batch_id)
        meta_path = self.sent / f"{safe}.order.json"
        if meta_path.exists():
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            date = dt.date.fromisoformat(meta["date"])
        else:
            meta, date = None, self._today()
        name, data, rows = render_order(order, self.layout, date=date, bank=self.bank_code)
        digest = _digest(order.batch_id, order.item, order.period, rows.write_csv())
        if meta is not None and meta["digest"] != digest:
            raise BankFileError(
                f"batch {order.batch_id} was already submitted with a different order "
                f"({meta['count']} rows, {meta['total_fen']} fen); refusing to send a second one",
                file=meta["file"],
            )
        if (self.sent / f"{safe}.withdrawn").exists():
            raise BankFileError(f"batch {order.batch_id} was withdrawn; its order is not sent again", file=meta["file"])
        placed = self.sent / f"{safe}.placed"
        if placed.exists():
            return
        if meta is None:
            kept = rows.select("row_id", "serial", "account", "amount_fen")
            write_atomic(self.sent / f"{safe}.order.parquet", _parquet(kept))
            record = {
                "batch_id": order.batch_id,
                "item": order.item,
                "period": order.period,
                "count": order.count,
                "total_fen": order.total_fen,
                "digest": digest,
                "file": name,
                "date": date.isoformat(),
            }
            write_atomic(meta_path, json.dumps(record, ensure_ascii=False, indent=2).encode("utf-8"))
        write_atomic(self.outbox / name, data)
        write_atomic(placed, name.encode("utf-8"))

    def withdraw(self, batch_id: str) -> None:
        """Take back a batch's order while its file still waits in ``outbox/`` (not yet carried to the bank).

        The file is removed and the batch marked withdrawn in ``sent/``: the order is never placed again and has no
        results. Withdrawing again, or a batch never submitted here, changes nothing.

        Raises:
            WithdrawalRefused: the order file has left ``outbox/`` (the bank has it, and may have been funded); the
                bank must cancel it on its side.
        """
        safe = self._kept(batch_id)
        meta_path = self.sent / f"{safe}.order.json"
        withdrawn = self.sent / f"{safe}.withdrawn"
        if not meta_path.exists():
            return
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta["batch_id"] != batch_id:
            return  # only a look-alike id was submitted here
        waiting = self.outbox / meta["file"]
        if withdrawn.exists():
            waiting.unlink(missing_ok=True)  # a withdrawal interrupted before the file was removed
            return
        if (self.sent / f"{safe}.placed").exists() and not waiting.exists():
            raise WithdrawalRefused(
                f"批次 {batch_id} 的指令文件 {meta['file']} 已交银行，须由银行撤销 / "
                "the order file has been carried to the bank: ask the bank to cancel it"
            )
        write_atomic(withdrawn, meta["file"].encode("utf-8"))
        waiting.unlink(missing_ok=True)

    def _refuse(self, path: Path, error: BankFileError) -> None:
        self.refused.mkdir(parents=True, exist_ok=True)
        target = self.refused / path.name
        shutil.move(path, target)
        write_atomic(self.refused / f"{path.name}.reason.txt", f"{error}\n".encode())

    def _answers(self, section: FileSection, batch_id: str) -> list[Path]:
        pattern = answer_pattern(section, batch_id, bank=self.bank_code)
        return sorted(p for p in self.inbox.iterdir() if p.is_file() and pattern.fullmatch(p.name))

    def results(self, batch_id: str) -> pl.DataFrame:
        """The results of a batch found so far in ``inbox/``, every file checked whole against the order.

        Returns:
            The frame of [`yikatong.ports.Bank.results`][]; empty when no result file is in yet or the batch was
            never submitted here. Results repeated across files are returned as they are.

        Raises:
            BankFileError: when a result file does not add up; that file is moved to ``refused/`` and nothing of it
                is returned.
        """
        safe = self._kept(batch_id)
        sent_path, meta_path = self.sent / f"{safe}.order.parquet", self.sent / f"{safe}.order.json"
        if not meta_path.exists() or json.loads(meta_path.read_text(encoding="utf-8"))["batch_id"] != batch_id:
            return pl.DataFrame(schema=RESULT_SCHEMA)  # never submitted here (or only a look-alike id was)
        if (self.sent / f"{safe}.withdrawn").exists():
            return pl.DataFrame(schema=RESULT_SCHEMA)
        sent = pl.read_parquet(sent_path)
        frames = [pl.DataFrame(schema=RESULT_SCHEMA)]
        for path in self._answers(self.layout.result, batch_id):
            try:
                data = path.read_bytes()
                frames.append(
                    read_result(data, self.layout, file=path.name, batch_id=batch_id, sent=sent, bank=self.bank_code)
                )
            except BankFileError as exc:
                self._refuse(path, exc)
                raise
        return pl.concat(frames)

    def _verify_carriable(self, rows: pl.DataFrame, fits: pl.Series) -> pl.DataFrame:
        carried = self.verify_accounts(rows.filter(fits)) if bool(fits.any()) else None
        refused = rows.filter(~fits).select(
            pl.col("row_id").cast(pl.Int64),
            pl.lit(False).alias("verified"),
            pl.lit(_UNCARRIABLE).alias("reason"),
        )
        if carried is None:
            return refused
        return pl.concat([carried.cast(refused.schema), refused], how="vertical").sort("row_id")

    def verify_accounts(self, rows: pl.DataFrame) -> pl.DataFrame:
        """Account verification 联网核查 by a request file and the bank's response file.

        The first call for a set of rows writes the request into ``outbox/`` and raises ``TimeoutError``; once
        the host has brought the response into ``inbox/``, the same call returns it.

        Returns:
            ``row_id``, ``verified``, ``reason`` (null when verified): one row per input row.

        A row that no request file can carry (a missing value, a value wider than the layout's field, or one holding
        the separator, a line break or another control character) is answered ``verified=False`` with that reason
        without asking the bank: the bank could not have confirmed it either.

        Raises:
            TimeoutError: the bank's response is not in ``inbox/`` yet; call again later with the same rows.
            BankFileError: the rows lack a column, or the response does not add up (moved to ``refused/``).
        """
        fits = _carriable(rows, self.layout.verify_request)
        if not bool(fits.all()):
            return self._verify_carriable(rows, fits)
        picked = verify_rows(rows, file="verification request")
        request_id = "V" + _digest(picked.write_csv())[:16]
        sent_path = self.sent / f"{self.bank_code}.{request_id}.verify.parquet"
        if not sent_path.exists():
            name, data, picked = render_verify_request(
                rows, self.layout, request_id=request_id, date=self._today(), bank=self.bank_code
            )
            write_atomic(self.outbox / name, data)
            write_atomic(sent_path, _parquet(picked.select("row_id", "serial", "account")))
        sent = pl.read_parquet(sent_path)
        answers = self._answers(self.layout.verify_response, request_id)
        if not answers:
            pending = file_name(
                self.layout.verify_request, batch_id=request_id, date=self._today(), bank=self.bank_code
            )
            raise TimeoutError(
                f"no verification response for request {request_id} in {self.inbox} yet "
                f"(request file like {pending}); call again with the same rows once the bank has answered"
            )
        path = answers[-1]
        try:
            return read_verify_response(
                path.read_bytes(), self.layout, file=path.name, request_id=request_id, sent=sent, bank=self.bank_code
            )
        except BankFileError as exc:
            self._refuse(path, exc)
            raise


_UNCARRIABLE = (
    "不能报送核查：字段缺失或超出文件格式 / not sent for verification: a field is missing or does not fit the layout"
)
_CARRIED = ("id_number", "name", "account")


def _carriable(rows: pl.DataFrame, section: FileSection) -> pl.Series:
    """Per row: can a verification request file of this layout carry it (every value present and fitting)?"""
    missing = {"row_id", *_CARRIED} - set(rows.columns)
    if missing:
        raise BankFileError(f"the verification rows lack columns {sorted(missing)}", file="verification request")
    fits = rows.select(pl.all_horizontal(pl.col("row_id", *_CARRIED).is_not_null())).to_series()
    widths: dict[str, int | None] = {f.name: f.width for f in section.detail.fields if f.name in _CARRIED}
    for name in _CARRIED:
        column = rows[name].cast(pl.String).fill_null("")
        values = column.to_list()
        if section.format == "fixed":
            width = widths.get(name) or 0
            ok = [len(v.encode(section.encoding, errors="replace")) <= width for v in values]
        else:
            ok = [not (section.separator and section.separator in v) for v in values]
        clean = ~column.str.contains(CONTROL_CHARACTERS)
        fits = fits & pl.Series(ok, dtype=pl.Boolean) & clean
    return fits
