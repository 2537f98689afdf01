"""Personal data at rest: AES-256-GCM sealing and a keyed look-up hash, for the stores.

A store given [`Keys`][yikatong.ports.Keys] seals what identifies a person (ID numbers, accounts, names) with
AES-256-GCM under [`data_key`][yikatong.ports.Keys.data_key]: a fresh 96-bit nonce per value, and the value's place
(batch, row) as associated data, so a sealed value moved to another row no longer opens. Where the store must
compare or index a value without opening it (the ledger's one-active-payment index), it keeps
[`FieldCipher.lookup`][yikatong.adapters.crypto.FieldCipher.lookup]: HMAC-SHA256 under a key derived from the data key,
the same for the same value.

A sealed value is ``MAGIC + nonce + ciphertext-with-tag``; anything else is clear data of a store written without
keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Sequence
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from yikatong.errors import StoreError
from yikatong.ports import Keys

__all__ = ["MAGIC", "FieldCipher", "is_sealed"]

MAGIC: Final = b"YKE1"
"""The first bytes of every sealed value (format version 1: AES-256-GCM, 12-byte nonce)."""

_NONCE: Final = 12


def is_sealed(data: bytes) -> bool:
    """True when ``data`` is a value sealed by [`FieldCipher`][yikatong.adapters.crypto.FieldCipher]."""
    return data[: len(MAGIC)] == MAGIC


class FieldCipher:
    """Seals and opens values with the data key; computes look-up hashes.

    Args:
        keys: The deployment's keys (only [`data_key`][yikatong.ports.Keys.data_key] is used: 32 bytes).

    Raises:
        ValueError: the data key is not 32 bytes.
    """

    def __init__(self, keys: Keys) -> None:
        data_key = keys.data_key()
        if len(data_key) != 32:
            raise ValueError("the data key must be 32 bytes (AES-256) / 数据密钥须为 32 字节")
        self._aead = AESGCM(data_key)
        self._lookup = hmac.new(data_key, b"yikatong look-up key v1", hashlib.sha256).digest()
        self.check_value: str = self.lookup("yikatong key check")
        """A value a store keeps to recognise its key at open (reveals nothing of the key)."""

    def seal(self, plain: bytes, *, place: str) -> bytes:
        """Encrypt ``plain`` bound to ``place`` (e.g. ``"row-data/B1"``)."""
        nonce = os.urandom(_NONCE)
        return MAGIC + nonce + self._aead.encrypt(nonce, plain, place.encode("utf-8"))

    def open(self, sealed: bytes, *, place: str) -> bytes:
        """Decrypt a sealed value stored at ``place``.

        Raises:
            StoreError: the value was not sealed with this key for this place, or was altered.
        """
        if not is_sealed(sealed):
            raise StoreError(f"{place}: not a sealed value / 不是加密数据")
        nonce = sealed[len(MAGIC) : len(MAGIC) + _NONCE]
        try:
            return self._aead.decrypt(nonce, sealed[len(MAGIC) + _NONCE :], place.encode("utf-8"))
        except InvalidTag as exc:
            raise StoreError(
                f"{place}: cannot decrypt: wrong key, or the data was altered or moved / 无法解密：密钥错误或数据被篡改"
            ) from exc

    def seal_texts(self, values: Sequence[str | None], places: Sequence[str]) -> list[bytes | None]:
        """Seal each text (None stays None) at its place."""
        return [
            None if v is None else self.seal(v.encode("utf-8"), place=p) for v, p in zip(values, places, strict=True)
        ]

    def open_texts(self, sealed: Sequence[bytes | None], places: Sequence[str]) -> list[str | None]:
        """Open each sealed text (None stays None).

        Raises:
            StoreError: as [`open`][yikatong.adapters.crypto.FieldCipher.open].
        """
        return [
            None if s is None else self.open(s, place=p).decode("utf-8") for s, p in zip(sealed, places, strict=True)
        ]

    def lookup(self, value: str) -> str:
        """The keyed look-up hash of ``value``: equal values give equal hashes; without the key it says nothing."""
        digest = hmac.new(self._lookup, value.encode("utf-8"), hashlib.sha256).digest()
        return "k1:" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
