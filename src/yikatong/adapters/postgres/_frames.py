"""Frames in and out of PostgreSQL with ``COPY``, and the connection every adapter here keeps.

Writing: a frame becomes CSV text with Polars (strings always quoted, nulls as unquoted empty fields, so an empty
string and a null stay apart; times as UTC ISO text) and is streamed to ``COPY … FROM STDIN`` in slices.
Reading: ``COPY (SELECT …) TO STDOUT`` gives CSV that Polars parses with the port's schema; times travel as integer
microseconds since the epoch, dates as days, booleans as ``true``/``false``, so nothing depends on the server's
date style or time zone. Binary values (sealed data, ``bytea``) travel as hex text both ways.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator, Sequence
from typing import Final

import polars as pl
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from yikatong.adapters.store_location import hide_password
from yikatong.errors import StoreError
from yikatong.privacy import scrub

__all__ = ["Session", "copy_in", "copy_out", "server_message"]

_SLICE_ROWS: Final = 200_000
_TIME_TEXT: Final = "%Y-%m-%d %H:%M:%S%.6f+00"
_CONNECT_TIMEOUT: Final = 10
"""Seconds to wait for a server that does not answer, unless the connection string names its own."""

Connection = psycopg.Connection[tuple[object, ...]]


def _to_text(name: str, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.Datetime):
        return pl.col(name).dt.convert_time_zone("UTC").dt.to_string(_TIME_TEXT)
    if isinstance(dtype, pl.Date):
        return pl.col(name).dt.to_string("%Y-%m-%d")
    if isinstance(dtype, pl.Binary):
        return pl.concat_str(pl.lit("\\x"), pl.col(name).bin.encode("hex"))  # bytea's hex input form
    return pl.col(name)


def copy_in(cur: psycopg.Cursor[tuple[object, ...]], table: str, frame: pl.DataFrame) -> None:
    """Write every row of ``frame`` into ``table`` (columns by name) with one ``COPY``."""
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns)
    text = frame.select(_to_text(c, t) for c, t in frame.schema.items())
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(sql.Identifier(table), columns)
    with cur.copy(statement) as copy:
        for offset in range(0, text.height, _SLICE_ROWS):
            part = text.slice(offset, _SLICE_ROWS)
            copy.write(part.write_csv(include_header=False, quote_style="non_numeric", null_value=""))


def _select_expr(name: str, dtype: pl.DataType) -> sql.Composable:
    column = sql.Identifier(name)
    if isinstance(dtype, pl.Datetime):
        return sql.SQL("(extract(epoch FROM {0}) * 1000000)::bigint AS {0}").format(column)
    if isinstance(dtype, pl.Date):
        return sql.SQL("({0} - date '1970-01-01') AS {0}").format(column)
    if isinstance(dtype, pl.Boolean):
        return sql.SQL("{0}::text AS {0}").format(column)
    if isinstance(dtype, pl.Binary):
        return sql.SQL("encode({0}, 'hex') AS {0}").format(column)
    return column


def _wire_dtype(dtype: pl.DataType) -> pl.DataType:
    if isinstance(dtype, pl.Datetime):
        return pl.Int64()
    if isinstance(dtype, pl.Date):
        return pl.Int32()
    if isinstance(dtype, pl.Binary):
        return pl.String()
    return dtype


def copy_out(
    cur: psycopg.Cursor[tuple[object, ...]],
    source: sql.Composable,
    schema: dict[str, pl.DataType],
    columns: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Read ``SELECT <columns> FROM <source>`` into a frame of ``schema`` with one ``COPY``.

    Args:
        cur: A cursor (inside the caller's transaction, when several reads must see one snapshot).
        source: What follows ``FROM``: a table with its ``WHERE`` and ``ORDER BY``, parameters already bound.
        schema: The frame's columns and types (the port's schema).
        columns: The columns to read, in order (default: every column of ``schema``).
    """
    names = list(schema) if columns is None else list(columns)
    select = sql.SQL(", ").join(_select_expr(c, schema[c]) for c in names)
    statement = sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT (FORMAT csv, HEADER)").format(select, source)
    buffer = io.BytesIO()
    with cur.copy(statement) as copy:
        for chunk in copy:
            buffer.write(chunk)
    wire = {c: _wire_dtype(schema[c]) for c in names}
    raw = pl.read_csv(buffer.getvalue(), schema=wire, has_header=True) if buffer.tell() else pl.DataFrame(schema=wire)
    out: list[pl.Expr] = []
    for c in names:
        dtype = schema[c]
        if isinstance(dtype, pl.Datetime):
            out.append(pl.col(c).cast(pl.Datetime("us", "UTC")).cast(dtype))
        elif isinstance(dtype, pl.Date):
            out.append(pl.col(c).cast(pl.Date))
        elif isinstance(dtype, pl.Binary):
            out.append(pl.col(c).str.decode("hex"))
        else:
            out.append(pl.col(c))
    return raw.select(out)


def server_message(exc: psycopg.Error) -> str:
    """The server's primary message of an error, long numbers masked (a message may quote a value)."""
    return scrub(exc.diag.message_primary or type(exc).__name__)


class Session:
    """One connection to the store's schema, opened again after the server dropped it.

    Args:
        conninfo: A libpq connection string or ``postgresql://`` URL.
        schema: The PostgreSQL schema holding the store's tables (put first on the ``search_path``).
        read_only: Every transaction of the connection is read-only.
        what: How errors name this connection (the store or the registry).
    """

    def __init__(self, conninfo: str, schema: str, *, read_only: bool, what: str) -> None:
        self.conninfo = conninfo
        self.schema = schema
        self.read_only = read_only
        self.what = what
        self._conn: Connection | None = None
        self._closed = False

    def _connect(self) -> Connection:
        try:
            conninfo = self.conninfo
            if "connect_timeout" not in conninfo_to_dict(conninfo):
                conninfo = make_conninfo(conninfo, connect_timeout=_CONNECT_TIMEOUT)
            conn = psycopg.connect(conninfo, autocommit=True, application_name="yikatong")
        except psycopg.Error as exc:
            reason = scrub(hide_password(" ".join(str(exc).split()) or type(exc).__name__))
            raise StoreError(f"{self.what}: 无法连接数据库 / cannot connect to PostgreSQL ({reason})") from exc
        conn.execute("SET TimeZone TO 'UTC'")
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        if self.read_only:
            conn.execute("SET default_transaction_read_only TO on")
        return conn

    @property
    def connection(self) -> Connection:
        """The open connection; a new one when the previous one was broken (server restart, terminated backend).

        Raises:
            StoreError: when closed, or when no connection can be made.
        """
        if self._closed:
            raise StoreError(f"{self.what}: closed / 数据库连接已关闭")
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self._conn.close()
            self._conn = self._connect()
        return self._conn

    def close(self) -> None:
        """Close the connection; later use raises [`StoreError`][yikatong.errors.StoreError]."""
        self._closed = True
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """The connection for a read; a database error becomes a [`StoreError`][yikatong.errors.StoreError]."""
        try:
            yield self.connection
        except psycopg.Error as exc:
            raise self.failed(exc, "读取失败", "read failed") from exc

    def failed(self, exc: psycopg.Error, zh: str, en: str) -> StoreError:
        """A StoreError for a database error, with the server's primary message only (never a row's values)."""
        return StoreError(f"{self.what}: {en} ({server_message(exc)}) / {zh}")
