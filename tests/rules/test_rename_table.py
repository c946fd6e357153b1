"""rename-table: ALTER TABLE ... RENAME TO of an existing table."""

from __future__ import annotations

from pathlib import Path

from alembic_help import upgrade_code
from helpers import lint_alembic, lint_sql, where

R = "rename-table"
USERS_APP = (
    'op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True), '
    'sa.Column("email", sa.String(100), nullable=False), sa.Column("bio", sa.Text()), '
    'schema="app")'
)
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


BILLING = (
    "create schema billing;\n"
    "create table billing.invoices (id bigint primary key);\n"
    "create table billing.payments (id bigint primary key);"
)


def test_schema_rename_breaks_every_qualified_query() -> None:
    findings = lint_sql("alter schema billing rename to finance;", history=[BILLING], rules=[R])
    assert where(findings, R) == [(1, 1)]
    f = findings[0]
    assert f.severity == "error"
    assert f.message == (
        'Renaming schema "billing" to "finance": every query of the app version still running '
        'that names "billing".<object> ("billing"."invoices", "billing"."payments") fails '
        'with relation "billing.invoices" does not exist until every instance is replaced.'
    )
    assert "    SET search_path = billing, finance, public;" in f.help
    assert "    ALTER SCHEMA billing RENAME TO finance;" in f.help


def test_schema_rename_of_an_unknown_schema_is_flagged() -> None:
    findings = lint_sql("ALTER SCHEMA legacy RENAME TO archive;", rules=[R])
    assert where(findings, R) == [(1, 1)]
    assert 'relation "legacy.…" does not exist' in findings[0].message


def test_schema_created_in_this_deploy_or_empty_is_quiet() -> None:
    sql = "create schema staging;\ncreate table staging.t (id int);\nalter schema staging rename to stage;"
    assert lint_sql(sql, rules=[R]) == []
    assert (
        lint_sql("alter schema empty rename to void;", history=["create schema empty;"], rules=[R])
        == []
    )


def test_schema_rename_moves_its_tables_in_the_replay() -> None:
    history = [BILLING, "alter schema billing rename to finance;"]
    # The tables now live under the new name: renaming one is flagged under it.
    findings = lint_sql("alter table finance.invoices rename to bills;", history=history, rules=[R])
    assert 'Renaming table "finance"."invoices"' in findings[0].message
    # and the old schema is gone: a new one with that name is new.
    sql = "create schema billing;\ncreate table billing.t (id int);\nalter schema billing rename to b2;"
    assert lint_sql(sql, history=history, rules=[R]) == []


def test_more_than_three_tables_are_counted() -> None:
    many = "create schema s;\n" + "\n".join(f"create table s.t{i} (id int);" for i in range(5))
    f = lint_sql("alter schema s rename to s2;", history=[many], rules=[R])[0]
    assert '("s"."t0", "s"."t1", "s"."t2" and 2 more)' in f.message


def test_three_and_four_tables() -> None:
    def tables(n: int) -> str:
        return "create schema s;\n" + "\n".join(f"create table s.t{i} (id int);" for i in range(n))

    three = lint_sql("alter schema s rename to s2;", history=[tables(3)], rules=[R])[0]
    assert '("s"."t0", "s"."t1", "s"."t2") fails' in three.message
    four = lint_sql("alter schema s rename to s2;", history=[tables(4)], rules=[R])[0]
    assert '("s"."t0", "s"."t1", "s"."t2" and 1 more)' in four.message


def test_set_schema_of_a_qualified_table() -> None:
    history = ["create schema app;\ncreate table app.users (id bigint primary key);"]
    f = lint_sql("alter table app.users set schema archive;", history=history, rules=[R])[0]
    assert 'Moving table "app"."users" to "archive"."users"' in f.message
    assert "Move it and leave a view under the old name" in f.help
    renamed = lint_sql("alter table app.users rename to people;", history=history, rules=[R])[0]
    assert "Rename it and leave a view under the old name" in renamed.help


def test_alembic_help_renames_with_op_and_leaves_a_view(tmp_path: Path) -> None:
    body = 'op.rename_table("users", "people", schema="app")'
    (f,) = [f for f in lint_alembic(tmp_path, USERS_APP, body) if f.rule == R]
    assert (f.line, f.column) == (9, 5)
    code = upgrade_code(f.help)
    assert 'op.rename_table("users", "people", schema="app")' in code
    # The renamed table stays in its schema, so the view names it there.
    assert """op.execute('CREATE VIEW "app"."users" AS SELECT * FROM "app"."people"')""" in code
    assert """op.execute('DROP VIEW "app"."users"')""" in code
    assert "BEGIN" not in f.help  # a revision already runs in a transaction


def test_alembic_help_moves_a_table_with_op_execute(tmp_path: Path) -> None:
    body = 'op.execute("ALTER TABLE app.users SET SCHEMA archive")'
    (f,) = [f for f in lint_alembic(tmp_path, USERS_APP, body) if f.rule == R]
    code = upgrade_code(f.help)
    assert 'ALTER TABLE "app"."users" SET SCHEMA "archive"' in code


def test_alembic_help_for_a_table_in_the_default_schema(tmp_path: Path) -> None:
    earlier = 'op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True))'
    found = lint_alembic(tmp_path, earlier, 'op.rename_table("users", "people")')
    (f,) = [f for f in found if f.rule == R]
    code = upgrade_code(f.help)
    assert 'op.rename_table("users", "people")\n' in code
    assert """op.execute('CREATE VIEW "users" AS SELECT * FROM "people"')""" in code
