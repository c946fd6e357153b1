"""drop-view: DROP VIEW / DROP MATERIALIZED VIEW of an existing view."""

from __future__ import annotations

from helpers import lint_sql, where

R = "drop-view"
VIEW = "CREATE VIEW v_open_invoice AS SELECT 1 AS id;"
MATVIEW = "CREATE MATERIALIZED VIEW monthly_revenue AS SELECT 1 AS total;"


def run(sql: str, history: tuple[str, ...] = (VIEW, MATVIEW), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_drop_view_is_a_warning() -> None:
    findings = run("\nDROP VIEW v_open_invoice;")
    assert where(findings, R) == [(2, 1)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "compatibility"
    assert 'view "v_open_invoice"' in f.message
    assert 'relation "v_open_invoice" does not exist' in f.message


def test_drop_materialized_view() -> None:
    findings = run("DROP MATERIALIZED VIEW IF EXISTS monthly_revenue CASCADE;")
    assert where(findings, R) == [(1, 1)]
    assert 'materialized view "monthly_revenue"' in findings[0].message
    assert "CASCADE" in findings[0].message


def test_unknown_view_counts_as_existing() -> None:
    assert where(run("DROP VIEW reporting.daily;", history=()), R) == [(1, 1)]


def test_silent_on_view_created_in_same_deploy() -> None:
    sql = "CREATE VIEW tmp_v AS SELECT 1;\nDROP VIEW tmp_v;"
    assert run(sql, history=()) == []


def test_silent_when_recreated_in_same_transaction() -> None:
    sql = "DROP VIEW v_open_invoice;\nCREATE VIEW v_open_invoice AS SELECT 1 AS id, 2 AS n;"
    assert run(sql, runner_transaction=True) == []
    # Prisma/golang-migrate: one multi-statement query is one implicit transaction.
    assert run(sql, implicit_transaction=True) == []


def test_recreated_outside_a_transaction_is_flagged() -> None:
    sql = "DROP VIEW v_open_invoice;\nCREATE VIEW v_open_invoice AS SELECT 1 AS id;"
    assert where(run(sql), R) == [(1, 1)]


def test_recreated_after_commit_is_flagged() -> None:
    sql = (
        "BEGIN;\nDROP VIEW v_open_invoice;\nCOMMIT;\nCREATE VIEW v_open_invoice AS SELECT 1 AS id;"
    )
    assert where(run(sql), R) == [(2, 1)]


def test_silent_when_name_is_a_table() -> None:
    assert run("DROP VIEW t;", history=("CREATE TABLE t (id int);",)) == []


ORDERS = "CREATE TABLE orders (id bigint, status text, total numeric, note text);"
ORDER_VIEW = "CREATE VIEW open_orders AS SELECT o.id, o.status, o.total AS amount FROM orders o;"


def test_recreated_in_transaction_without_a_column_the_old_app_selects() -> None:
    sql = (
        "BEGIN;\nDROP VIEW open_orders;\n"
        "CREATE VIEW open_orders AS SELECT id, status FROM orders;\nCOMMIT;"
    )
    findings = run(sql, history=(ORDERS, ORDER_VIEW))
    assert where(findings, R) == [(2, 1)]
    f = findings[0]
    assert f.message == (
        'View "open_orders" is dropped and created again without column "amount": the app '
        'version still running selects it and fails with column "amount" does not exist '
        "until every instance is replaced."
    )
    assert "AS amount" in f.help and "later deploy" in f.help


def test_recreated_in_transaction_with_every_old_column_is_quiet() -> None:
    # Adding, reordering or retyping columns keeps the old app's SELECTs working by name.
    sql = (
        "DROP VIEW open_orders;\n"
        "CREATE VIEW open_orders AS SELECT status, id, total::text AS amount, note FROM orders;"
    )
    assert run(sql, history=(ORDERS, ORDER_VIEW), runner_transaction=True) == []
    # Near miss: the column renamed.
    renamed = sql.replace("AS amount", "AS total_amount")
    findings = run(renamed, history=(ORDERS, ORDER_VIEW), runner_transaction=True)
    assert where(findings, R) == [(1, 1)]
    assert 'without column "amount"' in findings[0].message


def test_unknown_columns_stay_quiet() -> None:
    sql = "DROP VIEW open_orders;\nCREATE VIEW open_orders AS SELECT * FROM orders;"
    assert run(sql, history=(ORDERS, ORDER_VIEW), runner_transaction=True) == []
    star = "CREATE VIEW open_orders AS SELECT * FROM orders;"
    sql = "DROP VIEW open_orders;\nCREATE VIEW open_orders AS SELECT id FROM orders;"
    assert run(sql, history=(ORDERS, star), runner_transaction=True) == []


def test_dropped_outside_a_transaction_and_back_without_columns() -> None:
    sql = "DROP VIEW open_orders;\nCREATE VIEW open_orders AS SELECT id FROM orders;"
    findings = run(sql, history=(ORDERS, ORDER_VIEW))
    assert where(findings, R) == [(1, 1)]
    assert findings[0].message.endswith(
        'until every instance is replaced; when it comes back it lacks columns "status", '
        '"amount", which the app still selects.'
    )


def test_prisma_migration_recreating_a_view_without_a_column() -> None:
    history = (
        'CREATE TABLE "Order" ("id" TEXT NOT NULL, "status" TEXT NOT NULL);',
        'CREATE VIEW "OpenOrder" AS SELECT "id", "status" FROM "Order";',
    )
    sql = 'DROP VIEW "OpenOrder";\nCREATE VIEW "OpenOrder" AS SELECT "id" FROM "Order";\n'
    findings = run(sql, history=history, tool="prisma", implicit_transaction=True)
    assert where(findings, R) == [(1, 1)]
    assert 'without column "status"' in findings[0].message


def test_unknown_materialized_view_is_named_as_one() -> None:
    f = run("DROP MATERIALIZED VIEW sales_summary;", history=())[0]
    assert 'Dropping materialized view "sales_summary"' in f.message
    assert "    CREATE MATERIALIZED VIEW " in f.help
    plain = run("DROP VIEW v_open_invoice;")[0]
    assert "    CREATE VIEW " in plain.help and "MATERIALIZED" not in plain.help


def test_the_recreation_of_that_view_is_compared_not_another() -> None:
    sql = (
        "DROP VIEW open_orders;\n"
        "CREATE VIEW other_orders AS SELECT id FROM orders;\n"
        "CREATE VIEW open_orders AS SELECT id, status, total AS amount FROM orders;"
    )
    assert run(sql, history=(ORDERS, ORDER_VIEW), runner_transaction=True) == []


def test_several_columns_gone_are_all_named() -> None:
    sql = "DROP VIEW open_orders;\nCREATE VIEW open_orders AS SELECT id FROM orders;"
    f = run(sql, history=(ORDERS, ORDER_VIEW), runner_transaction=True)[0]
    assert f.message == (
        'View "open_orders" is dropped and created again without columns "status", "amount": '
        'the app version still running selects them and fails with column "status" does not '
        "exist until every instance is replaced."
    )
    assert "NULL::text AS status" in f.help
