"""``yikatong demo --store postgresql://…`` and ``yikatong audit verify|anchor --store postgresql://…`` on a server."""

from __future__ import annotations

import contextlib
import io
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from tests.postgres import new_schema
from yikatong.adapters.clock import SystemClock
from yikatong.adapters.keys import KEY_ENV, keys_from_file
from yikatong.adapters.postgres import PostgresRegistry, check_registry
from yikatong.cli import main
from yikatong.ingest import read_roster
from yikatong.money import format_yuan

ROWS = 240


def _main(*argv: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        mp.delenv(KEY_ENV, raising=False)  # the demo's own key, and verify's --key-file, are what is tested
        code = main(list(argv))
    return code, stdout.getvalue(), stderr.getvalue()


def _summary(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def demo(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The demo month run once in a PostgreSQL schema: the schema and the output folder (with ``demo.key``)."""
    schema, out = new_schema(), tmp_path_factory.mktemp("pgdemo") / "out"
    code, _, err = _main(
        "demo", "--out", str(out), "--rows", str(ROWS), "--quiet", "--store", postgres_server, "--schema", schema
    )
    assert code == 0, err
    return schema, out


def _verify(url: str, schema: str, out: Path, *extra: str) -> tuple[int, str, str]:
    key = str(out / "demo.key")
    return _main("audit", "verify", "--store", url, "--schema", schema, "--key-file", key, *extra)


def _insider(url: str, schema: str, statements: tuple[str, ...]) -> None:
    """Run ``statements`` in the store's schema, as its owner could with psql; each must change something."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        for statement in statements:
            changed = conn.execute(statement.encode()).rowcount
            assert changed != 0, statement


def test_the_demo_month_in_postgres_has_the_figures_and_audit_head_of_the_same_month_in_sqlite(
    demo: tuple[str, Path], tmp_path: Path
) -> None:
    _, out = demo
    assert not (out / "yikatong.db").exists()
    assert (out / "demo.key").exists()
    code, printed, err = _main("demo", "--out", str(tmp_path / "out"), "--rows", str(ROWS), "--quiet")
    assert code == 0, err
    on_sqlite, on_postgres = _summary(tmp_path / "out"), _summary(out)
    assert on_postgres["money"] == on_sqlite["money"]
    assert on_postgres["totals"]["paid_fen"] > 0
    assert on_postgres == on_sqlite  # every figure, down to the audit log's head hash
    money_line = next(line for line in printed.splitlines() if line.startswith("资金 money"))
    assert money_line in (out / "summary.txt").read_text(encoding="utf-8")


def test_audit_verify_and_anchor_pass_on_the_demo_store_in_postgres_with_the_demo_key(
    postgres_server: str, demo: tuple[str, Path]
) -> None:
    schema, out = demo
    code, printed, err = _verify(postgres_server, schema, out, "--json")
    assert code == 0, err + printed
    report = json.loads(printed)
    assert report["ok"] is True
    assert report["entries"] == _summary(out)["audit"]["entries"] > 0
    assert report["batches"] == len(_summary(out)["batches"])
    code, anchor, err = _main(
        "audit", "anchor", "--store", postgres_server, "--schema", schema, "--key-file", str(out / "demo.key")
    )
    assert code == 0, err
    assert anchor.split() == [str(report["head_seq"]), report["head_hash"]]


def test_the_demo_store_in_postgres_is_sealed_no_id_or_account_readable_in_any_table(
    postgres_server: str, demo: tuple[str, Path]
) -> None:
    schema, out = demo
    roster = read_roster(out / "input" / "roster.csv")
    with psycopg.connect(postgres_server) as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)).fetchall()
        every = "\n".join(
            str(r[0])
            for (table,) in tables
            for r in conn.execute(sql.SQL("SELECT t::text FROM {} t").format(sql.Identifier(schema, str(table))))
        )
    people = [v for v in [*roster["id_number"], *roster["account"]] if v is not None and len(v) >= 12]
    assert len(people) > ROWS
    assert not [v for v in people if v in every]


def test_the_towns_new_cards_are_in_the_sealed_registry_of_the_demo_schema(
    postgres_server: str, demo: tuple[str, Path]
) -> None:
    schema, out = demo
    keys = keys_from_file(out / "demo.key")
    with PostgresRegistry(
        postgres_server, clock=SystemClock(), schema=schema, create=False, read_only=True, keys=keys
    ) as registry:
        assert registry.sealing.sealed
        snapshot = registry.snapshot().collect()
        assert snapshot.height > 0
        assert set(snapshot["status"]) == {"active"}
        assert check_registry(registry) == []
        cells = registry.connection.execute("SELECT id_number, account, holder_name FROM accounts").fetchall()
    clear = set(snapshot["id_number"]) | set(snapshot["account"]) | set(snapshot["holder_name"])
    assert not clear & {value for row in cells for value in row}


def test_audit_verify_without_the_key_cannot_open_the_sealed_store_and_says_so_on_one_line(
    postgres_server: str, demo: tuple[str, Path]
) -> None:
    schema, _ = demo
    code, printed, err = _main("audit", "verify", "--store", postgres_server, "--schema", schema)
    assert code == 2
    assert not printed
    message = _one_chinese_first_line(err)
    assert "需要密钥" in message
    assert "--key-file" in message


_FIRST_PAID = "(SELECT batch_id, row_id FROM ledger WHERE status = 'paid' ORDER BY batch_id, row_id LIMIT 1)"


@pytest.mark.parametrize(
    ("what", "edit", "undo"),
    [
        (
            "a paid amount in the ledger",
            (f"UPDATE ledger SET amount_fen = amount_fen + 10000 WHERE (batch_id, row_id) = {_FIRST_PAID}",),
            (f"UPDATE ledger SET amount_fen = amount_fen - 10000 WHERE (batch_id, row_id) = {_FIRST_PAID}",),
        ),
        (
            "a paid row marked failed",
            (f"UPDATE row_state SET status = 'failed' WHERE (batch_id, row_id) = {_FIRST_PAID}",),
            (f"UPDATE row_state SET status = 'paid' WHERE (batch_id, row_id) = {_FIRST_PAID}",),
        ),
        (
            "a batch's funded money",
            ("UPDATE batches SET funded_fen = funded_fen + 1 WHERE seq = 1",),
            ("UPDATE batches SET funded_fen = funded_fen - 1 WHERE seq = 1",),
        ),
        (
            "an audit entry, its guard switched off",
            ("ALTER TABLE audit DISABLE TRIGGER USER", "UPDATE audit SET reason = reason || '已核实' WHERE seq = 3"),
            ("UPDATE audit SET reason = left(reason, -3) WHERE seq = 3", "ALTER TABLE audit ENABLE TRIGGER USER"),
        ),
    ],
)
def test_audit_verify_catches_an_insider_editing_the_postgres_store_with_sql(
    postgres_server: str, demo: tuple[str, Path], what: str, edit: tuple[str, ...], undo: tuple[str, ...]
) -> None:
    schema, out = demo
    _insider(postgres_server, schema, edit)
    try:
        code, printed, err = _verify(postgres_server, schema, out)
    finally:
        _insider(postgres_server, schema, undo)
    assert code == 1, f"{what}: {printed}{err}"
    assert "[" in printed or "broken" in printed  # the problem is named
    assert _verify(postgres_server, schema, out)[0] == 0  # undone: intact again


def test_audit_verify_on_a_missing_postgres_store_is_refused_and_creates_nothing(
    postgres_server: str, tmp_path: Path
) -> None:
    schema = new_schema()
    code, _, err = _main("audit", "verify", "--store", postgres_server, "--schema", schema)
    assert code == 2
    assert "no such store" in err
    assert len(err.strip().splitlines()) == 1
    with psycopg.connect(postgres_server) as conn:
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() == (0,)


def test_the_demo_refuses_a_postgres_schema_that_already_holds_batches(
    postgres_server: str, demo: tuple[str, Path], tmp_path: Path
) -> None:
    schema, _ = demo
    code, _, err = _main("demo", "--out", str(tmp_path / "again"), "--rows", "20", "--quiet", "--store",
                         postgres_server, "--schema", schema)  # fmt: skip
    assert code == 2
    assert "already holds" in err
    assert not (tmp_path / "again").exists()


def test_the_demo_store_option_takes_only_a_postgres_url(tmp_path: Path) -> None:
    code, _, err = _main("demo", "--out", str(tmp_path / "out"), "--store", str(tmp_path / "x.db"))
    assert code == 2
    assert "postgresql://" in err


def _one_chinese_first_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("yikatong: 错误 error: ")
    message = line.removeprefix("yikatong: 错误 error: ")
    assert "\u4e00" <= message[0] <= "\u9fff", message  # Chinese first
    return message


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once the socket is closed


@pytest.mark.parametrize("command", ["demo", "verify", "anchor"])
def test_a_bad_url_is_one_line_chinese_first_without_its_password(command: str, tmp_path: Path) -> None:
    url = "postgresql://clerk:s3cret-pw@[::1/county?colour=blue"
    code, _, err = _run(command, url, tmp_path)
    assert code == 2
    message = _one_chinese_first_line(err)
    assert "数据库地址无效" in message
    assert "invalid PostgreSQL URL" in message
    assert "s3cret-pw" not in err


@pytest.mark.parametrize("command", ["demo", "verify", "anchor"])
def test_an_unreachable_server_is_one_line_chinese_first(command: str, tmp_path: Path) -> None:
    url = f"postgresql://clerk:s3cret-pw@127.0.0.1:{_closed_port()}/county"
    code, _, err = _run(command, url, tmp_path)
    assert code == 2
    message = _one_chinese_first_line(err)
    assert "无法连接数据库" in message
    assert "cannot connect to PostgreSQL" in message
    assert "s3cret-pw" not in err
    assert not (tmp_path / "out").exists()


def _run(command: str, url: str, tmp_path: Path) -> tuple[int, str, str]:
    if command == "demo":
        return _main("demo", "--out", str(tmp_path / "out"), "--rows", "20", "--quiet", "--store", url)
    return _main("audit", command, "--store", url)


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--out", "{tmp}/out", "--rows", "20", "--quiet", "--store", "postgresql://clerk@localhost/county"],
        ["audit", "verify", "--store", "postgresql://clerk@localhost/county"],
    ],
)
def test_without_psycopg_a_postgres_url_asks_for_the_extra_on_one_line(argv: list[str], tmp_path: Path) -> None:
    script = (
        "import sys; sys.modules['psycopg'] = None\n"  # as if the [postgres] extra were not installed
        "from yikatong.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr
    message = _one_chinese_first_line(done.stderr)
    assert "yikatong[postgres]" in message
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_report_and_supervision_export_read_the_demo_store_in_postgres(
    postgres_server: str, demo: tuple[str, Path], tmp_path: Path
) -> None:
    schema, out = demo
    expected = _summary(out)
    key = str(out / "demo.key")
    where = ("--store", postgres_server, "--schema", schema, "--key-file", key, "--period", expected["period"])
    code, printed, err = _main("report", *where, "--out", str(tmp_path / "s.xlsx"), "--role", "audit")
    assert code == 0, err
    assert f"已发放 paid: {format_yuan(expected['totals']['paid_fen'])} 元" in printed
    assert f"银行留存 outstanding: {format_yuan(expected['money']['held_fen'])} 元" in printed
    assert expected["audit"]["head_hash"] in printed
    assert (out / f"汇总表-{expected['period']}.xlsx").exists()
    code, printed, err = _main("export", "supervision", *where, "--out", str(tmp_path / "sup.xlsx"))
    assert code == 0, err
    assert f"批次 batches: {len(expected['batches'])}" in printed
    code, _, err = _main(
        "report",
        "--store",
        postgres_server,
        "--schema",
        "no_such_schema",
        "--period",
        "2026",
        "--out",
        str(tmp_path / "x.html"),
    )
    assert code == 2
    assert "cannot open the store" in err
    assert "no_such_schema" in err
    secret = urlsplit(postgres_server).password
    assert secret is None or secret not in err  # a URL's password is never printed
