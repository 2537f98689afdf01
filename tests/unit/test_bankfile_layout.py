"""Bank layouts load from TOML and bad ones are refused naming the file and the field."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.unit.bankfile_support import LAYOUTS, layout
from yikatong.adapters import bankfile
from yikatong.adapters.bankfile.layout import BUILTIN_LAYOUTS, BankLayout, builtin_layout, load_layout
from yikatong.errors import BankLayoutError


def _data(name: str = "delimited-gb18030") -> dict[str, Any]:
    return tomllib.loads((LAYOUTS / f"{name}.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["delimited-gb18030", "fixed-width-gb18030"])
def test_the_shipped_example_layouts_load(name: str) -> None:
    lay = layout(name)
    assert lay.name == name
    assert lay.order.encoding == "gb18030"
    assert lay.order.key == lay.result.key == "serial"
    assert set(lay.result.statuses.values()) == {"paid", "failed", "reversed"}


def test_the_fixed_width_example_declares_widths_that_add_up() -> None:
    lay = layout("fixed-width-gb18030")
    assert lay.order.detail.width() == 2 + 8 + 25 + 40 + 18 + 16 + 20
    assert lay.order.detail.fields[3].alignment == "left"
    assert lay.order.detail.fields[1].alignment == "right"


def test_a_fixed_width_field_without_a_width_is_refused() -> None:
    data = _data("fixed-width-gb18030")
    del data["order"]["detail"]["fields"][3]["width"]
    with pytest.raises(BankLayoutError, match=r"order: .*need a width: name"):
        BankLayout.from_dict(data, source="bank.toml")


def test_a_result_layout_without_statuses_is_refused() -> None:
    data = _data()
    del data["result"]["statuses"]
    with pytest.raises(BankLayoutError, match="statuses must map"):
        BankLayout.from_dict(data, source="bank.toml")


def test_a_result_keyed_differently_from_the_order_is_refused() -> None:
    data = _data()
    data["result"]["detail"]["fields"][0] = {"name": "row_id"}
    with pytest.raises(BankLayoutError, match="identified by 'serial'"):
        BankLayout.from_dict(data, source="bank.toml")


def test_a_control_total_in_a_detail_record_is_refused() -> None:
    data = _data()
    data["order"]["detail"]["fields"].append({"name": "total"})
    with pytest.raises(BankLayoutError, match="do not belong in the detail record"):
        BankLayout.from_dict(data, source="bank.toml")


def test_an_order_without_an_amount_is_refused() -> None:
    data = _data()
    data["order"]["detail"]["fields"] = [f for f in data["order"]["detail"]["fields"] if f["name"] != "amount"]
    with pytest.raises(BankLayoutError, match=r"needs \['amount'\]"):
        BankLayout.from_dict(data, source="bank.toml")


def test_a_literal_wider_than_its_field_is_refused() -> None:
    data = _data("fixed-width-gb18030")
    data["order"]["header"]["fields"][0]["value"] = "头记录"
    with pytest.raises(BankLayoutError, match="wider than its width"):
        BankLayout.from_dict(data, source="bank.toml")


def test_a_file_name_with_a_folder_is_refused() -> None:
    data = _data()
    data["order"]["file_name"] = "../DF_{batch_id}.txt"
    with pytest.raises(BankLayoutError, match="without folders"):
        BankLayout.from_dict(data, source="bank.toml")


def test_plain_gbk_is_not_an_accepted_encoding() -> None:
    data = _data()
    data["order"]["encoding"] = "gbk"
    with pytest.raises(BankLayoutError, match=r"bank\.toml: .*order\.encoding"):
        BankLayout.from_dict(data, source="bank.toml")


def test_a_layout_file_that_is_not_toml_is_refused_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text("[order\nformat = 1", encoding="utf-8")
    with pytest.raises(BankLayoutError, match=r"broken\.toml"):
        load_layout(bad)


def test_an_unknown_placeholder_in_a_file_name_or_memo_is_refused() -> None:
    data = _data()
    data["order"]["file_name"] = "DF_{batch}_{date}.txt"
    with pytest.raises(BankLayoutError, match=r"order\.file_name.*not \['batch'\]"):
        BankLayout.from_dict(data, source="bank.toml")
    data = _data()
    data["order"]["detail"]["fields"][-1]["value"] = "{item} {amount}"
    with pytest.raises(BankLayoutError, match=r"memo value.*not \['amount'\]"):
        BankLayout.from_dict(data, source="bank.toml")


@pytest.mark.parametrize("name", BUILTIN_LAYOUTS)
def test_the_layouts_shipped_in_the_package_are_the_examples(name: str) -> None:
    shipped = Path(bankfile.__file__).parent / "layouts" / f"{name}.toml"
    assert shipped.read_bytes() == (LAYOUTS / f"{name}.toml").read_bytes()
    assert builtin_layout(name) == layout(name)


def test_an_unknown_shipped_layout_is_refused() -> None:
    with pytest.raises(BankLayoutError, match="shipped: delimited-gb18030"):
        builtin_layout("swift-mt103")


def test_a_record_carrying_the_same_field_twice_is_refused() -> None:
    data = _data()
    data["order"]["detail"]["fields"].append({"name": "account"})
    with pytest.raises(BankLayoutError, match=r"carries \['account'\] twice"):
        BankLayout.from_dict(data, source="bank.toml")
