"""rename-table: ALTER TABLE ... RENAME TO of an existing table."""

from __future__ import annotations

from helpers import lint_sql, where

R = "rename-table"
CUSTOMER = "CREATE TABLE customer (id bigint PRIMARY KEY, name text);"


def run(sql: str, history: tuple[str, ...] = (CUSTOMER,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_rename_table() -> None:
    findings = run("ALTER TABLE customer RENAME TO client;")
    assert where(findings, R) == [(1, 22)]
    f = findings[0]
    assert f.severity == "error"
    assert '"customer"' in f.message and '"client"' in f.message
    assert 'relation "customer" does not exist' in f.message
    assert 'CREATE VIEW "customer" AS SELECT * FROM "client";' in f.help


def test_prisma_rename_suggests_map() -> None:
    findings = run('ALTER TABLE "Customer" RENAME TO "Client";', history=(), tool="prisma")
    assert where(findings, R) == [(1, 24)]
    assert '@@map("Customer")' in findings[0].help


def test_silent_with_view_under_old_name_in_same_transaction() -> None:
    sql = "ALTER TABLE customer RENAME TO client;\nCREATE VIEW customer AS SELECT * FROM client;"
    assert run(sql, runner_transaction=True) == []
    # Without a transaction there is a moment with no "customer" at all.
    assert where(run(sql), R) == [(1, 22)]


def test_silent_on_new_table() -> None:
    assert run("CREATE TABLE t (id int);\nALTER TABLE t RENAME TO t2;", history=()) == []


def test_view_renamed_with_alter_table_is_left_to_rename_view() -> None:
    history = (CUSTOMER, "CREATE VIEW active_customers AS SELECT * FROM customer;")
    assert run("ALTER TABLE active_customers RENAME TO current_customers;", history=history) == []


def test_unknown_table_is_flagged() -> None:
    assert where(run("alter table public.orders rename to purchases;", history=()), R) == [(1, 27)]


def test_set_schema_moves_the_table_away_from_its_old_name() -> None:
    history = ["create table users (id bigint primary key);"]
    findings = lint_sql(
        "alter table users set schema archive;", history=history, rules=["rename-table"]
    )
    assert where(findings, "rename-table") == [(1, 19)]  # at SET SCHEMA
    f = findings[0]
    assert 'Moving table "users" to "archive"."users"' in f.message
    assert 'ALTER TABLE "users" SET SCHEMA "archive";' in f.help
    assert 'CREATE VIEW "users" AS SELECT * FROM "archive"."users";' in f.help
    # The near miss: a table created in this deploy can move freely.
    moved_new = "create table drafts (id int);\nalter table drafts set schema archive;"
    assert lint_sql(moved_new, history=history, rules=["rename-table"]) == []
