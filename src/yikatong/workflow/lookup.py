"""A resident's look-up of their own payments (渝快办-style self-query), as pure steps over frames.

A resident gives a name and an ID number; the answer is their payments across items and periods (item, period,
amount, pay date, status, the masked account) and where to raise an objection (the department responsible for the
item, the town that collected the row, the catalogue's contact). The pieces here are what every implementation of
[`ResidentLookup`][yikatong.ports.ResidentLookup] shares:

* [`parse_query`][yikatong.workflow.lookup.parse_query] checks and normalises the question (a blank name, an ID that is
  not one: refused without repeating the number);
* [`payments_answer`][yikatong.workflow.lookup.payments_answer] turns the person's stored rows into the answer, keeping
  only rows whose name matches
  too: a name that does not go with the ID gives the same empty answer as an ID never paid, so the look-up cannot
  be used to find out who exists;
* [`lookup_hash`][yikatong.workflow.lookup.lookup_hash] and [`lookup_entry`][yikatong.workflow.lookup.lookup_entry]
  record the look-up in the audit chain: who asked, through which channel, a keyed hash of the ID number (never the
  number), and how many payments were found;
* [`chain_key`][yikatong.workflow.lookup.chain_key] tells which key the store's chain is written with, so the entry
  continues it.

The store-backed implementation is [`yikatong.adapters.StoreResidentLookup`][].
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Final

import polars as pl
from attrs import field, frozen

from yikatong.catalog import Catalog
from yikatong.errors import StoreError
from yikatong.ingest._normalise import clean_id, clean_name
from yikatong.localtime import COUNTY_ZONE
from yikatong.ports import Keys
from yikatong.privacy import mask_account_expr
from yikatong.records import RESIDENT_PAYMENT_SCHEMA, AuditEntry
from yikatong.registry.operations import id_number_ok
from yikatong.workflow._frames import canonical_id_expr
from yikatong.workflow.audit import entry_hash, make_entry

__all__ = [
    "LOOKUP_ACTION",
    "LOOKUP_ROLE",
    "STATUS_ZH",
    "LookupQuery",
    "chain_key",
    "lookup_entry",
    "lookup_hash",
    "parse_query",
    "payments_answer",
]

LOOKUP_ACTION: Final = "resident_lookup"
"""The audit action of a look-up."""

LOOKUP_ROLE: Final = "channel"
"""The role a look-up is recorded under: the host's channel, asking for a resident."""

STATUS_ZH: Final[dict[str, str]] = {
    "sent": "发放中",
    "paid": "已发放",
    "failed": "未发放成功，待更正",
    "reversed": "已退回（退汇），待更正",
    "returned": "未发放成功，主管部门更正中",
    "reissued": "已更正，另行补发",
    "expired": "未发放成功，已过更正期限",
    "withdrawn": "已撤回，未发放",
}
"""Row statuses in the words a resident reads."""

_MAX_NAME: Final = 50
_LOOKUP_LABEL: Final = b"yikatong resident look-up v1"
_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@frozen
class LookupQuery:
    """A checked question: the name as stored rows are normalised, the ID in its 18-character form.

    The ID is left out of the ``repr``, so that a logged query never shows it.
    """

    name: str
    id_number: str = field(repr=False)


def _normalised(value: str, how: pl.Expr) -> str | None:
    out = pl.select(how.alias("v")).item()
    return None if out is None else str(out)


def _upgrade(fifteen: str) -> str:
    body = f"{fifteen[:6]}19{fifteen[6:]}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]


def parse_query(name: str, id_number: str) -> LookupQuery:
    """Check and normalise a look-up's name and ID number.

    The name is normalised as rosters are (``NAME_NORMALISED``: dot look-alikes, zero-width characters, padding
    between Han characters); the ID as ``ID_NORMALISED`` (full-width digits, spaces, a lower-case ``x``), a
    15-digit first-generation number upgraded to 18 characters.

    Raises:
        ValueError: a blank or overlong name or one with control characters, or an ID number that is blank, not
            18 characters of digits (and a final ``X``), with a wrong check character or an impossible birth date.
            The message never repeats the ID.
    """
    clean = _normalised(name, clean_name(pl.lit(name, pl.String)))
    if clean is None:
        raise ValueError("姓名不能为空 / the name must not be blank")
    if len(clean) > _MAX_NAME or any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in clean):
        raise ValueError("姓名格式错误 / the name is not a name (too long or with control characters)")
    cid = _normalised(id_number, clean_id(pl.lit(id_number, pl.String)))
    if cid is None:
        raise ValueError("身份证号不能为空 / the ID number must not be blank")
    if len(cid) == 15 and cid.isdigit():
        cid = _upgrade(cid)
    if len(cid) != 18 or not cid[:17].isdigit() or not (cid[17].isdigit() or cid[17] == "X"):
        raise ValueError("身份证号格式错误 / the ID number is not 18 digits (the last may be X)")
    if not id_number_ok(cid):
        raise ValueError("身份证号校验位错误 / the ID number's check character is wrong")
    try:
        dt.date(int(cid[6:10]), int(cid[10:12]), int(cid[12:14]))
    except ValueError:
        raise ValueError("身份证号中的出生日期无效 / the ID number's birth date is not a date") from None
    return LookupQuery(clean, cid)


def lookup_hash(id_number: str, *, key: bytes) -> str:
    """The keyed hash a look-up is recorded under: HMAC-SHA256 of the 18-character ID under a key derived from the
    audit key, base64url with the prefix ``l1:``. The same person gives the same hash, so an auditor holding the key
    can tell how often one ID was looked up; without the key it says nothing (18-digit IDs are too few to hide
    behind a plain hash)."""
    derived = hmac.new(key, _LOOKUP_LABEL, hashlib.sha256).digest()
    digest = hmac.new(derived, id_number.encode("utf-8"), hashlib.sha256).digest()
    return "l1:" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def chain_key(head: AuditEntry | None, keys: Keys) -> bytes | None:
    """The key the store's audit chain is written with: ``keys.audit_key()`` for a keyed chain (or an empty log),
    None for a chain written without keys.

    Raises:
        StoreError: the head entry verifies under neither: the keys are not this store's.
    """
    key = keys.audit_key()
    if head is None or entry_hash(head, key=key) == head.hash:
        return key
    if entry_hash(head, key=None) == head.hash:
        return None
    raise StoreError("密钥与审计日志不符 / the key is not this store's audit key")


def lookup_entry(
    head: AuditEntry | None,
    *,
    at: dt.datetime,
    asked_by: str,
    channel: str,
    id_hash: str,
    found: int,
    key: bytes | None,
) -> AuditEntry:
    """The audit entry of one look-up, chained after ``head``: ``action``
    [`LOOKUP_ACTION`][yikatong.workflow.lookup.LOOKUP_ACTION], ``role``
    [`LOOKUP_ROLE`][yikatong.workflow.lookup.LOOKUP_ROLE], ``details`` the channel, the ID's
    [`lookup_hash`][yikatong.workflow.lookup.lookup_hash] and the number of payments found."""
    return make_entry(
        previous=head,
        at=at,
        actor=asked_by,
        role=LOOKUP_ROLE,
        action=LOOKUP_ACTION,
        details={"channel": channel, "id_hash": id_hash, "found": found},
        key=key,
    )


def payments_answer(
    rows: pl.DataFrame,
    *,
    query: LookupQuery,
    catalog: Catalog,
    default_contact: str = "",
    zone: str = COUNTY_ZONE,
) -> pl.DataFrame:
    """The answer to ``query`` from the person's stored rows.

    Args:
        rows: Stored rows ([`ROW_SCHEMA`][yikatong.records.ROW_SCHEMA]) that may be the person's, with the batch's
            ``item``, ``period`` and ``department`` columns added. Rows of another ID or another name are dropped.
        query: The checked question.
        catalog: For the item's name and objection contact (an item missing from it shows its code and the
            default contact).
        default_contact: The contact shown where the item names none.
        zone: The county's time zone: the pay date is the county date the row was paid.

    Returns:
        [`RESIDENT_PAYMENT_SCHEMA`][yikatong.records.RESIDENT_PAYMENT_SCHEMA], newest period first, then item; empty
        when nothing matches.
    """
    items = pl.DataFrame(
        {
            "item": [i.code for i in catalog],
            "item_name": [i.name for i in catalog],
            "_contact": [i.objection_contact for i in catalog],
        },
        schema={"item": pl.String, "item_name": pl.String, "_contact": pl.String},
    )
    mine = rows.filter(
        (canonical_id_expr(pl.col("id_number")) == query.id_number) & (clean_name(pl.col("name")) == query.name)
    ).join(items, on="item", how="left")
    status = pl.col("status")
    answer = mine.select(
        "item",
        pl.coalesce("item_name", "item").alias("item_name"),
        "period",
        "amount_fen",
        pl.when(status == "paid")
        .then(pl.col("updated_at").dt.convert_time_zone(zone).dt.date())
        .otherwise(None)
        .alias("pay_date"),
        status.alias("status"),
        status.replace_strict(STATUS_ZH, default=status, return_dtype=pl.String).alias("status_zh"),
        mask_account_expr(pl.coalesce("pay_account", "account")).alias("account_masked"),
        "town",
        "village",
        "department",
        pl.when(pl.col("_contact").fill_null("") != "")
        .then(pl.col("_contact"))
        .otherwise(pl.lit(default_contact))
        .alias("objection_contact"),
        "batch_id",
    )
    return answer.sort(["period", "item", "batch_id"], descending=[True, False, False]).cast(
        RESIDENT_PAYMENT_SCHEMA  # type: ignore[arg-type]
    )
