"""The PostgreSQL store's schema steps: each step's SQL, oldest first, and the version this library writes.

`open_schema` (in `_schema.py`) runs the pending steps in one transaction; this module
only says what each step is. The database's own guards (the partial UNIQUE indexes, the append-only triggers) are
created here, so a store is guarded from its first version.
"""

from __future__ import annotations

from typing import Final

from attrs import frozen

from yikatong.adapters._bank_schema import BANKS_TITLE, bank_columns

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration"]

_ROW_STATUSES: Final = (
    "'pending', 'passed', 'review', 'blocked', 'sent', 'paid', 'failed', 'returned', 'reissued', 'withdrawn'"
)


@frozen
class Migration:
    """One schema step: from ``version - 1`` to ``version``.

    Attributes:
        version: The schema version after the step.
        title: What the step adds.
        statements: SQL statements run in order inside the migration transaction.
    """

    version: int
    title: str
    statements: tuple[str, ...]


def _append_only(table: str, zh: str, en: str) -> tuple[str, ...]:
    """A trigger function and the triggers refusing UPDATE, DELETE and TRUNCATE on ``table``."""
    return (
        f"""CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{en} / {zh}' USING ERRCODE = 'integrity_constraint_violation'; END $$""",
        f"""CREATE TRIGGER {table}_no_update_or_delete BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_append_only()""",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()""",
    )


_V1 = Migration(
    1,
    "batches, batch rows and their states, payment ledger, audit chain, reconciliation exceptions",
    (
        "CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)",
        # Record times are ISO 8601 text: they keep the offset the clock gave, so records reload equal.
        """CREATE TABLE batches (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            batch_id text NOT NULL UNIQUE,
            item text NOT NULL,
            period text NOT NULL,
            department text NOT NULL,
            state text NOT NULL,
            prepared_by text NOT NULL,
            created_at text NOT NULL,
            updated_at text NOT NULL,
            version bigint NOT NULL CHECK (version >= 1),
            town text,
            bank text,
            corrects text,
            declared_count bigint,
            declared_total_fen bigint,
            funding_route text,
            funding_filed_by text,
            funded_fen bigint NOT NULL,
            reason text NOT NULL
        )""",
        # The columns of a batch row that never change after the batch is created.
        """CREATE TABLE batch_rows (
            batch_id text NOT NULL,
            row_id bigint NOT NULL,
            source_line bigint,
            name text,
            id_number text,
            sex text,
            account text,
            amount_fen bigint,
            amount_raw text,
            quantity numeric(38, 4),
            category text,
            town text,
            village text,
            household_head_id text,
            item text,
            flag_row_malformed boolean,
            flag_text_encoding boolean,
            flag_id_excel_mangled boolean,
            flag_id_normalised boolean,
            flag_name_normalised boolean,
            corrects_row_id bigint,
            PRIMARY KEY (batch_id, row_id)
        )""",
        f"""CREATE TABLE row_state (
            batch_id text NOT NULL,
            row_id bigint NOT NULL,
            status text NOT NULL CHECK (status IN ({_ROW_STATUSES})),
            verdict text,
            note text,
            reason_code text,
            deadline date,
            updated_at timestamptz,
            PRIMARY KEY (batch_id, row_id)
        )""",
        """CREATE TABLE ledger (
            batch_id text NOT NULL,
            row_id bigint NOT NULL,
            id_number text NOT NULL,
            item text NOT NULL,
            period text NOT NULL,
            amount_fen bigint NOT NULL,
            status text NOT NULL CHECK (status IN ('sent', 'paid', 'failed', 'withdrawn')),
            updated_at timestamptz,
            PRIMARY KEY (batch_id, row_id)
        )""",
        # The rule that makes paying a (person, item, period) twice impossible, whatever a client does.
        """CREATE UNIQUE INDEX ledger_one_active_payment ON ledger (id_number, item, period)
            WHERE status IN ('sent', 'paid')""",
        "CREATE INDEX ledger_item_period ON ledger (item, period)",
        """CREATE TABLE audit (
            seq bigint PRIMARY KEY CHECK (seq >= 1),
            at text NOT NULL,
            actor text NOT NULL,
            role text NOT NULL,
            action text NOT NULL,
            batch_id text NOT NULL,
            from_state text NOT NULL,
            to_state text NOT NULL,
            reason text NOT NULL,
            details text NOT NULL,
            prev_hash text NOT NULL,
            hash text NOT NULL
        )""",
        *_append_only("audit", "审计日志只能追加", "the audit log is append-only"),
        """CREATE TABLE recon_exceptions (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            batch_id text NOT NULL,
            row_id bigint,
            kind text NOT NULL,
            outcome text,
            amount_fen bigint,
            expected_fen bigint,
            detail text,
            at timestamptz
        )""",
        "CREATE INDEX recon_exceptions_batch ON recon_exceptions (batch_id, seq)",
    ),
)

_V2 = Migration(
    2,
    "one-card account registry: declarations and their event history",
    (
        """CREATE TABLE accounts (
            id_number text NOT NULL,
            seq bigint NOT NULL CHECK (seq >= 1),
            account text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('card', 'passbook', 'social_security')),
            bank text NOT NULL,
            holder_name text NOT NULL,
            town text NOT NULL,
            status text NOT NULL CHECK (status IN ('pending', 'active', 'frozen', 'closed', 'rejected')),
            declared_at text NOT NULL,
            declared_by text NOT NULL,
            reviewed_at text,
            PRIMARY KEY (id_number, seq)
        )""",
        # One person, one active card.
        "CREATE UNIQUE INDEX accounts_one_active ON accounts (id_number) WHERE status IN ('active', 'frozen')",
        "CREATE INDEX accounts_by_number ON accounts (account, status)",
        """CREATE TABLE account_events (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id_number text NOT NULL,
            account text NOT NULL,
            action text NOT NULL,
            status text NOT NULL,
            at text NOT NULL,
            "user" text NOT NULL,
            role text NOT NULL,
            town text,
            note text NOT NULL
        )""",
        "CREATE INDEX account_events_person ON account_events (id_number, seq)",
        *_append_only("account_events", "账户历史只能追加", "account history is append-only"),
    ),
)

_V3 = Migration(
    3,
    "row status expired: returned rows past their correction deadline",
    (
        "ALTER TABLE row_state DROP CONSTRAINT row_state_status_check",
        f"ALTER TABLE row_state ADD CONSTRAINT row_state_status_check CHECK (status IN ({_ROW_STATUSES}, 'expired'))",
    ),
)

_V4 = Migration(
    4,
    "reversed payments (退汇), money drawn by corrections and refunded to the treasury",
    (
        "ALTER TABLE batches ADD COLUMN drawn_fen bigint NOT NULL DEFAULT 0",
        "ALTER TABLE batches ADD COLUMN refunded_fen bigint NOT NULL DEFAULT 0",
        "ALTER TABLE row_state DROP CONSTRAINT row_state_status_check",
        f"""ALTER TABLE row_state ADD CONSTRAINT row_state_status_check
            CHECK (status IN ({_ROW_STATUSES}, 'expired', 'reversed'))""",
        "ALTER TABLE ledger DROP CONSTRAINT ledger_status_check",
        """ALTER TABLE ledger ADD CONSTRAINT ledger_status_check
            CHECK (status IN ('sent', 'paid', 'failed', 'reversed', 'withdrawn'))""",
    ),
)

_V5 = Migration(
    5,
    "the account validation approved for each row, and where it came from (registry or roster)",
    (
        "ALTER TABLE row_state ADD COLUMN pay_account text",
        "ALTER TABLE row_state ADD COLUMN account_source text CHECK (account_source IN ('registry', 'roster'))",
    ),
)

_V6 = Migration(
    6,
    "personal data at rest: sealed row data per batch, sealed approved accounts, the ledger's sealed ID",
    (
        # A sealed store keeps each batch's immutable columns here, as one sealed Parquet blob, not in batch_rows.
        """CREATE TABLE row_data (
            batch_id text PRIMARY KEY,
            n_rows bigint NOT NULL CHECK (n_rows >= 0),
            sha256 text NOT NULL,
            sealed bytea NOT NULL
        )""",
        "ALTER TABLE row_state ADD COLUMN pay_account_sealed bytea",
        "ALTER TABLE ledger ADD COLUMN id_sealed bytea",
    ),
)

_V7 = Migration(
    7,
    "the ledger indexed by person, so a resident's look-up reads only that person's entries",
    ("CREATE INDEX ledger_person ON ledger (id_number)",),
)

# Schema 8: the account registry at rest, as the embedded store's schema 7. A sealed registry keeps keyed look-up
# hashes in ``id_number`` and ``account`` and the values themselves (with the holder's name) in ``sealed``; every event
# carries the digest of the person's records after it and its link in the registry's own keyed hash chain. An event's
# ``seq`` is its place in that chain, given by the registry (under its lock), no longer by an identity column.
_V8 = Migration(
    8,
    "the account registry sealed at rest, its events chained and carrying the digest of the records they leave",
    (
        "ALTER TABLE accounts ADD COLUMN sealed bytea",
        "ALTER TABLE account_events ADD COLUMN sealed bytea",
        "ALTER TABLE account_events ADD COLUMN records_digest text",
        "ALTER TABLE account_events ADD COLUMN hash text",
        "ALTER TABLE account_events ALTER COLUMN seq DROP IDENTITY",
    ),
)

_V9 = Migration(9, BANKS_TITLE, bank_columns("text"))

MIGRATIONS: Final[tuple[Migration, ...]] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9)
"""Every schema step, oldest first; ``MIGRATIONS[i].version == i + 1``."""

SCHEMA_VERSION: Final = MIGRATIONS[-1].version
"""The schema version this library writes. Stores with a higher version are refused."""
