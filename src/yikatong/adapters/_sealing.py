"""Personal data at rest in a SQL store: which parts are sealed, where each is bound, and the store's key check.

Every SQL store (SQLite and PostgreSQL) seals the same things the same way, through one ``Sealing``:

* Row data (names, ID numbers, accounts, amounts… of every batch): the batch's immutable columns as one Parquet
  blob, sealed and bound to its batch (``row-data/<batch>``).
* The approved account of each row state (``pay_account``), bound to its batch and row (``row-state/<batch>/<row>``).
* The ledger's ID numbers: the ledger keeps the keyed look-up hash in ``id_number`` (so the unique index on one
  active payment per person, item and period still works) and the sealed ID in ``id_sealed``
  (``ledger/<batch>/<row>``). A purged entry keeps only the workflow's hashed ID (``#…``) in ``id_number`` and no
  sealed ID.

A store created with [`Keys`][yikatong.ports.Keys] is *sealed*: its ``meta`` table says so (``data_cipher``) and
keeps the key's check value (``data_key_check``), so a wrong key is refused at open instead of failing row by row.
A store created without keys stays clear; opened with keys to write, it is refused once it holds batches (its data
would be half clear, half sealed, and the ledger index could no longer compare them). Each store reads and writes
its own ``meta``; this module decides.

Reading opens the same sealed values again and again (the workflow reads a batch's rows and the ledger at most
steps), so a ``Sealing`` remembers what it opened: a value already opened at the same place (the same sealed bytes,
the same batch and row, and for the ledger the same look-up hash) is given back without decrypting it again. Sealed
bytes carry their random nonce and their tag, so equal bytes at an equal place always open to the same text, and
bytes that were altered or moved miss the memo and are decrypted (and refused) as before. The memo is bounded
(``MEMO_MAX`` values, emptied when full) and lives as long as the store object that holds the opened data anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import polars as pl

from yikatong.adapters.crypto import FieldCipher, is_sealed
from yikatong.errors import StoreError
from yikatong.ports import Keys
from yikatong.records import PURGED_ID_PREFIX

__all__ = ["CIPHER_NAME", "MEMO_MAX", "META_KEYS", "Sealing"]

CIPHER_NAME: Final = "aes-256-gcm"
"""The ``meta.data_cipher`` of a sealed store."""

META_KEYS: Final = ("data_cipher", "data_key_check")
"""The ``meta`` entries that mark a sealed store."""

MEMO_MAX: Final = 200_000
"""Opened values a ``Sealing`` remembers (approved accounts and ledger IDs) before it forgets them all."""


def _rows_place(batch_id: str) -> str:
    return f"row-data/{batch_id}"


def _state_place(batch_id: object, row_id: object) -> str:
    return f"row-state/{batch_id}/{row_id}"


def _ledger_place(batch_id: object, row_id: object) -> str:
    return f"ledger/{batch_id}/{row_id}"


class Sealing:
    """A store's sealing state: its cipher (None for a clear store) and whether the store is sealed.

    Args:
        name: How messages name the store (its file name, or its PostgreSQL schema).
        keys: The keys given to the store, if any.
        meta: The store's ``meta`` entries ``META_KEYS`` as stored (missing ones absent).
        read_only: The store was opened read-only (nothing is written, not even the seal mark).
        mark: Writes the given ``meta`` entries in one transaction if the store holds no batch yet, and says
            whether it did (False: the store holds batches, nothing written). Called once, for a clear store
            opened with keys to write.

    Raises:
        StoreError: a wrong key, or keys given to write into a clear store that already holds batches.
    """

    def __init__(
        self,
        name: str,
        keys: Keys | None,
        *,
        meta: Mapping[str, str],
        read_only: bool,
        mark: Callable[[Sequence[tuple[str, str]]], bool],
    ) -> None:
        self.name = name
        self.sealed = meta.get("data_cipher") == CIPHER_NAME
        self._opened: dict[tuple[object, ...], str] = {}
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
        if not mark([("data_cipher", CIPHER_NAME), ("data_key_check", self.cipher.check_value)]):
            raise StoreError(
                f"{self.name}: 该数据库创建时未加密且已有数据，不能改为加密写入 / the store was created without "
                "encryption and holds batches; open it without keys, or start a new store with keys"
            )
        self.sealed = True

    def _need_cipher(self, what: str) -> FieldCipher:
        if self.cipher is None:
            raise StoreError(
                f"{self.name}: {what}已加密，需要密钥 / {what} is encrypted: open the store with its keys "
                "(YIKATONG_AUDIT_KEY or --key-file)"
            )
        return self.cipher

    def _writing(self) -> FieldCipher | None:
        """The cipher to seal with: None in a clear store; a sealed store opened without its key writes nothing."""
        if self.cipher is None and self.sealed:
            return self._need_cipher("数据库 the store")
        return self.cipher

    # -- row data -------------------------------------------------------------------------------------------------

    def seal_rows(self, batch_id: str, parquet: bytes) -> bytes:
        """The row data blob as stored: sealed in a sealed store, else as given."""
        cipher = self._writing()
        return parquet if cipher is None else cipher.seal(parquet, place=_rows_place(batch_id))

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
        return self._need_cipher("行数据 row data").open(stored, place=_rows_place(batch_id))

    # -- approved accounts of row states ------------------------------------------------------------------------------

    def seal_states(self, params: Sequence[tuple[Any, ...]], *, at: int, batch_at: int, row_at: int) -> list[Any]:
        """Row-state parameters with the approved account (position ``at``) sealed, bound to its batch and row
        (found at ``batch_at`` and ``row_at``); unchanged in a clear store."""
        cipher = self._writing()
        if cipher is None:
            return list(params)
        out = []
        for p in params:
            value = p[at]
            if value is not None:
                value = cipher.seal(str(value).encode("utf-8"), place=_state_place(p[batch_at], p[row_at]))
            out.append((*p[:at], value, *p[at + 1 :]))
        return out

    def open_account(self, batch_id: object, row_id: object, value: object) -> str | None:
        """An approved account as stored (sealed bytes, clear text or None), opened.

        Raises:
            StoreError: a sealed account without the key, one that does not open, or a clear one in a sealed store.
        """
        if isinstance(value, bytes):
            key = (value, batch_id, row_id)
            opened = self._opened.get(key)
            if opened is None:
                cipher = self._need_cipher("收款账号 approved accounts")
                opened = cipher.open(value, place=_state_place(batch_id, row_id)).decode("utf-8")
                self._remember(key, opened)
            return opened
        if value is not None and self.sealed:
            raise StoreError(f"{self.name}: batch {batch_id}: clear account in a sealed store / 加密库中有明文账号")
        return None if value is None else str(value)

    def open_states(self, batch_id: str, states: Sequence[tuple[Any, ...]], *, at: int) -> list[tuple[Any, ...]]:
        """Row states (``row_id`` first) with the approved account at ``at`` opened.

        Raises:
            StoreError: as ``open_account``.
        """
        return [(*r[:at], self.open_account(batch_id, r[0], r[at]), *r[at + 1 :]) for r in states]

    def seal_account_column(self, frame: pl.DataFrame, column: str, sealed_column: str) -> pl.DataFrame:
        """A frame of row states (``batch_id``, ``row_id``, ``column``…) as stored: in a sealed store ``column``
        emptied and its values sealed into the Binary ``sealed_column``; in a clear store ``sealed_column`` null."""
        cipher = self._writing()
        if cipher is None:
            return frame.with_columns(pl.lit(None, pl.Binary).alias(sealed_column))
        places = [_state_place(b, r) for b, r in zip(frame["batch_id"], frame["row_id"], strict=True)]
        sealed = cipher.seal_texts(frame[column].to_list(), places)
        return frame.with_columns(
            pl.lit(None, pl.String).alias(column), pl.Series(sealed_column, sealed, dtype=pl.Binary)
        )

    def open_account_column(self, frame: pl.DataFrame, column: str, sealed_column: str) -> pl.DataFrame:
        """The inverse of ``seal_account_column``: ``column`` opened from ``sealed_column``, which is dropped.

        Raises:
            StoreError: as ``open_account``.
        """
        if not self.sealed and frame[sealed_column].null_count() == frame.height:
            return frame.drop(sealed_column)  # a clear store: nothing to open, nothing to check row by row
        clear, sealed = frame[column].to_list(), frame[sealed_column].to_list()
        opened = [
            self.open_account(b, r, s if s is not None else c)
            for b, r, c, s in zip(frame["batch_id"], frame["row_id"], clear, sealed, strict=True)
        ]
        return frame.with_columns(pl.Series(column, opened, dtype=pl.String)).drop(sealed_column)

    # -- ledger ---------------------------------------------------------------------------------------------------

    def lookup(self, id_number: str) -> str:
        """How the ledger stores ``id_number``: its look-up hash in a sealed store, else itself."""
        return id_number if self.cipher is None else self.cipher.lookup(id_number)

    def ledger_params(self, entries: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Ledger parameters (``batch_id, row_id, id_number, …``) with ``id_sealed`` appended; in a sealed store the
        ID becomes its look-up hash and the sealed ID."""
        cipher = self._writing()
        if cipher is None:
            return [(*e, None) for e in entries]
        out = []
        for e in entries:
            batch_id, row_id, id_number = e[0], e[1], str(e[2])
            sealed = cipher.seal(id_number.encode("utf-8"), place=_ledger_place(batch_id, row_id))
            out.append((batch_id, row_id, cipher.lookup(id_number), *e[3:], sealed))
        return out

    def open_ledger(self, rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Ledger rows (``batch_id, row_id, id_number, …, id_sealed``) with the clear ID back in place, ``id_sealed``
        dropped.

        Raises:
            StoreError: sealed IDs without the key, an ID that does not open or does not match its look-up hash, or
                a clear ID in a sealed store.
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
            key = (sealed, r[0], r[1], r[2])
            id_number = self._opened.get(key)
            if id_number is None:
                cipher = self._need_cipher("台账 ledger")
                id_number = cipher.open(sealed, place=_ledger_place(r[0], r[1])).decode("utf-8")
                if cipher.lookup(id_number) != r[2]:
                    raise StoreError(f"{self.name}: ledger {r[0]}/{r[1]}: look-up hash does not match / 台账索引不符")
                self._remember(key, id_number)
            out.append((r[0], r[1], id_number, *r[3:-1]))
        return out

    def _remember(self, key: tuple[object, ...], opened: str) -> None:
        if len(self._opened) >= MEMO_MAX:
            self._opened.clear()
        self._opened[key] = opened

    def seal_ledger_frame(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Ledger entries (``batch_id, row_id, id_number, …``) as stored, with the Binary ``id_sealed`` last (null in
        a clear store, where ``id_number`` stays as it is)."""
        if self._writing() is None:
            return frame.with_columns(pl.lit(None, pl.Binary).alias("id_sealed"))
        stored = self.ledger_params(frame.rows())
        schema = {**frame.schema, "id_sealed": pl.Binary()}
        return pl.DataFrame(stored, schema=schema, orient="row")

    def open_ledger_frame(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The inverse of ``seal_ledger_frame`` (``id_sealed`` last, then dropped).

        Raises:
            StoreError: as ``open_ledger``.
        """
        if not self.sealed and frame["id_sealed"].null_count() == frame.height:
            return frame.drop("id_sealed")
        schema = {c: t for c, t in frame.schema.items() if c != "id_sealed"}
        return pl.DataFrame(self.open_ledger(frame.rows()), schema=schema, orient="row")
