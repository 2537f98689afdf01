"""The account registry at rest: sealed values, keyed look-ups, and the registry's own keyed event chain.

The same for every SQL registry (the embedded file from its schema step 7, PostgreSQL from its step 8). A registry
opened with [`Keys`][yikatong.ports.Keys] on a store without accounts becomes *sealed*: its ``meta`` table
says so (``registry_cipher``) with the key's check value, and from then on

* ``accounts.id_number`` and ``accounts.account`` (and the same columns of ``account_events``) hold keyed look-up
  hashes, so the one-active-account index and every look-up still work; the ID number, the account number and the
  holder's name are in ``sealed`` (AES-256-GCM, bound to the row: a value moved to another row no longer opens);
* every event carries ``records_digest``, the digest of the person's records as the event left them, and ``hash``,
  its link in a chain over all events (HMAC-SHA256 under the audit key; plain SHA-256 in a registry without keys),
  so an account record changed, an event edited, removed or reordered is found by ``check_registry``.

A registry without keys keeps the values in clear and chains its events with SHA-256 (events written before those
steps have no link: they are counted as history from before the chain). Keys given to a clear registry that already
holds accounts are refused: its records would be half clear, half sealed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from yikatong.adapters._registry_rows import account_from_row, event_from_row
from yikatong.adapters.crypto import FieldCipher
from yikatong.errors import StoreError
from yikatong.ports import Keys
from yikatong.registry import Account, AccountEvent
from yikatong.workflow.audit import canonical_json

__all__ = ["CHAIN_START", "REGISTRY_CIPHER", "RegistrySealing", "event_link", "records_digest"]

REGISTRY_CIPHER: Final = "aes-256-gcm"
"""The ``meta.registry_cipher`` of a sealed registry."""

CHAIN_START: Final = "0" * 64
"""The link before the first event of the registry's chain."""


def _text(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _mac(data: str, key: bytes | None) -> str:
    raw = data.encode("utf-8")
    return _text(hashlib.sha256(raw).digest() if key is None else hmac.new(key, raw, hashlib.sha256).digest())


def _record_fields(record: Account) -> dict[str, Any]:
    return {
        "id_number": record.id_number,
        "seq": record.seq,
        "account": record.account,
        "kind": record.kind,
        "bank": record.bank,
        "holder_name": record.holder_name,
        "town": record.town,
        "status": record.status,
        "declared_at": record.declared_at,
        "declared_by": record.declared_by,
        "reviewed_at": record.reviewed_at,
    }


def records_digest(records: Sequence[Account], *, key: bytes | None) -> str:
    """The digest of one person's records (every field, in ``seq`` order): HMAC-SHA256 under ``key``, base64url."""
    ordered = sorted(records, key=lambda r: r.seq)
    return _mac(canonical_json({"records": [_record_fields(r) for r in ordered]}), key)


def event_link(prev: str, seq: int, event: AccountEvent, digest: str, *, key: bytes | None) -> str:
    """An event's link in the chain: over the previous link, its position, every field and its records digest."""
    body = {
        "prev": prev,
        "seq": seq,
        "id_number": event.id_number,
        "account": event.account,
        "action": event.action,
        "status": event.status,
        "at": event.at,
        "user": event.user,
        "role": event.role,
        "town": event.town,
        "note": event.note,
        "records": digest,
    }
    return _mac(canonical_json(body), key)


class RegistrySealing:
    """The registry's sealing state and the conversions between its records and the rows it stores.

    The same for every SQL registry (the embedded file and PostgreSQL): the registry reads its ``meta`` entries and
    supplies how a new registry is marked sealed.

    Args:
        name: How messages name the registry (a file name, or the PostgreSQL schema).
        meta: The registry's ``registry_cipher`` and ``registry_key_check`` entries, as stored.
        keys: The keys given to the registry, if any.
        mark: Writes the given ``meta`` entries in one transaction unless the registry already holds accounts;
            returns whether it wrote them. Called only for a new registry opened with keys, not read-only.
        read_only: Nothing is written, not even the seal mark.

    Raises:
        StoreError: a wrong key, or keys given to a clear registry that already holds accounts.
    """

    def __init__(
        self,
        name: str,
        meta: Mapping[str, str],
        keys: Keys | None,
        *,
        mark: Callable[[Sequence[tuple[str, str]]], bool],
        read_only: bool = False,
    ) -> None:
        self.name = name
        self.sealed = meta.get("registry_cipher") == REGISTRY_CIPHER
        self.cipher = FieldCipher(keys) if keys is not None else None
        self.chain_key: bytes | None = None
        """The key of the event chain: the audit key in a sealed registry; None (plain SHA-256) in a clear one."""
        if self.cipher is None:
            return
        if self.sealed:
            if meta.get("registry_key_check") != self.cipher.check_value:
                raise StoreError(f"{self.name}: 密钥与账户库不符 / the key is not this registry's key")
            self.chain_key = keys.audit_key() if keys is not None else None
            return
        if read_only:
            self.cipher = None
            return
        if not mark([("registry_cipher", REGISTRY_CIPHER), ("registry_key_check", self.cipher.check_value)]):
            raise StoreError(
                f"{self.name}: 账户库创建时未加密且已有账户，不能改为加密写入 / the registry holds accounts "
                "written without encryption; open it without keys, or start a new store with keys"
            )
        self.sealed = True
        self.chain_key = keys.audit_key() if keys is not None else None

    def _need_cipher(self) -> FieldCipher:
        if self.cipher is None:
            raise StoreError(
                f"{self.name}: 账户库已加密，需要密钥 / the registry is encrypted: open it with its keys "
                "(YIKATONG_AUDIT_KEY or --key-file)"
            )
        return self.cipher

    def key(self, value: str) -> str:
        """How ``id_number`` and ``account`` columns store ``value``: its look-up hash when sealed, else itself."""
        return self._need_cipher().lookup(value) if self.sealed else value

    def record_row(self, record: Account) -> tuple[Any, ...]:
        """The stored row of a record: the record columns (keyed when sealed), then ``sealed``."""
        fields = _record_fields(record)
        sealed = None
        if self.sealed:
            id_key = self.key(record.id_number)
            plain = json.dumps([record.id_number, record.account, record.holder_name], ensure_ascii=False)
            sealed = self._need_cipher().seal(plain.encode("utf-8"), place=f"registry/{id_key}/{record.seq}")
            fields |= {"id_number": id_key, "account": self.key(record.account), "holder_name": ""}
        return (
            fields["id_number"],
            fields["seq"],
            fields["account"],
            fields["kind"],
            fields["bank"],
            fields["holder_name"],
            fields["town"],
            fields["status"],
            record.declared_at.isoformat(),
            record.declared_by,
            None if record.reviewed_at is None else record.reviewed_at.isoformat(),
            sealed,
        )

    def open_record(self, row: Sequence[Any]) -> Account:
        """A record from its stored row (record columns, then ``sealed``).

        Raises:
            StoreError: a sealed value without the key, one that does not open, or a clear value in a sealed
                registry.
        """
        *columns, sealed = row
        if sealed is None:
            if self.sealed:
                raise StoreError(f"{self.name}: clear account record in a sealed registry / 加密账户库中有明文记录")
            return account_from_row(columns)
        plain = self._need_cipher().open(sealed, place=f"registry/{columns[0]}/{columns[1]}")
        id_number, account, holder = json.loads(plain)
        if self.key(id_number) != columns[0] or self.key(account) != columns[2]:
            raise StoreError(f"{self.name}: account record does not match its look-up keys / 账户记录与索引不符")
        return account_from_row([id_number, columns[1], account, *columns[3:5], holder, *columns[6:]])

    def event_row(self, seq: int, event: AccountEvent, digest: str, link: str) -> tuple[Any, ...]:
        """The stored row of an event: ``seq``, the event columns (keyed when sealed), ``sealed``, its records
        digest and its link."""
        id_number, account, sealed = event.id_number, event.account, None
        if self.sealed:
            plain = json.dumps([event.id_number, event.account], ensure_ascii=False).encode("utf-8")
            sealed = self._need_cipher().seal(plain, place=f"registry-event/{seq}")
            id_number, account = self.key(event.id_number), self.key(event.account)
        at = event.at.isoformat()
        columns = (id_number, account, event.action, event.status, at, event.user, event.role, event.town, event.note)
        return (seq, *columns, sealed, digest, link)

    def open_event(self, row: Sequence[Any]) -> AccountEvent:
        """An event from its stored row (``seq``, event columns, ``sealed``, digest, link).

        Raises:
            StoreError: as ``open_record``.
        """
        seq, *columns = row[:10]
        sealed = row[10]
        if sealed is None:
            if self.sealed:
                raise StoreError(f"{self.name}: clear account event in a sealed registry / 加密账户库中有明文历史")
            return event_from_row(columns)
        id_number, account = json.loads(self._need_cipher().open(sealed, place=f"registry-event/{seq}"))
        if self.key(id_number) != columns[0] or self.key(account) != columns[1]:
            raise StoreError(f"{self.name}: account event {seq} does not match its look-up keys / 账户历史与索引不符")
        return event_from_row([id_number, account, *columns[2:]])
