"""A resident's look-up of their own payments: name and ID must both match, every look-up is audited."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit._workflow_fakes import BANK, CHECKER, MAKER, START, World, make_id, make_roster
from yikatong.adapters.clock import FixedClock
from yikatong.adapters.keys import SecretKeys
from yikatong.adapters.memory_store import MemoryStore
from yikatong.adapters.resident_lookup import StoreResidentLookup
from yikatong.catalog import Catalog
from yikatong.errors import StoreError
from yikatong.ports import ResidentLookup
from yikatong.records import RESIDENT_PAYMENT_SCHEMA, AuditEntry, FundingStatus
from yikatong.workflow.audit import make_entry, verify
from yikatong.workflow.lookup import lookup_hash, parse_query

KEYS = SecretKeys(b"county finance bureau data secret 2026")
OTHER_KEYS = SecretKeys(b"another county's secret, same length!")
PAY_DAY = dt.date(2026, 11, 27)
GOOD = make_id("19400101", 1)
BAD_CHECK = GOOD[:-1] + ("0" if GOOD[-1] != "0" else "1")


@pytest.fixture
def world(catalog: Catalog) -> World:
    return World(catalog, keys=KEYS)


def lookup(world: World, catalog: Catalog, keys: SecretKeys = KEYS, contact: str = "") -> StoreResidentLookup:
    return StoreResidentLookup(world.store, keys=keys, catalog=catalog, clock=world.clock, default_contact=contact)


def person(world: World, batch_id: str, row_id: int) -> tuple[str, str]:
    row = world.store.rows(batch_id).filter(pl.col("row_id") == row_id).row(0, named=True)
    return str(row["name"]), str(row["id_number"])


def ask(service: StoreResidentLookup, name: str, id_number: str, channel: str = "渝快办") -> pl.DataFrame:
    return service.payments(name=name, id_number=id_number, asked_by="ykb-session-1", channel=channel)


def pay(world: World, batch_id: str) -> None:
    """Walk a created batch to settled, every row paid."""
    s = world.service
    s.submit(batch_id, actor=MAKER)
    s.validate(batch_id)
    s.dispatch(batch_id)
    s.request_funding(batch_id, actor=CHECKER)
    if batch_id in world.treasury.requests:  # else the money held for the corrected rows paid for it all
        world.treasury.status[batch_id] = FundingStatus("funded", world.treasury.requests[batch_id].amount_fen)
        s.poll_funding(batch_id)
    s.disburse(batch_id, actor=BANK)
    s.record_results(batch_id, world.bank.pay_all(batch_id), actor=BANK)


def lookups(world: World) -> list[dict[str, object]]:
    return [json.loads(e.details) | {"actor": e.actor} for e in world.store.audit() if e.action == "resident_lookup"]


# -- the answer -----------------------------------------------------------------------------------------------------


def test_a_resident_sees_their_payment_with_pay_date_masked_account_and_where_to_object(
    world: World, catalog: Catalog
) -> None:
    batch_id = world.to("settled")
    name, id_number = person(world, batch_id, 3)
    answer = ask(lookup(world, catalog), name, id_number)
    assert answer.schema == pl.Schema(RESIDENT_PAYMENT_SCHEMA)
    assert answer.to_dicts() == [
        {
            "item": "GLJT",
            "item_name": "高龄津贴",
            "period": "2026-11",
            "amount_fen": 10_000,
            "pay_date": PAY_DAY,
            "status": "paid",
            "status_zh": "已发放",
            "account_masked": "****0003",
            "town": "中和街道",
            "village": "村3",
            "department": "民政局",
            "objection_contact": catalog["GLJT"].objection_contact,
            "batch_id": batch_id,
        }
    ]
    assert catalog["GLJT"].objection_contact.startswith("秀山县民政局")


def test_nobody_elses_payments_are_in_the_answer(world: World, catalog: Catalog) -> None:
    batch_id = world.to("settled")
    name, id_number = person(world, batch_id, 2)
    answer = ask(lookup(world, catalog), name, id_number)
    assert answer.height == 1
    assert answer["account_masked"].to_list() == ["****0002"]


def test_a_name_that_does_not_go_with_the_id_gets_the_same_answer_as_an_id_never_paid(
    world: World, catalog: Catalog
) -> None:
    batch_id = world.to("settled")
    _, id_number = person(world, batch_id, 1)
    other_name, _ = person(world, batch_id, 2)
    service = lookup(world, catalog)
    mismatch = ask(service, other_name, id_number)
    never_paid = ask(service, other_name, make_id("19300101", 999))
    assert mismatch.is_empty()
    assert mismatch.equals(never_paid)
    assert [entry["found"] for entry in lookups(world)] == [0, 0]


@settings(max_examples=25)
@given(name=st.text(min_size=1, max_size=8))
def test_no_other_name_reveals_anything(catalog: Catalog, name: str) -> None:
    world = World(catalog, keys=KEYS)
    batch_id = world.to("settled", make_roster(1))
    true_name, id_number = person(world, batch_id, 1)
    try:
        query = parse_query(name, id_number)
    except ValueError:
        return  # a blank or malformed name is refused before anything is read
    answer = ask(lookup(world, catalog), name, id_number)
    assert answer.is_empty() == (query.name != true_name)


def test_the_id_is_matched_in_its_normalised_form(world: World, catalog: Catalog) -> None:
    batch_id = world.to("settled")
    name, id_number = person(world, batch_id, 4)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in id_number[:17]) + id_number[17]
    spaced = f" {id_number[:6]} {id_number[6:14]} {id_number[14:]} "
    for given_id in (full_width, spaced):
        assert ask(lookup(world, catalog), f" {name}　", given_id).height == 1


def test_a_first_generation_fifteen_digit_id_finds_the_eighteen_digit_payments(world: World, catalog: Catalog) -> None:
    batch_id = world.to("settled")
    name, id_number = person(world, batch_id, 1)  # 500241 19400101 001 + check
    fifteen = id_number[:6] + id_number[8:17]
    assert ask(lookup(world, catalog), name, fifteen).height == 1


def test_a_failed_row_and_the_correction_that_paid_it_are_both_shown(world: World, catalog: Catalog) -> None:
    batch_id = world.to("settled", failed=(2,))
    world.service.return_failures(batch_id)
    name, id_number = person(world, batch_id, 2)
    service = lookup(world, catalog)
    first = ask(service, name, id_number)
    assert first.select("status", "status_zh", "pay_date").rows() == [("returned", "未发放成功，主管部门更正中", None)]
    correction = (
        world.store.rows(batch_id)
        .filter(pl.col("row_id") == 2)
        .select(
            pl.lit(1, pl.Int64).alias("row_id"),
            "name",
            "id_number",
            "account",
            "amount_fen",
            "town",
            "village",
            pl.col("row_id").alias("corrects_row_id"),
        )
    )
    fix = world.service.create_batch(correction, item="GLJT", period="2026-11", actor=MAKER, corrects=batch_id)
    pay(world, fix.batch_id)
    answer = ask(service, name, id_number)
    assert sorted(answer.select("batch_id", "status").rows()) == [(batch_id, "reissued"), (fix.batch_id, "paid")]


def test_the_default_contact_stands_where_the_catalogue_names_none(world: World, catalog: Catalog) -> None:
    batch_id = world.to("settled")
    name, id_number = person(world, batch_id, 1)
    data = catalog.model_dump()
    data["items"]["GLJT"]["objection_contact"] = ""
    bare = Catalog.model_validate(data)
    answer = ask(lookup(world, bare, contact="县惠民惠农政策咨询热线"), name, id_number)
    assert answer["objection_contact"].to_list() == ["县惠民惠农政策咨询热线"]


# -- every look-up audited ------------------------------------------------------------------------------------------


def test_every_look_up_is_recorded_with_who_the_channel_and_a_keyed_hash_never_the_id(
    world: World, catalog: Catalog
) -> None:
    batch_id = world.to("settled")
    name, id_number = person(world, batch_id, 1)
    before = len(world.store.audit())
    ask(lookup(world, catalog), name, id_number, channel="乡镇便民服务中心")
    ask(lookup(world, catalog), "不是他", id_number, channel="kiosk")
    assert len(world.store.audit()) == before + 2
    hashed = lookup_hash(id_number, key=KEYS.audit_key())
    assert lookups(world) == [
        {"actor": "ykb-session-1", "channel": "乡镇便民服务中心", "id_hash": hashed, "found": 1},
        {"actor": "ykb-session-1", "channel": "kiosk", "id_hash": hashed, "found": 0},
    ]
    log = " ".join(f"{e.actor} {e.reason} {e.details}" for e in world.store.audit())
    assert id_number not in log
    assert id_number[:17] not in log
    assert verify(world.store.audit(), key=KEYS.audit_key()).ok


def test_the_hash_is_keyed_one_county_cannot_recompute_anothers(world: World) -> None:
    id_number = make_id("19400101", 1)
    assert lookup_hash(id_number, key=KEYS.audit_key()) != lookup_hash(id_number, key=OTHER_KEYS.audit_key())
    assert lookup_hash(id_number, key=KEYS.audit_key()).startswith("l1:")


def test_a_store_written_without_keys_has_its_chain_continued_unkeyed(catalog: Catalog) -> None:
    world = World(catalog)  # a service without keys: a plain SHA-256 chain
    batch_id = world.to("settled")
    name, id_number = person(world, batch_id, 1)
    ask(lookup(world, catalog), name, id_number)
    assert verify(world.store.audit(), key=None).ok


def test_another_countys_key_is_refused_and_nothing_is_recorded(world: World, catalog: Catalog) -> None:
    batch_id = world.to("settled")
    name, id_number = person(world, batch_id, 1)
    before = world.store.audit()
    with pytest.raises(StoreError, match="not this store's audit key"):
        ask(lookup(world, catalog, keys=OTHER_KEYS), name, id_number)
    assert world.store.audit() == before


@pytest.mark.parametrize(
    ("name", "id_number", "message"),
    [
        ("  ", make_id("19400101", 1), "name must not be blank"),
        ("张三", "", "ID number must not be blank"),
        ("张三", BAD_CHECK, "check character"),
        ("张三", "50024119400101001", "not 18 digits"),
        ("张三", "5002411940010100AB", "not 18 digits"),
        ("张三", make_id("19401301", 1), "birth date is not a date"),
        ("张\x00三", make_id("19400101", 1), "not a name"),
        ("张" * 51, make_id("19400101", 1), "not a name"),
    ],
)
def test_a_malformed_question_is_refused_without_repeating_the_id_and_nothing_is_recorded(
    world: World, catalog: Catalog, name: str, id_number: str, message: str
) -> None:
    before = world.store.audit()
    with pytest.raises(ValueError, match=message) as refused:
        ask(lookup(world, catalog), name, id_number)
    if id_number:
        assert id_number not in str(refused.value)
    assert world.store.audit() == before


@pytest.mark.parametrize(("asked_by", "channel"), [("", "渝快办"), ("ykb-1", "  ")])
def test_a_look_up_must_say_who_asks_and_through_which_channel(
    world: World, catalog: Catalog, asked_by: str, channel: str
) -> None:
    with pytest.raises(ValueError, match="must not be blank"):
        lookup(world, catalog).payments(
            name="张三", id_number=make_id("19400101", 1), asked_by=asked_by, channel=channel
        )


def test_a_store_that_cannot_record_look_ups_cannot_serve_them(catalog: Catalog) -> None:
    class ReadOnlyStore(MemoryStore):
        append_audit = None  # type: ignore[assignment]

    with pytest.raises(TypeError, match="cannot record look-ups"):
        StoreResidentLookup(ReadOnlyStore(), keys=KEYS, catalog=catalog, clock=FixedClock(dt.datetime.now(dt.UTC)))


def test_the_store_backed_look_up_is_a_resident_lookup_port(world: World, catalog: Catalog) -> None:
    assert isinstance(lookup(world, catalog), ResidentLookup)


class RacingStore(MemoryStore):
    """A store in which another writer appends an entry just before the first look-up's entry arrives."""

    def __init__(self, other: tuple[AuditEntry, ...]) -> None:
        super().__init__()
        self.other = other
        self.refused = 0

    def append_audit(self, entries: Sequence[AuditEntry]) -> None:
        if self.other:
            super().append_audit(self.other)
            self.other = ()
        try:
            super().append_audit(entries)
        except StoreError:
            self.refused += 1
            raise


def test_a_look_up_racing_another_writer_is_recorded_after_it(catalog: Catalog) -> None:
    racing_entry = make_entry(
        previous=None, at=START, actor="cz-1", role="finance", action="note", key=KEYS.audit_key()
    )
    store = RacingStore((racing_entry,))
    service = StoreResidentLookup(store, keys=KEYS, catalog=catalog, clock=FixedClock(START))
    assert ask(service, "张三", GOOD).is_empty()
    assert store.refused == 1
    assert [e.action for e in store.audit()] == ["note", "resident_lookup"]
    assert verify(store.audit(), key=KEYS.audit_key()).ok


def test_who_asked_is_recorded_without_any_number_pasted_into_it(world: World, catalog: Catalog) -> None:
    service = lookup(world, catalog)
    service.payments(name="张三", id_number=GOOD, asked_by=f"窗口 {GOOD}", channel="counter")
    (entry,) = lookups(world)
    assert GOOD not in str(entry["actor"])
    assert str(entry["actor"]).startswith("窗口 ")
