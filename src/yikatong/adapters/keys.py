"""Keys from one secret: the [`Keys`][yikatong.ports.Keys] port for hosts without a key service.

One secret (``YIKATONG_AUDIT_KEY``, or a key file named on the command line) gives two independent keys through
HKDF-SHA256: the audit chain's HMAC key and the AES-256-GCM key of personal data at rest. Knowing one derived key
tells nothing about the other or about the secret. The secret itself never appears in any text the library writes:
messages name a key only by its [`SecretKeys.fingerprint`][yikatong.adapters.SecretKeys.fingerprint].
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["KEY_ENV", "MIN_SECRET_BYTES", "SecretKeys", "keys_from_env", "keys_from_file"]

KEY_ENV: Final = "YIKATONG_AUDIT_KEY"
"""The environment variable holding the secret (text; at least
[`MIN_SECRET_BYTES`][yikatong.adapters.keys.MIN_SECRET_BYTES] bytes in UTF-8)."""

MIN_SECRET_BYTES: Final = 16
"""The shortest secret accepted. 32 random bytes (or 43 characters of base64) are recommended."""


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"yikatong keys v1", info=purpose).derive(secret)


class SecretKeys:
    """A [`Keys`][yikatong.ports.Keys] deriving the audit key and the data key from one secret.

    Args:
        secret: The secret: at least [`MIN_SECRET_BYTES`][yikatong.adapters.keys.MIN_SECRET_BYTES] bytes, best 32 random
            ones.

    Raises:
        ValueError: the secret is too short.
    """

    def __init__(self, secret: bytes, /) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(
                f"密钥太短（至少 {MIN_SECRET_BYTES} 字节） / the key is too short: at least {MIN_SECRET_BYTES} bytes"
            )
        self._audit = _derive(secret, b"audit chain hmac-sha256")
        self._data = _derive(secret, b"personal data aes-256-gcm")
        self.fingerprint: str = _derive(secret, b"fingerprint")[:6].hex()
        """Twelve hex characters naming the key in messages (from the secret by HKDF; reveals nothing of it)."""

    def audit_key(self) -> bytes:
        """The HMAC-SHA256 key of the audit chain."""
        return self._audit

    def data_key(self) -> bytes:
        """The AES-256-GCM key of personal data at rest."""
        return self._data

    def __repr__(self) -> str:
        return f"SecretKeys(fingerprint={self.fingerprint!r})"


def keys_from_env(environ: Mapping[str, str] | None = None, *, name: str = KEY_ENV) -> SecretKeys | None:
    """The keys from the secret in the environment variable ``name``; None when it is unset or empty.

    Raises:
        ValueError: the secret is too short.
    """
    value = (os.environ if environ is None else environ).get(name, "")
    return SecretKeys(value.encode("utf-8")) if value else None


def keys_from_file(path: str | os.PathLike[str]) -> SecretKeys:
    """The keys from a key file: its bytes, without a trailing line end (so ``echo`` and editors can write one).

    Raises:
        OSError: the file cannot be read.
        ValueError: the secret in it is too short.
    """
    data = Path(path).read_bytes()
    return SecretKeys(data.rstrip(b"\r\n"))
