"""What every store checks and does the same way when it purges a batch ([`yikatong.ports.Store.purge`][]).

A purge carries a change that only moves the batch's header one version on and appends the purge's audit entry,
and the hashed ID numbers its ledger entries keep. These helpers refuse anything else, and empty the personal
columns of a frame of rows, so the memory, SQLite and PostgreSQL stores refuse and remove exactly the same.
"""

from __future__ import annotations

import polars as pl

from yikatong.errors import StoreError
from yikatong.records import PURGED_ID_PREFIX, Change
from yikatong.workflow.purge import purged_rows

__all__ = ["LEDGER_ID_SCHEMA", "check_ledger_ids", "check_purge_change", "purged_rows"]

LEDGER_ID_SCHEMA: dict[str, pl.DataType] = {"row_id": pl.Int64(), "id_number": pl.String()}
"""Columns of a purge's ``ledger_ids``."""


def check_purge_change(change: Change, ledger_ids: pl.DataFrame) -> pl.DataFrame:
    """Refuse a purge whose change carries more than a header and audit entries; return ``ledger_ids`` conformed.

    Raises:
        StoreError: the change carries rows, updates, ledger entries or exceptions, has no audit entry or creates
            a batch; ``ledger_ids`` lacks its columns, repeats a row or holds a value that is not a purged ID.
    """
    if change.expected_version is None:
        raise StoreError("purge refused: a purge cannot create a batch / 清除被拒绝：不能新建批次")
    carried = [
        name
        for name, value in (
            ("rows", change.new_rows),
            ("row updates", change.row_updates),
            ("ledger entries", change.ledger),
            ("exceptions", change.exceptions),
        )
        if value is not None
    ]
    if carried:
        raise StoreError(f"purge refused: the change carries {', '.join(carried)} / 清除被拒绝：变更不得包含数据")
    if not change.audit:
        raise StoreError("purge refused: a purge needs its audit entry / 清除被拒绝：缺少审计条目")
    missing = [c for c in LEDGER_ID_SCHEMA if c not in ledger_ids.columns]
    if missing:
        raise StoreError(f"purge refused: ledger_ids lack column(s) {', '.join(missing)} / 清除被拒绝：缺少列")
    try:
        ids = ledger_ids.select(pl.col(c).cast(t) for c, t in LEDGER_ID_SCHEMA.items())
    except pl.exceptions.PolarsError as exc:
        raise StoreError(f"purge refused: ledger_ids do not fit ({type(exc).__name__}) / 清除被拒绝") from None
    if ids["row_id"].is_duplicated().any() or ids["row_id"].is_null().any():
        raise StoreError("purge refused: ledger_ids name a row twice or none / 清除被拒绝：行号重复或为空")
    plain = ids.filter(~pl.col("id_number").str.starts_with(PURGED_ID_PREFIX).fill_null(False))
    if plain.height:
        raise StoreError(
            f"purge refused: {plain.height} ledger ID(s) are not hashed (row {plain['row_id'][0]}) "
            "/ 清除被拒绝：台账身份证号须为散列值"
        )
    return ids


def check_ledger_ids(batch_id: str, stored_rows: pl.Series, ids: pl.DataFrame) -> None:
    """Refuse ``ids`` unless they name exactly the batch's stored ledger rows (``stored_rows``: their ``row_id``).

    Raises:
        StoreError: naming how many entries are missing or unknown.
    """
    stored = set(stored_rows.to_list())
    given = set(ids["row_id"].to_list())
    if stored != given:
        raise StoreError(
            f"purge refused: batch {batch_id} has {len(stored)} ledger entries, ledger_ids name {len(given)} "
            f"({len(stored - given)} missing, {len(given - stored)} unknown) / 清除被拒绝：台账条目不符"
        )
