"""Reading rosters as offices send them, and the files of the validation context.

[`read_roster`][yikatong.read_roster] reads GB18030 or UTF-8 CSV (any line ends), XLSX, Parquet or a Polars frame into
the canonical roster schema, keeping every input line with its ``row_id`` and ``source_line``; the loaders of
[`context_files`][yikatong.ingest.context_files] read the registry snapshot, the payment ledger and the reference lists,
and [`context_folder`][yikatong.ingest.context_folder] finds them in a folder laid out by convention.
"""

from yikatong.ingest._form import LINE_KINDS
from yikatong.ingest.context_files import (
    LEDGER_STATUSES,
    load_ledger,
    load_reference,
    load_registry,
    parse_reference_option,
    read_table,
)
from yikatong.ingest.context_folder import ContextFiles, LoadedContext, find_context_files, load_context_folder
from yikatong.ingest.roster import RosterForm, RosterFormat, RosterSource, read_form, read_roster

__all__ = [
    "LEDGER_STATUSES",
    "LINE_KINDS",
    "ContextFiles",
    "LoadedContext",
    "RosterForm",
    "RosterFormat",
    "RosterSource",
    "find_context_files",
    "load_context_folder",
    "load_ledger",
    "load_reference",
    "load_registry",
    "parse_reference_option",
    "read_form",
    "read_roster",
    "read_table",
]
