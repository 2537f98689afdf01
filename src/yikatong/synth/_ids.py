"""ID numbers (GB 11643-1999) and bank account numbers, built as integer arithmetic on whole columns.

An 18-character ID is 6 region digits, the birth date ``YYYYMMDD``, a 3-digit sequence (odd for men) and a check
character: the digits weighted 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, summed, remainder mod 11 mapped through
``10X98765432``. Account numbers end in a Luhn check digit; the digits before it are a bank prefix and an affine
bijection of a serial number, so two different serials never give the same account.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from yikatong.synth._rng import take

__all__ = [
    "BANKS",
    "CHECK_CHARS",
    "ID_WEIGHTS",
    "account_number",
    "check_char",
    "check_index",
    "id_body",
    "id_string",
    "luhn_digit",
]

ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS: Final = tuple("10X98765432")

# (bank, share of accounts, card prefix, social-security-card prefix, passbook branch prefix). The prefixes are
# illustrative UnionPay-style numbers, not an authoritative list of issuer identification numbers.
BANKS: Final[tuple[tuple[str, float, int, int, int], ...]] = (
    ("重庆农村商业银行", 0.55, 621458, 623158, 8601),
    ("中国邮政储蓄银行", 0.20, 621799, 623199, 6001),
    ("中国农业银行", 0.12, 622848, 623052, 1031),
    ("中国建设银行", 0.07, 621700, 623668, 5001),
    ("中国工商银行", 0.06, 621226, 623202, 3102),
)

_BODY_MOD: Final = 10**12
_BODY_MUL: Final = 618_033_988_749  # odd and not a multiple of 5: a bijection modulo 10**12
_BODY_ADD: Final = 104_729_000_003


def id_body(region: pl.Expr, ymd: pl.Expr, seq: pl.Expr) -> pl.Expr:
    """The first 17 digits of an ID as one integer: region × 10¹¹ + YYYYMMDD × 10³ + sequence."""
    return region.cast(pl.Int64) * 10**11 + ymd.cast(pl.Int64) * 1000 + seq.cast(pl.Int64)


def _luhn_chunk(value: int) -> int:
    """Luhn contribution of a 4-digit chunk whose rightmost digit sits at an even (doubled) position."""
    total = 0
    for i in range(4):
        digit = value // 10**i % 10
        if i % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total


_LUHN_CHUNK: Final = pl.Series([_luhn_chunk(v) for v in range(10_000)], dtype=pl.Int64)
_SEQ_WEIGHT: Final = pl.Series(
    [sum(int(d) * w for d, w in zip(f"{v:03d}", ID_WEIGHTS[14:], strict=True)) for v in range(1000)], dtype=pl.Int64
)


def _weighted(value: pl.Expr, digits: int, weights: tuple[int, ...]) -> pl.Expr:
    total = pl.lit(0, dtype=pl.Int64)
    for position, weight in enumerate(weights):
        total = total + (value // 10 ** (digits - 1 - position)) % 10 * weight
    return total


def check_index(body: pl.Expr) -> pl.Expr:
    """The weighted digit sum of a 17-digit body modulo 11 (the position of its check character in ``10X98765432``).

    The body is split into region, birth date and sequence first, so the work is a few small divisions and one
    table lookup rather than seventeen divisions of a large number.
    """
    region = body // 10**11
    ymd = (body // 1000) % 10**8
    total = (
        _weighted(region, 6, ID_WEIGHTS[:6])
        + _weighted(ymd // 10000, 4, ID_WEIGHTS[6:10])
        + _weighted(ymd % 10000, 4, ID_WEIGHTS[10:14])
        + pl.lit(_SEQ_WEIGHT).gather(body % 1000)
    )
    return total % 11


def check_char(body: pl.Expr) -> pl.Expr:
    """The GB 11643 check character of a 17-digit body."""
    return take(CHECK_CHARS, check_index(body))


def id_string(body: pl.Expr) -> pl.Expr:
    """The 18-character ID of a 17-digit body (check character appended)."""
    return pl.concat_str(body.cast(pl.String).str.zfill(17), check_char(body))


def luhn_digit(payload: pl.Expr) -> pl.Expr:
    """The Luhn check digit for a payload of at most 16 digits (doubling from its rightmost digit)."""
    total = (
        pl.lit(_LUHN_CHUNK).gather(payload % 10_000)
        + pl.lit(_LUHN_CHUNK).gather((payload // 10_000) % 10_000)
        + pl.lit(_LUHN_CHUNK).gather((payload // 10**8) % 10_000)
        + pl.lit(_LUHN_CHUNK).gather((payload // 10**12) % 10_000)
    )
    return (10 - total % 10) % 10


def _prefix_luhn(prefix: int) -> int:
    """Luhn contribution of a prefix placed in front of a 12-digit body (its last digit at an even position)."""
    return sum(_luhn_chunk(prefix // 10 ** (4 * k) % 10_000) for k in range(3))


def account_number(kind: pl.Expr, bank: pl.Expr, serial: pl.Expr) -> pl.Expr:
    """A Luhn-valid account number, unique per (kind, bank, serial).

    Args:
        kind: ``card`` (19 digits), ``social_security`` (19 digits) or ``passbook`` (17 digits).
        bank: Index into ``BANKS``.
        serial: A non-negative serial number below 10¹².
    """
    s = serial.cast(pl.Int64)
    # (serial × MUL) mod 10¹² without overflowing Int64: split the serial into its high and low six digits.
    high = ((s // 10**6) * _BODY_MUL) % 10**6
    low = (s % 10**6) * _BODY_MUL
    body = (high * 10**6 + low + _BODY_ADD) % _BODY_MOD
    prefixes = [(b[2], b[3], b[4]) for b in BANKS]
    card = pl.lit(pl.Series([p[0] for p in prefixes], dtype=pl.Int64)).gather(bank)
    social = pl.lit(pl.Series([p[1] for p in prefixes], dtype=pl.Int64)).gather(bank)
    book = pl.lit(pl.Series([p[2] for p in prefixes], dtype=pl.Int64)).gather(bank)
    card_l = pl.lit(pl.Series([_prefix_luhn(p[0]) for p in prefixes], dtype=pl.Int64)).gather(bank)
    social_l = pl.lit(pl.Series([_prefix_luhn(p[1]) for p in prefixes], dtype=pl.Int64)).gather(bank)
    book_l = pl.lit(pl.Series([_prefix_luhn(p[2]) for p in prefixes], dtype=pl.Int64)).gather(bank)
    prefix = pl.when(kind == "card").then(card).when(kind == "social_security").then(social).otherwise(book)
    prefix_l = pl.when(kind == "card").then(card_l).when(kind == "social_security").then(social_l).otherwise(book_l)
    chunks = (
        pl.lit(_LUHN_CHUNK).gather(body % 10_000)
        + pl.lit(_LUHN_CHUNK).gather((body // 10_000) % 10_000)
        + pl.lit(_LUHN_CHUNK).gather(body // 10**8)
    )
    check = (10 - (chunks + prefix_l) % 10) % 10
    return ((prefix * _BODY_MOD + body) * 10 + check).cast(pl.String)
