"""The one-pass record writer says exactly what a plain reading of the layout says: the same bytes when every value
fits, the same refusal (message and line) as the field-by-field check when one does not."""

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
    """The file as a plain reading of the layout says it: each field checked on its own (the first misfit named),
    then padded with its pad character to its width in bytes, or joined by the separator."""
    columns: list[pl.Series] = []
    for spec in section.detail.fields:
        if spec.name in rows.columns:
            columns.append(rows[spec.name].cast(pl.String))
        else:  # a literal, or the memo of the values
            columns.append(pl.Series([(spec.value or "").format_map(_VALUES)] * rows.height, dtype=pl.String))
    try:
        for column, spec in zip(columns, section.detail.fields, strict=True):
            _codec._refuse_misfit(column, spec, section, file="f", first_line=1)
    except BankFileError as exc:
        return str(exc)
    lines = []
    for values in zip(*(c.to_list() for c in columns), strict=True):
        if section.format == "delimited":
            tail = [""] if section.trailing_separator else []
            lines.append((section.separator or "").join([*values, *tail]))
            continue
        cells = []
        for value, spec in zip(values, section.detail.fields, strict=True):
            pad = spec.pad * ((spec.width or 0) - len(value.encode(section.encoding)))
            cells.append(pad + value if spec.alignment == "right" else value + pad)
        lines.append("".join(cells))
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


def test_a_line_break_in_a_fixed_width_field_is_refused_by_name_not_as_a_broken_frame() -> None:
    section = layout("fixed-width-gb18030").order
    rows = pl.DataFrame({name: ["1"] for name in _DETAIL}).with_columns(pl.lit("王\n秀英").alias("name"))
    refusal = _one_pass(section, rows.select(spec.name for spec in section.detail.fields if spec.name in _DETAIL))
    assert isinstance(refusal, str)
    assert "'name' contains a line break" in refusal
