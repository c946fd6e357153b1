"""non-concurrent-reindex: REINDEX without CONCURRENTLY (PostgreSQL 12+ has the concurrent
form; 11 does not)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alembic_help import upgrade_code
from helpers import lint_alembic, lint_sql, where

R = "non-concurrent-reindex"
USERS_APP = (
    'op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True), '
    'sa.Column("email", sa.String(100), nullable=False), sa.Column("bio", sa.Text()), '
    'schema="app")'
)
ORDERS = (
    "create table orders (id bigint primary key, status text);\n"
    "create index orders_status_idx on orders (status);"
)


def run(sql: str, history: tuple[str, ...] = (ORDERS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_reindex_index_on_pg12_suggests_concurrently() -> None:
    findings = run("reindex index orders_status_idx;", pg=12)
    assert where(findings, R) == [(1, 1)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "locking"
    assert 'REINDEX INDEX "orders_status_idx"' in f.message
    assert 'blocks writes to "orders"' in f.message
    assert "    REINDEX INDEX CONCURRENTLY orders_status_idx;" in f.help


def test_reindex_on_pg11_has_no_concurrent_form() -> None:
    findings = run("reindex index orders_status_idx;", pg=11)
    assert where(findings, R) == [(1, 1)]
    h = findings[0].help
    assert "PostgreSQL 11 has no REINDEX CONCURRENTLY" in h
    assert "CREATE INDEX CONCURRENTLY orders_status_idx_new" in h
    assert "DROP INDEX CONCURRENTLY orders_status_idx;" in h
    assert "ALTER INDEX orders_status_idx_new RENAME TO orders_status_idx;" in h
    assert "REINDEX INDEX CONCURRENTLY" not in h


def test_reindex_table_and_database() -> None:
    findings = run("REINDEX TABLE orders;\nREINDEX DATABASE app;\n", pg=14)
    assert where(findings, R) == [(1, 1), (2, 1)]
    assert "REINDEX TABLE CONCURRENTLY orders;" in findings[0].help
    assert 'REINDEX DATABASE "app"' in findings[1].message


@pytest.mark.parametrize(
    "sql",
    [
        "reindex index concurrently orders_status_idx;",
        "REINDEX (VERBOSE, CONCURRENTLY) TABLE orders;",
        "REINDEX (CONCURRENTLY) INDEX orders_status_idx;",
    ],
)
def test_concurrently_is_quiet(sql: str) -> None:
    assert run(sql, pg=12) == []


def test_new_table_and_new_index_are_quiet() -> None:
    sql = (
        "create table tags (id int, name text);\n"
        "create index tags_name_idx on tags (name);\n"
        "reindex index tags_name_idx;\n"
        "reindex table tags;\n"
        "create index orders_id_status_idx on orders (id, status);\n"
        "reindex index orders_id_status_idx;\n"
    )
    assert run(sql) == []


@pytest.mark.parametrize(
    "sql",
    [
        "reindex (concurrently false) index orders_status_idx;",
        "reindex (verbose, concurrently off) index orders_status_idx;",
    ],
)
def test_concurrently_turned_off_in_the_option_list_is_blocking(sql: str) -> None:
    assert where(run(sql, pg=14), R) == [(1, 1)]


@pytest.mark.parametrize(
    "sql",
    [
        "reindex (concurrently) index orders_status_idx;",
        "reindex (verbose, concurrently true) index orders_status_idx;",
    ],
)
def test_concurrently_in_the_option_list_is_concurrent(sql: str) -> None:
    assert run(sql, pg=14) == []


def test_pg11_swap_names_the_new_index_without_its_schema() -> None:
    # CREATE INDEX name and RENAME TO name take a bare name (PostgreSQL rejects
    # "CREATE INDEX app.x ..."): the index is created in its table's schema.
    history = (
        "create schema app;\ncreate table app.orders (id bigint primary key, status text);\n"
        "create index orders_status_idx on app.orders (status);",
    )
    findings = run("reindex index app.orders_status_idx;", history=history, pg=11)
    assert where(findings, R) == [(1, 1)]
    assert findings[0].message.startswith(
        'REINDEX INDEX "app"."orders_status_idx" without CONCURRENTLY blocks writes to '
        '"app"."orders" (a SHARE lock on the table)'
    )
    assert findings[0].help.splitlines()[1:4] == [
        "    CREATE INDEX CONCURRENTLY orders_status_idx_new ON … (same columns and options as "
        "app.orders_status_idx);",
        "    DROP INDEX CONCURRENTLY app.orders_status_idx;",
        "    ALTER INDEX app.orders_status_idx_new RENAME TO orders_status_idx;",
    ]


def test_pg11_reindex_table_has_no_index_name_to_offer() -> None:
    findings = run("reindex table orders;", pg=11)
    assert where(findings, R) == [(1, 1)]
    assert findings[0].help.splitlines()[1:4] == [
        "    CREATE INDEX CONCURRENTLY <index>_new ON … (same columns and options as <index>);",
        "    DROP INDEX CONCURRENTLY <index>;",
        "    ALTER INDEX <index>_new RENAME TO <index>;",
    ]


def test_reindex_system_on_pg11_is_for_a_maintenance_window() -> None:
    findings = run("reindex system app;", pg=11)
    assert where(findings, R) == [(1, 1)]
    assert findings[0].message.startswith('REINDEX SYSTEM "app" without CONCURRENTLY rebuilds')
    assert findings[0].help == (
        "REINDEX SYSTEM has no concurrent form: run it in a maintenance window, not in a migration."
    )


def test_a_rebuild_keeps_an_earlier_access_exclusive_lock_held() -> None:
    # hold-exclusive-lock asks this rule what slow work a REINDEX does.
    def held(reindex: str) -> list:
        sql = f"begin;\nalter table orders add column note text;\n{reindex}\ncommit;"
        return lint_sql(sql, history=[ORDERS], rules=["hold-exclusive-lock"], pg=16)

    named = held("reindex index orders_status_idx;")
    assert where(named, "hold-exclusive-lock") == [(2, 20)]
    assert 'line 3 rebuilds "orders_status_idx"' in named[0].message
    whole = held("reindex table orders;")
    assert 'line 3 rebuilds "orders"' in whole[0].message
    # The near miss: an index of a table this deploy creates has no rows to rebuild.
    assert (
        held("create table tmp (a int);\ncreate index tmp_a on tmp (a);\nreindex index tmp_a;")
        == []
    )


def test_concurrently_goes_after_the_kind_not_into_a_quoted_name() -> None:
    history = (
        'create table "Order" (id bigint primary key, status text);\n'
        'create index "Order status" on "Order" (status);',
    )
    findings = run('reindex index "Order status";', history=history, pg=14)
    assert where(findings, R) == [(1, 1)]
    assert '    REINDEX INDEX CONCURRENTLY "Order status";\n' in findings[0].help


@pytest.mark.parametrize("pg", [16, 11])
def test_alembic_help_runs_in_an_autocommit_block(tmp_path: Path, pg: int) -> None:
    body = 'op.execute("REINDEX INDEX app.users_pkey")'
    (f,) = [f for f in lint_alembic(tmp_path, USERS_APP, body, rules=[R], pg=pg) if f.rule == R]
    assert (f.line, f.column) == (9, 17)
    code = upgrade_code(f.help)
    assert "    with op.get_context().autocommit_block():\n        op.execute(" in code
    assert ("REINDEX INDEX CONCURRENTLY app.users_pkey" in code) == (pg >= 12)
    assert "Run it outside any transaction block" not in f.help  # the code says it
