"""replace-view-columns: CREATE OR REPLACE VIEW may only append columns (PostgreSQL's
errors measured on 16 and 18: tests/live/test_partition_facts.py)."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where

R = "replace-view-columns"
ORDERS = "create table orders (id bigint, status text, total numeric, note text);"
VIEW = "create view open_orders as select id, status, total from orders where status = 'open';"


def run(sql: str, history: tuple[str, ...] = (ORDERS, VIEW), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_dropping_a_column_fails() -> None:
    findings = run("create or replace view open_orders as select id, status from orders;")
    assert where(findings, R) == [(1, 1)]
    f = findings[0]
    assert f.severity == "error" and f.category == "compatibility"
    assert f.message.startswith(
        'CREATE OR REPLACE VIEW "open_orders" fails with cannot drop columns from view: the '
        'new query has 2 columns, the view has 3 ("total" would go).'
    )
    assert "    DROP VIEW open_orders;\n    CREATE VIEW open_orders AS SELECT ...;" in f.help


def test_renaming_a_column_fails() -> None:
    findings = run(
        "create or replace view open_orders as select id, status, total as amount from orders;"
    )
    assert where(findings, R) == [(1, 1)]
    assert (
        'fails with cannot change name of view column "total" to "amount": column 3 of the '
        'view is "total", the new query names it "amount".'
    ) in findings[0].message


def test_reordering_columns_fails() -> None:
    findings = run("create or replace view open_orders as select status, id, total from orders;")
    assert 'cannot change name of view column "id" to "status"' in findings[0].message


@pytest.mark.parametrize(
    "sql",
    [
        # Appending columns is what CREATE OR REPLACE allows.
        "create or replace view open_orders as select id, status, total, note from orders;",
        "create or replace view open_orders as select o.id, o.status, o.total from orders o;",
        # An explicit column list names the columns.
        "create or replace view open_orders (id, status, total) as select 1, 'x', 2.0;",
        # Unknown new columns: quiet.
        "create or replace view open_orders as select * from orders;",
        # Not a replacement.
        "drop view open_orders;\ncreate view open_orders as select id from orders;",
    ],
)
def test_quiet(sql: str) -> None:
    assert run(sql) == []


def test_unknown_old_columns_are_quiet() -> None:
    history = (ORDERS, "create view open_orders as select * from orders;")
    assert (
        run("create or replace view open_orders as select id from orders;", history=history) == []
    )
    # Near miss: the history names them.
    assert where(run("create or replace view open_orders as select id from orders;"), R) == [(1, 1)]


def test_fails_on_a_view_created_in_the_same_migration_too() -> None:
    sql = (
        "create view v as select id, status from orders;\n"
        "create or replace view v as select id from orders;"
    )
    assert where(run(sql, history=(ORDERS,)), R) == [(2, 1)]


def test_columns_renamed_with_alter_view_are_followed() -> None:
    history = (ORDERS, VIEW, "alter view open_orders rename column total to amount;")
    sql = "create or replace view open_orders as select id, status, total as amount from orders;"
    assert run(sql, history=history) == []
    assert where(run(sql), R) == [(1, 1)]


def test_prisma_form() -> None:
    history = (
        'CREATE TABLE "Order" ("id" TEXT NOT NULL, "status" TEXT NOT NULL);',
        'CREATE VIEW "OpenOrder" AS SELECT "id", "status" FROM "Order";',
    )
    sql = 'CREATE OR REPLACE VIEW "OpenOrder" AS SELECT "id" FROM "Order";'
    findings = run(sql, history=history, tool="prisma")
    assert where(findings, R) == [(1, 1)]
    assert '("status" would go)' in findings[0].message
