"""Nothing the simulation produces carries a full ID or account number: refusals, logs, SMS, evidence, notices."""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterator

import pytest

from yikatong.adapters.faults import Faults
from yikatong.simulation import _roster as _simroster
from yikatong.simulation._life import run_lifecycle
from yikatong.simulation._world import LogCapture, World
from yikatong.workflow.roles import Actor

LONG_NUMBER = re.compile(r"[0-9]{13,19}|[0-9]{17}[0-9Xx]")


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    logs = LogCapture()
    root = logging.getLogger()
    root.addHandler(logs)
    try:
        w = World(2024, people=240, faults=Faults.typical(), logs=logs, keep_texts=True)
        for k in range(10):
            run_lifecycle(w, random.Random(f"privacy:{k}"), rows=15)
        w.check("end", final=True)
        yield w
    finally:
        root.removeHandler(logs)


def secrets(w: World) -> set[str]:
    ids = set(w.people.get_column("id_number").to_list())
    accounts = set(w.people.get_column("account").to_list())
    for b in w.store.batches():
        rows = w.store.rows(b.batch_id)
        ids |= set(rows.get_column("id_number").drop_nulls().to_list())
        accounts |= set(rows.get_column("account").drop_nulls().to_list())
    return ids | accounts


def test_the_simulation_found_no_personal_data_anywhere(world: World) -> None:
    assert world.violations == []


def test_the_scan_covered_refusals_sms_evidence_and_public_notices(world: World) -> None:
    texts = world.archive or []
    assert any("may not" in t or "不得" in t for t in texts)
    assert any(t.startswith("【一卡通】") for t in texts)
    assert any("****" in t for t in texts)
    assert any("元/月" in t for t in texts)
    assert len(texts) > 200


def test_no_produced_text_holds_a_full_id_or_account_number(world: World) -> None:
    known = secrets(world)
    stored = [e.reason for e in world.store.audit()] + [e.details for e in world.store.audit()]
    stored += world.store.exceptions().get_column("detail").to_list()
    leaks = [m for text in [*(world.archive or []), *stored] for m in LONG_NUMBER.findall(text) if m in known]
    assert leaks == []


def test_an_id_pasted_into_a_reason_is_masked_in_the_audit_log(world: World) -> None:
    roster, _ = _simroster.roster(world.people, 3, random.Random(1), amount_fen=10_000, item="GLJT")
    maker = Actor("民政局-经办", "department", department="民政局")
    record = world.service.create_batch(roster, item="GLJT", period="2026-06", actor=maker)
    id_number = roster.get_column("id_number")[0]
    before = len(world.violations)
    world.step(
        "cancel", lambda: world.service.cancel(record.batch_id, actor=maker, reason=f"身份证 {id_number} 重复申报")
    )
    head = world.store.audit_head()
    assert head is not None
    assert head.action == "cancel"
    assert id_number not in head.reason
    assert id_number[:6] in head.reason
    assert world.violations[before:] == []


def stored_id(world: World) -> str:
    return str(world.store.rows(world.store.batches()[0].batch_id).get_column("id_number")[0])


def stored_account(world: World) -> str:
    return str(world.store.rows(world.store.batches()[0].batch_id).get_column("account")[0])


def test_a_log_line_with_a_full_id_is_reported_as_a_violation(world: World) -> None:
    id_number = stored_id(world)
    before = len(world.violations)
    world.step("leak", lambda: logging.getLogger("yikatong.leak").warning("payee %s refused", id_number))
    found = world.violations[before:]
    assert [v[0] for v in found] == ["6_no_personal_data"]
    assert id_number not in found[0][2]
    del world.violations[before:]


def test_a_refusal_message_with_a_full_account_is_reported_as_a_violation(world: World) -> None:
    account = stored_account(world)

    def refuse() -> None:
        raise ValueError(f"account {account} is closed")

    before = len(world.violations)
    world.step("leak", refuse)
    assert [v[0] for v in world.violations[before:]] == ["6_no_personal_data"]
    del world.violations[before:]
