"""The embedded store's schema, step by step: each [`Migration`][yikatong.adapters.sqlite.Migration] is a list of SQL
statements that takes the store from one schema version to the next.

[`MIGRATIONS`][yikatong.adapters.sqlite.MIGRATIONS] is the whole history, oldest first; a new store runs every step, an
older one the steps it lacks (``connect_store`` in ``_schema.py`` runs them). A step, once released, never changes: a
later schema is a new step.
"""

from __future__ import annotations

from typing import Final

from attrs import frozen

from yikatong.adapters._bank_schema import BANKS_TITLE, bank_columns

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration"]

_ROW_STATUSES: Final = (
    "'pending', 'passed', 'review', 'blocked', 'sent', 'paid', 'failed', 'returned', 'reissued', 'withdrawn'"
)
_ROW_STATUSES_V3: Final = _ROW_STATUSES + ", 'expired'"
_ROW_STATUSES_V4: Final = _ROW_STATUSES_V3 + ", 'reversed'"


def _row_state_table(name: str, statuses: str) -> str:
    """The mutable row states; ``statuses`` is the SQL list of the statuses the schema version knows."""
    return f"""CREATE TABLE {name} (
            batch_id TEXT NOT NULL,
            row_id INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ({statuses})),
            verdict TEXT,
            note TEXT,
            reason_code TEXT,
            deadline INTEGER,
            updated_at INTEGER,
            PRIMARY KEY (batch_id, row_id)
        ) WITHOUT ROWID"""


@frozen
class Migration:
    """One schema step: from ``version - 1`` to ``version``.

    Attributes:
        version: The schema version after the step.
        title: What the step adds, for the ``meta`` table and error messages.
        statements: SQL statements run in order inside the migration transaction.
    """

    version: int
    title: str
    statements: tuple[str, ...]


_V1 = Migration(
    1,
    "batches, row states, payment ledger, audit chain, reconciliation exceptions",
    (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
        """CREATE TABLE batches (
            seq INTEGER PRIMARY KEY,
            batch_id TEXT NOT NULL UNIQUE,
            item TEXT NOT NULL,
            period TEXT NOT NULL,
            department TEXT NOT NULL,
            state TEXT NOT NULL,
            prepared_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            version INTEGER NOT NULL CHECK (version >= 1),
            town TEXT,
            bank TEXT,
            corrects TEXT,
            declared_count INTEGER,
            declared_total_fen INTEGER,
            funding_route TEXT,
            funding_filed_by TEXT,
            funded_fen INTEGER NOT NULL,
            reason TEXT NOT NULL
        )""",
        # The immutable columns of a batch's rows: Parquet bytes inline, or a side file named by its SHA-256.
        """CREATE TABLE row_data (
            batch_id TEXT PRIMARY KEY,
            n_rows INTEGER NOT NULL CHECK (n_rows >= 0),
            sha256 TEXT NOT NULL,
            file TEXT,
            inline BLOB,
            CHECK ((file IS NULL) <> (inline IS NULL))
        ) WITHOUT ROWID""",
        _row_state_table("row_state", _ROW_STATUSES),
        """CREATE TABLE ledger (
            batch_id TEXT NOT NULL,
            row_id INTEGER NOT NULL,
            id_number TEXT NOT NULL,
            item TEXT NOT NULL,
            period TEXT NOT NULL,
            amount_fen INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('sent', 'paid', 'failed', 'withdrawn')),
            updated_at INTEGER,
            PRIMARY KEY (batch_id, row_id)
        ) WITHOUT ROWID""",
        # The rule that makes paying a (person, item, period) twice impossible, whatever the code above does.
        """CREATE UNIQUE INDEX ledger_one_active_payment ON ledger (id_number, item, period)
            WHERE status IN ('sent', 'paid')""",
        "CREATE INDEX ledger_item_period ON ledger (item, period)",
        """CREATE TABLE audit (
            seq INTEGER PRIMARY KEY CHECK (seq >= 1),
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            role TEXT NOT NULL,
            action TEXT NOT NULL,
            batch_id TEXT NOT NULL,
            from_state TEXT NOT NULL,
            to_state TEXT NOT NULL,
            reason TEXT NOT NULL,
            details TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )""",
        """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only / 审计日志只能追加'); END""",
        """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only / 审计日志只能追加'); END""",
        """CREATE TABLE recon_exceptions (
            seq INTEGER PRIMARY KEY,
            batch_id TEXT NOT NULL,
            row_id INTEGER,
            kind TEXT NOT NULL,
            outcome TEXT,
            amount_fen INTEGER,
            expected_fen INTEGER,
            detail TEXT,
            at INTEGER
        )""",
        "CREATE INDEX recon_exceptions_batch ON recon_exceptions (batch_id, seq)",
    ),
)

_V2 = Migration(
    2,
    "one-card account registry: declarations and their event history",
    (
        """CREATE TABLE accounts (
            id_number TEXT NOT NULL,
            seq INTEGER NOT NULL CHECK (seq >= 1),
            account TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('card', 'passbook', 'social_security')),
            bank TEXT NOT NULL,
            holder_name TEXT NOT NULL,
            town TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'frozen', 'closed', 'rejected')),
            declared_at TEXT NOT NULL,
            declared_by TEXT NOT NULL,
            reviewed_at TEXT,
            PRIMARY KEY (id_number, seq)
        ) WITHOUT ROWID""",
        # One person, one active card; one open account number, one person.
        """CREATE UNIQUE INDEX accounts_one_active ON accounts (id_number)
            WHERE status IN ('active', 'frozen')""",
        "CREATE INDEX accounts_by_number ON accounts (account, status)",
        """CREATE TABLE account_events (
            seq INTEGER PRIMARY KEY,
            id_number TEXT NOT NULL,
            account TEXT NOT NULL,
            action TEXT NOT NULL,
            status TEXT NOT NULL,
            at TEXT NOT NULL,
            user TEXT NOT NULL,
            role TEXT NOT NULL,
            town TEXT,
            note TEXT NOT NULL
        )""",
        "CREATE INDEX account_events_person ON account_events (id_number, seq)",
        """CREATE TRIGGER account_events_no_update BEFORE UPDATE ON account_events
            BEGIN SELECT RAISE(ABORT, 'account history is append-only / 账户历史只能追加'); END""",
        """CREATE TRIGGER account_events_no_delete BEFORE DELETE ON account_events
            BEGIN SELECT RAISE(ABORT, 'account history is append-only / 账户历史只能追加'); END""",
    ),
)

# SQLite cannot alter a CHECK constraint: the table is rebuilt under the new one and its rows copied across.
_V3 = Migration(
    3,
    "row status expired: returned rows past their correction deadline",
    (
        _row_state_table("row_state_v3", _ROW_STATUSES_V3),
        "INSERT INTO row_state_v3 SELECT batch_id, row_id, status, verdict, note, reason_code, deadline, updated_at"
        " FROM row_state",
        "DROP TABLE row_state",
        "ALTER TABLE row_state_v3 RENAME TO row_state",
    ),
)

# Schema 4: ``reversed`` rows and ledger entries (paid, then the money came back: 退汇), and the money a correction drew
# from its corrected batch or a batch refunded to the treasury. Both tables are rebuilt under their new CHECK.
_V4 = Migration(
    4,
    "reversed payments (退汇), money drawn by corrections and refunded to the treasury",
    (
        "ALTER TABLE batches ADD COLUMN drawn_fen INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE batches ADD COLUMN refunded_fen INTEGER NOT NULL DEFAULT 0",
        _row_state_table("row_state_v4", _ROW_STATUSES_V4),
        "INSERT INTO row_state_v4 SELECT batch_id, row_id, status, verdict, note, reason_code, deadline, updated_at"
        " FROM row_state",
        "DROP TABLE row_state",
        "ALTER TABLE row_state_v4 RENAME TO row_state",
        """CREATE TABLE ledger_v4 (
            batch_id TEXT NOT NULL,
            row_id INTEGER NOT NULL,
            id_number TEXT NOT NULL,
            item TEXT NOT NULL,
            period TEXT NOT NULL,
            amount_fen INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('sent', 'paid', 'failed', 'reversed', 'withdrawn')),
            updated_at INTEGER,
            PRIMARY KEY (batch_id, row_id)
        ) WITHOUT ROWID""",
        "INSERT INTO ledger_v4 SELECT batch_id, row_id, id_number, item, period, amount_fen, status, updated_at"
        " FROM ledger",
        "DROP TABLE ledger",
        "ALTER TABLE ledger_v4 RENAME TO ledger",
        """CREATE UNIQUE INDEX ledger_one_active_payment ON ledger (id_number, item, period)
            WHERE status IN ('sent', 'paid')""",
        "CREATE INDEX ledger_item_period ON ledger (item, period)",
    ),
)

_V5 = Migration(
    5,
    "the account validation approved for each row, and where it came from (registry or roster)",
    (
        "ALTER TABLE row_state ADD COLUMN pay_account TEXT",
        "ALTER TABLE row_state ADD COLUMN account_source TEXT CHECK (account_source IN ('registry', 'roster'))",
    ),
)

_V6 = Migration(
    6,
    "personal data at rest: the ledger keeps a sealed ID beside its look-up hash",
    ("ALTER TABLE ledger ADD COLUMN id_sealed BLOB",),
)

# Schema 7: the account registry at rest. A sealed registry keeps keyed look-up hashes in ``id_number`` and
# ``account`` and the values themselves (with the holder's name) in ``sealed``; every event carries the digest of the
# person's records after it and its link in the registry's own keyed hash chain.
_V7 = Migration(
    7,
    "the account registry sealed at rest, its events chained and carrying the digest of the records they leave",
    (
        "ALTER TABLE accounts ADD COLUMN sealed BLOB",
        "ALTER TABLE account_events ADD COLUMN sealed BLOB",
        "ALTER TABLE account_events ADD COLUMN records_digest TEXT",
        "ALTER TABLE account_events ADD COLUMN hash TEXT",
    ),
)

_V8 = Migration(
    8,
    "the ledger indexed by person, so a resident's look-up reads only that person's entries",
    ("CREATE INDEX ledger_person ON ledger (id_number)",),
)

_V9 = Migration(9, BANKS_TITLE, bank_columns("TEXT"))

MIGRATIONS: Final[tuple[Migration, ...]] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9)
"""Every schema step, oldest first; ``MIGRATIONS[i].version == i + 1``."""

SCHEMA_VERSION: Final = MIGRATIONS[-1].version
"""The schema version this library writes. Stores with a higher version are refused."""
