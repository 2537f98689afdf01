"""Personal data at rest in the PostgreSQL store: its seal mark, and the sealed forms of rows, states and ledger.

What is sealed, and how, is every SQL store's (``yikatong.adapters._sealing``, shared with the embedded store).
Here it meets the PostgreSQL tables (schema step 6):

* a sealed store keeps each batch's immutable columns as one sealed Parquet blob in ``row_data`` (``batch_rows``
  stays empty), checked by its SHA-256 and opened with the key;
* ``row_state.pay_account`` stays empty and the sealed account is in ``pay_account_sealed``;
* ``ledger.id_number`` holds the keyed look-up hash (the unique index on one active payment still compares it) and
  ``id_sealed`` the sealed ID.

A clear store (no keys at creation) uses ``batch_rows``, ``pay_account`` and a clear ``id_number``, as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import polars as pl
import psycopg
from psycopg import sql

from yikatong.adapters._purge import purged_rows
from yikatong.adapters._sealing import META_KEYS, Sealing
from yikatong.adapters.postgres._frames import Connection, copy_out
from yikatong.adapters.sqlite._codec import STATIC_COLUMNS
from yikatong.adapters.sqlite._files import parquet_bytes, read_parquet_bytes
from yikatong.errors import StoreError
from yikatong.ports import Keys
from yikatong.records import PURGED_COLUMNS, ROW_SCHEMA, ROW_STATE_SCHEMA

__all__ = ["SEALED_ACCOUNT", "open_sealing", "purge_batch_data", "read_sealed_rows", "write_sealed_rows"]

SEALED_ACCOUNT = "pay_account_sealed"
"""The ``row_state`` column holding a sealed store's approved account."""

_STATE_READ = {"batch_id": pl.String(), "row_id": pl.Int64(), **ROW_STATE_SCHEMA, SEALED_ACCOUNT: pl.Binary()}


def open_sealing(conn: Connection, schema: str, keys: Keys | None, *, read_only: bool) -> Sealing:
    """The store's ``Sealing``, marking a new store sealed when keys are given.

    Raises:
        StoreError: a wrong key, or keys given to write into a clear store that already holds batches.
    """
    rows = conn.execute("SELECT key, value FROM meta WHERE key = ANY(%s)", (list(META_KEYS),)).fetchall()
    meta = {str(k): str(v) for k, v in rows}

    def mark(entries: Sequence[tuple[str, str]]) -> bool:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("LOCK TABLE audit IN SHARE ROW EXCLUSIVE MODE")  # no batch is created meanwhile
            if cur.execute("SELECT 1 FROM batches LIMIT 1").fetchone() is not None:
                return False
            cur.executemany(
                "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                list(entries),
            )
        return True

    try:
        return Sealing(f"PostgreSQL store {schema}", keys, meta=meta, read_only=read_only, mark=mark)
    except psycopg.Error as exc:
        raise StoreError(f"PostgreSQL store {schema}: 无法读取加密设置 / cannot read the seal mark ({exc})") from exc


def write_sealed_rows(cur: psycopg.Cursor[tuple[object, ...]], sealing: Sealing, rows: pl.DataFrame) -> None:
    """Insert a new batch's immutable columns as one sealed Parquet blob (``rows`` of one batch, sorted)."""
    if not rows.height:
        return
    batch_id = str(rows["batch_id"][0])
    data = sealing.seal_rows(batch_id, parquet_bytes(rows.select(STATIC_COLUMNS)))
    cur.execute(
        "INSERT INTO row_data (batch_id, n_rows, sha256, sealed) VALUES (%s, %s, %s, %s)",
        (batch_id, rows.height, hashlib.sha256(data).hexdigest(), data),
    )


def _static_rows(sealing: Sealing, batch_id: str, ref: tuple[object, ...]) -> pl.DataFrame:
    """A batch's immutable columns from its ``row_data`` entry (``sha256``, ``sealed``), checked and opened."""
    digest, blob = str(ref[0]), ref[1]
    if not isinstance(blob, bytes):
        raise StoreError(f"batch {batch_id}: row data is not binary / 行数据格式错误")
    return read_parquet_bytes(
        blob, expected_sha256=digest, what=f"batch {batch_id}", opener=lambda data: sealing.open_rows(batch_id, data)
    )


def purge_batch_data(
    cur: psycopg.Cursor[tuple[object, ...]], sealing: Sealing, batch_id: str, ledger_ids: pl.DataFrame
) -> None:
    """Empty a batch's personal columns (its sealed row data rewritten without them, or its ``batch_rows`` cells),
    its approved accounts, and give its ledger entries the hashed IDs of ``ledger_ids`` (``row_id``,
    ``id_number``), inside the caller's transaction."""
    if sealing.sealed:
        ref = cur.execute("SELECT sha256, sealed FROM row_data WHERE batch_id = %s", (batch_id,)).fetchone()
        if ref is not None:
            data = sealing.seal_rows(batch_id, parquet_bytes(purged_rows(_static_rows(sealing, batch_id, ref))))
            cur.execute(
                "UPDATE row_data SET sha256 = %s, sealed = %s WHERE batch_id = %s",
                (hashlib.sha256(data).hexdigest(), data, batch_id),
            )
    else:
        sets = ", ".join(f"{c} = NULL" for c in PURGED_COLUMNS if c in STATIC_COLUMNS)
        cur.execute(f"UPDATE batch_rows SET {sets} WHERE batch_id = %s".encode(), (batch_id,))
    sets = ", ".join(f"{c} = NULL" for c in (*(c for c in PURGED_COLUMNS if c in ROW_STATE_SCHEMA), SEALED_ACCOUNT))
    cur.execute(f"UPDATE row_state SET {sets} WHERE batch_id = %s".encode(), (batch_id,))
    cur.executemany(
        "UPDATE ledger SET id_number = %s, id_sealed = NULL WHERE batch_id = %s AND row_id = %s",
        [(h, batch_id, r) for r, h in ledger_ids.select("row_id", "id_number").iter_rows()],
    )


def read_sealed_rows(conn: Connection, sealing: Sealing, batch_id: str) -> pl.DataFrame:
    """A sealed batch's rows in [`ROW_SCHEMA`][yikatong.records.ROW_SCHEMA], sorted by ``row_id`` (empty when unknown).

    Raises:
        StoreError: the row data is missing, damaged or does not open, or disagrees with the row states.
    """
    with conn.transaction(), conn.cursor() as cur:  # one snapshot for the row data and the states
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        ref = cur.execute("SELECT sha256, sealed, n_rows FROM row_data WHERE batch_id = %s", (batch_id,)).fetchone()
        where = sql.SQL("row_state WHERE batch_id = {} ORDER BY row_id").format(batch_id)
        states = copy_out(cur, where, _STATE_READ)
    if ref is None:
        if states.height:
            raise StoreError(f"batch {batch_id}: row data missing / 行数据缺失")
        return pl.DataFrame(schema=ROW_SCHEMA)
    n_rows, what = int(str(ref[2])), f"batch {batch_id}"
    static = _static_rows(sealing, batch_id, ref)
    state = sealing.open_account_column(states, "pay_account", SEALED_ACCOUNT).drop("batch_id")
    if static.height != n_rows or state.height != n_rows:
        raise StoreError(f"{what}: row data and row states disagree / 行数据与行状态不一致")
    joined = static.select(STATIC_COLUMNS).join(state, on="row_id", how="left", maintain_order="left")
    return joined.select(list(ROW_SCHEMA)).sort("row_id")
