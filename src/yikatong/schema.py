"""The canonical roster schema: the columns every reader produces and every rule reads.

A roster is a Polars frame with one row per data row of its source. ``read_roster`` produces exactly these columns
in this order; a host that builds its own frame may omit any optional column (the rules that need it are skipped)
and the ``flag_*`` columns (taken as false).
"""

from __future__ import annotations

from typing import Final

import polars as pl

__all__ = [
    "FLAG_COLUMNS",
    "QUANTITY_SCALE",
    "ROSTER_SCHEMA",
]

QUANTITY_SCALE: Final = 4
"""Decimal places kept for quantities (mu of land, months, persons)."""

ROSTER_SCHEMA: Final[dict[str, pl.DataType]] = {
    # 1-based position among the data rows of the source; stable identity of the row.
    "row_id": pl.Int64(),
    # Physical line number in a text source (header is line 1); for other sources row_id + 1.
    "source_line": pl.Int64(),
    "name": pl.String(),
    # Normalised ID: 18 characters [0-9]{17}[0-9X] when well formed, else the cleaned text as given.
    "id_number": pl.String(),
    "sex": pl.String(),  # "男" / "女" / null
    "account": pl.String(),
    "amount_fen": pl.Int64(),  # exact integer fen; null when the amount is missing or not exact
    "amount_raw": pl.String(),  # the amount as written, for evidence
    "quantity": pl.Decimal(38, QUANTITY_SCALE),  # mu, months or persons for rate × quantity standards
    "category": pl.String(),  # category for table standards (e.g. disability grade)
    "town": pl.String(),  # 乡镇/街道
    "village": pl.String(),  # 村(社区)
    "household_head_id": pl.String(),  # 户主身份证号, normalised like id_number
    "item": pl.String(),  # item code when the roster carries several items
    # Ingestion findings, one boolean per rule code of the ingestion table of docs/domain.md.
    "flag_row_malformed": pl.Boolean(),  # ROW_MALFORMED
    "flag_text_encoding": pl.Boolean(),  # TEXT_ENCODING
    "flag_id_excel_mangled": pl.Boolean(),  # ID_EXCEL_MANGLED (ID or account went through a numeric cell)
    "flag_id_normalised": pl.Boolean(),  # ID_NORMALISED
    "flag_name_normalised": pl.Boolean(),  # NAME_NORMALISED
}
"""The roster columns and their Polars types, in order; ``read_roster`` returns exactly these."""

FLAG_COLUMNS: Final[dict[str, str]] = {
    "flag_row_malformed": "ROW_MALFORMED",
    "flag_text_encoding": "TEXT_ENCODING",
    "flag_id_excel_mangled": "ID_EXCEL_MANGLED",
    "flag_id_normalised": "ID_NORMALISED",
    "flag_name_normalised": "NAME_NORMALISED",
}
"""Ingestion flag column → the rule code it raises."""
