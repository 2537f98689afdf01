"""The one-pass record writer says exactly what the field-by-field writer says: the same bytes when every value
fits, the same refusal (message and line) when one does not."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.bankfile_support import layout
from yikatong.adapters.bankfile import _codec
from yikatong.adapters.bankfile.layout import FileSection
from yikatong.errors import BankFileError

_DETAIL = ("serial", "account", "name", "id_number", "amount", "item")
_value = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from("0123456789王秀英张伟 |,\t\n\x00abc𠀀"), max_size=24),
)


_VALUES = {"item": "GLJT", "period": "2026-11"}


def _field_by_field(section: FileSection, rows: pl.DataFrame) -> bytes | str:
    """What the writer wrote before its one-pass path: every field checked and padded on its own."""
    columns: list[pl.Series] = []
    try:
        for spec in section.detail.fields:
            if spec.name in rows.columns:
                column = rows[spec.name].cast(pl.String)
            else:  # a literal, or the memo of the values
                column = pl.Series([(spec.value or "").format_map(_VALUES)] * rows.height, dtype=pl.String)
            columns.append(_codec._check_and_pad(column, spec, section, file="f", first_line=1))
    except BankFileError as exc:
        return str(exc)
    lines = _codec._join_fields(section, columns, rows.height).to_list()
    return "".join(line + section.eol for line in lines).encode(section.encoding)


def _one_pass(section: FileSection, rows: pl.DataFrame) -> bytes | str:
    detail_only = section.model_copy(update={"header": None, "trailer": None})
    try:
        return _codec.render(detail_only, rows, _VALUES, file="f")
    except BankFileError as exc:
        return str(exc)


@pytest.mark.parametrize("name", ["fixed-width-gb18030", "delimited-gb18030"])
@settings(max_examples=120, deadline=None)
@given(rows=st.lists(st.tuples(*(_value for _ in _DETAIL)), max_size=6))
def test_the_one_pass_writer_writes_or_refuses_exactly_as_the_field_by_field_writer(
    name: str, rows: list[tuple[str | None, ...]]
) -> None:
    section = layout(name).order
    frame = pl.DataFrame(
        [list(r) for r in rows] or None, schema=dict.fromkeys(_DETAIL, pl.String), orient="row"
    ).select(spec.name for spec in section.detail.fields if spec.name in _DETAIL)
    assert _one_pass(section, frame) == _field_by_field(section, frame)
