"""Keys from one secret, and the digests the audit entries carry of the stored data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from yikatong.adapters.keys import SecretKeys, keys_from_env, keys_from_file
from yikatong.adapters.memory_store import MemoryStore
from yikatong.ports import Keys
from yikatong.testing.store_data import make_rows
from yikatong.workflow.digests import frame_digest, rows_digest
from yikatong.workflow.store_check import verify_store

SECRET = b"a county secret of enough length"


def test_one_secret_gives_two_independent_keys_of_32_bytes() -> None:
    keys = SecretKeys(SECRET)
    assert isinstance(keys, Keys)
    assert len(keys.audit_key()) == len(keys.data_key()) == 32
    assert keys.audit_key() != keys.data_key()
    assert SecretKeys(SECRET).audit_key() == keys.audit_key()
    assert SecretKeys(SECRET + b"!").audit_key() != keys.audit_key()


def test_the_secret_never_shows_in_the_keys_text() -> None:
    keys = SecretKeys(SECRET)
    assert SECRET.decode() not in repr(keys)
    assert keys.fingerprint in repr(keys)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="too short"):
        SecretKeys(b"short")


def test_keys_come_from_the_environment_or_a_key_file(tmp_path: Path) -> None:
    assert keys_from_env({}) is None
    assert keys_from_env({"YIKATONG_AUDIT_KEY": ""}) is None
    from_env = keys_from_env({"YIKATONG_AUDIT_KEY": SECRET.decode()})
    assert from_env is not None
    path = tmp_path / "county.key"
    path.write_bytes(SECRET + b"\r\n")
    assert keys_from_file(path).audit_key() == from_env.audit_key()


_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=6)
_COLUMN = st.lists(st.one_of(st.none(), _TEXT), min_size=1, max_size=4)


@given(a=_COLUMN, b=_COLUMN)
def test_different_frames_never_share_a_digest(a: list[str | None], b: list[str | None]) -> None:
    first = pl.DataFrame({"x": a}, schema={"x": pl.String})
    second = pl.DataFrame({"x": b}, schema={"x": pl.String})
    assert (frame_digest(first, key=None) == frame_digest(second, key=None)) == (a == b)


def test_values_cannot_be_moved_between_columns_unseen() -> None:
    one = pl.DataFrame({"a": ["1|2"], "b": ["3"]})
    two = pl.DataFrame({"a": ["1"], "b": ["2|3"]})
    assert frame_digest(one, key=None) != frame_digest(two, key=None)


def test_a_digest_depends_on_the_key_and_holds_no_long_run_of_digits() -> None:
    frame = pl.DataFrame({"when": [dt.datetime(2026, 11, 1, tzinfo=dt.UTC)], "fen": [10_000]})
    keyed = frame_digest(frame, key=b"k" * 32)
    assert keyed != frame_digest(frame, key=b"j" * 32)
    assert keyed != frame_digest(frame, key=None)
    assert len(keyed) == 43
    digests = [frame_digest(frame.with_columns(pl.lit(i).alias("fen")), key=None) for i in range(300)]
    assert not any(any(d[i : i + 12].isdigit() for i in range(len(d) - 11)) for d in digests)


def test_rows_are_digested_in_row_order_whatever_order_they_come_in() -> None:
    rows = make_rows("B1", 4)
    assert rows_digest(rows, key=None) == rows_digest(rows.reverse(), key=None)


def test_an_empty_store_verifies() -> None:
    result = verify_store(MemoryStore())
    assert result.ok
    assert result.head is None
