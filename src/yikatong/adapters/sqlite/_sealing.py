"""Personal data at rest in the embedded store: which parts are sealed, and the store's key check.

A store created with :class:`~yikatong.ports.Keys` is *sealed*: its ``meta`` table says so (``data_cipher``) and
keeps the key's check value (``data_key_check``), so a wrong key is refused at open instead of failing row by row.

* Row data (names, ID numbers, accounts, amounts… of every batch) is one sealed Parquet blob per batch, bound to
  its batch: inline in ``row_data`` or as a side file.
* The ledger keeps the keyed look-up hash of each ID number in ``id_number`` (so the unique index on one active
  payment per person, item and period still works) and the sealed ID in ``id_sealed``, bound to its batch and row.
  A purged entry keeps only the workflow's hashed ID (``#…``) in ``id_number`` and no sealed ID.

A store created without keys stays clear; opened with keys to write, it is refused once it holds batches (its data
would be half clear, half sealed, and the ledger index could no longer compare them).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from yikatong.adapters.crypto import FieldCipher, is_sealed
from yikatong.errors import StoreError
from yikatong.ports import Keys
from yikatong.records import PURGED_ID_PREFIX

__all__ = ["CIPHER_NAME", "Sealing"]

CIPHER_NAME: Final = "aes-256-gcm"
"""The ``meta.data_cipher`` of a sealed store."""


class Sealing:
    """The store's sealing state: its cipher (None for a clear store) and whether the store is sealed.

    Args:
        conn: The store's open connection.
        path: The store file (for messages).
        keys: The keys given to the store, if any.
        read_only: The store was opened read-only (nothing is written, not even the seal mark).

    Raises:
        StoreError: a wrong key, or keys given to write into a clear store that already holds batches.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, keys: Keys | None, *, read_only: bool) -> None:
        self.name = path.name
        meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('data_cipher', 'data_key_check')"))
        self.sealed = meta.get("data_cipher") == CIPHER_NAME
        self.cipher = FieldCipher(keys) if keys is not None else None
        if self.cipher is None:
            return
        if self.sealed:
            if meta.get("data_key_check") != self.cipher.check_value:
                raise StoreError(f"{self.name}: 密钥与数据库不符 / the key is not this store's key")
            return
        if read_only:
            self.cipher = None  # a clear store read with keys: nothing to open
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT 1 FROM batches LIMIT 1").fetchone() is not None:
                raise StoreError(
                    f"{self.name}: 该数据库创建时未加密且已有数据，不能改为加密写入 / the store was created without "
                    "encryption and holds batches; open it without keys, or start a new store with keys"
                )
            conn.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [("data_cipher", CIPHER_NAME), ("data_key_check", self.cipher.check_value)],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self.sealed = True

    def _need_cipher(self, what: str) -> FieldCipher:
        if self.cipher is None:
            raise StoreError(
                f"{self.name}: {what}已加密，需要密钥 / {what} is encrypted: open the store with its keys "
                "(YIKATONG_AUDIT_KEY or --key-file)"
            )
        return self.cipher

    def seal_rows(self, batch_id: str, parquet: bytes) -> bytes:
        """The row data blob as stored: sealed in a sealed store, else as given."""
        if self.cipher is None:
            return parquet
        return self.cipher.seal(parquet, place=f"row-data/{batch_id}")

    def open_rows(self, batch_id: str, stored: bytes) -> bytes:
        """The row data's Parquet bytes from what is stored.

        Raises:
            StoreError: sealed data without the key, or data that does not open (altered, moved, another key).
        """
        if not is_sealed(stored):
            if self.sealed:
                raise StoreError(
                    f"{self.name}: batch {batch_id}: clear row data in a sealed store / 加密库中有明文数据"
                )
            return stored
        return self._need_cipher("行数据 row data").open(stored, place=f"row-data/{batch_id}")

    def ledger_params(self, entries: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Ledger parameters (``LEDGER_SQL_COLUMNS`` order) with ``id_sealed`` appended; in a sealed store the ID
        becomes its look-up hash and the sealed ID."""
        if self.cipher is None:
            return [(*e, None) for e in entries]
        out = []
        for e in entries:
            batch_id, row_id, id_number = e[0], e[1], e[2]
            sealed = self.cipher.seal(str(id_number).encode("utf-8"), place=f"ledger/{batch_id}/{row_id}")
            out.append((batch_id, row_id, self.cipher.lookup(str(id_number)), *e[3:], sealed))
        return out

    def seal_states(self, params: Sequence[tuple[Any, ...]], *, at: int, batch_at: int, row_at: int) -> list[Any]:
        """Row-state parameters with the approved account (position ``at``) sealed, bound to its batch and row
        (found at ``batch_at`` and ``row_at``); unchanged in a clear store."""
        if self.cipher is None:
            return list(params)
        out = []
        for p in params:
            value = p[at]
            if value is not None:
                place = f"row-state/{p[batch_at]}/{p[row_at]}"
                value = self.cipher.seal(str(value).encode("utf-8"), place=place)
            out.append((*p[:at], value, *p[at + 1 :]))
        return out

    def open_states(self, batch_id: str, states: Sequence[tuple[Any, ...]], *, at: int) -> list[tuple[Any, ...]]:
        """Row states (``row_id`` first) with the approved account at ``at`` opened.

        Raises:
            StoreError: a sealed account without the key, or one that does not open.
        """
        out = []
        for r in states:
            value = r[at]
            if isinstance(value, bytes):
                cipher = self._need_cipher("收款账号 approved accounts")
                value = cipher.open(value, place=f"row-state/{batch_id}/{r[0]}").decode("utf-8")
            elif value is not None and self.sealed:
                raise StoreError(f"{self.name}: batch {batch_id}: clear account in a sealed store / 加密库中有明文账号")
            out.append((*r[:at], value, *r[at + 1 :]))
        return out

    def lookup(self, id_number: str) -> str:
        """How the ledger stores ``id_number``: its look-up hash in a sealed store, else itself."""
        return id_number if self.cipher is None else self.cipher.lookup(id_number)

    def open_ledger(self, rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Ledger rows (``LEDGER_SQL_COLUMNS`` + ``id_sealed``) with the clear ID back in place, ``id_sealed`` dropped.

        Raises:
            StoreError: sealed IDs without the key, or an ID that does not open.
        """
        out = []
        for r in rows:
            sealed = r[-1]
            if sealed is None:
                if self.sealed and not str(r[2]).startswith(PURGED_ID_PREFIX):
                    raise StoreError(
                        f"{self.name}: ledger {r[0]}/{r[1]}: clear ID in a sealed store / 加密库中有明文台账"
                    )
                out.append(tuple(r[:-1]))
                continue
            cipher = self._need_cipher("台账 ledger")
            id_number = cipher.open(sealed, place=f"ledger/{r[0]}/{r[1]}").decode("utf-8")
            if cipher.lookup(id_number) != r[2]:
                raise StoreError(f"{self.name}: ledger {r[0]}/{r[1]}: look-up hash does not match / 台账索引不符")
            out.append((r[0], r[1], id_number, *r[3:-1]))
        return out
