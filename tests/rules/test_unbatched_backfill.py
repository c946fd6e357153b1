"""unbatched-backfill: UPDATE of every row / INSERT ... SELECT of a whole table."""

from __future__ import annotations

from pathlib import Path

import pytest

from alembic_help import assert_python
from helpers import lint_alembic, lint_sql, where

R = "unbatched-backfill"
USERS = (
    "create table users (id bigserial primary key, full_name text);\n"
    "create table orders (id bigserial primary key, total_cents bigint);\n"
    "create table orders_archive (id bigint, total_cents bigint);"
)


def run(sql: str, history: tuple[str, ...] = (USERS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_backfill_in_the_ddl_transaction() -> None:
    sql = (
        "alter table users add column if not exists display_name text;\n\n"
        "update users set display_name = full_name;\n"
    )
    findings = run(sql, tool="golang-migrate", implicit_transaction=True)
    assert where(findings, R) == [(3, 1)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "locking"
    assert 'every row of existing table "users"' in f.message
    assert "same transaction as the schema change at line 1" in f.message
    assert 'ACCESS EXCLUSIVE lock on "users"' in f.message
    assert "    UPDATE users SET display_name = full_name" in f.help
    assert "    WHERE id IN (SELECT id FROM users WHERE display_name IS NULL LIMIT 5000);" in f.help


def test_backfill_alone_gets_the_plain_message() -> None:
    findings = run('UPDATE "users" SET "full_name" = trim("full_name");')
    assert where(findings, R) == [(1, 1)]
    assert "worse" not in findings[0].message
    assert "<rows not yet backfilled>" in findings[0].help


def test_insert_select_copies_a_whole_table() -> None:
    findings = run("insert into orders_archive select * from orders;")
    assert where(findings, R) == [(1, 1)]
    assert (
        'copies every row of existing table "orders" into "orders_archive"' in findings[0].message
    )


@pytest.mark.parametrize(
    "sql",
    [
        "update users set full_name = '' where id between 1 and 5000;",
        "insert into orders_archive select * from orders where id < 1000;",
        "insert into orders (total_cents) values (1), (2);",
        "create table plans (id int, active boolean);\nupdate plans set active = true;",
        "delete from orders;",
    ],
)
def test_quiet(sql: str) -> None:
    assert run(sql) == []


def test_update_joined_with_a_limited_batch_is_batched() -> None:
    # Prefect's batched backfill: the CTE picks at most 500 rows, the UPDATE joins it.
    batched = (
        "WITH todo AS (SELECT id FROM users WHERE display_name IS NULL LIMIT 500)\n"
        "UPDATE users SET display_name = full_name FROM todo WHERE users.id = todo.id;"
    )
    assert run(batched) == []
    # The same join with the whole table is not a batch ...
    whole = batched.replace(" LIMIT 500", "")
    assert where(run(whole), R) == [(1, 1)]
    # ... nor is a LIMIT that only appears inside a string literal.
    quoted = whole.replace("full_name FROM", "'limit 5' FROM")
    assert where(run(quoted), R) == [(1, 1)]


def test_update_with_a_where_that_is_always_true_changes_every_row() -> None:
    sql = "update users set full_name = '' where 1 = 1;\nupdate users set full_name = '' where not false;"
    assert where(run(sql), R) == [(1, 1), (2, 1)]
    # The near miss: a real filter.
    assert run("update users set full_name = '' where id < 100;") == []


# --- backfills written as loops, and WHERE c IS NULL on a new column (issue 12, point 6) ---

LOOP = """DO $$
DECLARE n int;
BEGIN
  LOOP
    UPDATE users SET nickname = full_name
    WHERE id IN (SELECT id FROM users WHERE nickname IS NULL LIMIT 1000);
    GET DIAGNOSTICS n = ROW_COUNT;
    EXIT WHEN n = 0;{commit}
  END LOOP;
END $$;"""
WITH_NICKNAME = (USERS + "\nalter table users add column nickname text;",)


def test_batches_in_a_do_loop_without_commit_are_one_transaction() -> None:
    findings = run(LOOP.format(commit=""), history=WITH_NICKNAME)
    assert where(findings, R) == [(1, 1)]
    f = findings[0]
    assert f.message.startswith(
        'This UPDATE changes every row of existing table "users" batch by batch, but in a '
        "loop of a DO block that never commits, so all the batches run in one transaction:"
    )
    assert "end each pass of the loop with COMMIT" in f.help


def test_a_do_loop_that_commits_each_batch_is_quiet() -> None:
    # Outside a transaction block PostgreSQL 11+ commits each pass (checked on 18).
    assert run(LOOP.format(commit="\n    COMMIT;"), history=WITH_NICKNAME) == []


@pytest.mark.parametrize(
    "sql",
    [
        # One batch, no loop: a targeted fix.
        "DO $$ BEGIN UPDATE users SET full_name = '' WHERE id < 10; END $$;",
        # The loop ends before the UPDATE.
        "DO $$ BEGIN LOOP EXIT; END LOOP; UPDATE users SET full_name = '' WHERE id < 10; END $$;",
    ],
)
def test_do_block_without_a_loop_around_the_update_is_quiet(sql: str) -> None:
    assert run(sql) == []


def test_do_loop_after_the_schema_change_in_one_transaction_names_the_held_lock() -> None:
    sql = (
        "BEGIN;\nALTER TABLE users ADD COLUMN nickname text;\n"
        + LOOP.format(commit="")
        + "\nCOMMIT;"
    )
    findings = lint_sql(sql, history=[USERS], rules=[R, "hold-exclusive-lock"])
    assert [(f.rule, f.line) for f in findings] == [(R, 3)]
    assert 'ACCESS EXCLUSIVE lock on "users" is held for the whole backfill' in findings[0].message


def test_where_is_null_on_a_column_added_by_an_unknown_tables_migration() -> None:
    # The history never showed "accounts": the ADD COLUMN right above tells the column.
    sql = "ALTER TABLE accounts ADD COLUMN tier text;\nUPDATE accounts SET tier = 'free' WHERE tier IS NULL;"
    assert where(run(sql, history=()), R) == [(2, 1)]
    quoted = sql.replace("WHERE tier IS NULL", 'WHERE "accounts"."tier" IS NULL')
    assert where(run(quoted, history=()), R) == [(2, 1)]
    # Near misses: a default fills it; an older column may hold values; a generated one.
    assert run(sql.replace("tier text;", "tier text DEFAULT 'free';"), history=()) == []
    assert run("UPDATE users SET full_name = 'x' WHERE full_name IS NULL;") == []
    assert run("UPDATE accounts SET tier = 'free' WHERE tier IS NULL;", history=()) == []


def test_a_batch_after_the_loop_is_not_the_loops() -> None:
    sql = LOOP.format(commit="") + "\nUPDATE users SET nickname = full_name WHERE id < 1000;"
    assert where(run(sql, history=WITH_NICKNAME), R) == [(1, 1)]


def test_filling_a_table_this_deploy_creates_is_not_a_backfill() -> None:
    sql = (
        "create table orders_copy (id bigint, total_cents bigint);\n"
        "insert into orders_copy select id, total_cents from orders;"
    )
    assert run(sql) == []
    # Near miss: the same copy into a table the app already uses.
    existing = "insert into orders_archive select id, total_cents from orders;"
    assert where(run(existing), R) == [(1, 1)]


def test_lock_table_is_not_named_as_a_schema_change() -> None:
    # LOCK TABLE's hold is lock-table's finding; the backfill names no schema change.
    sql = "begin;\nlock table users in exclusive mode;\nupdate users set full_name = '';\ncommit;"
    (f,) = run(sql)
    assert "schema change" not in f.message


@pytest.mark.parametrize(
    ("before", "mode", "line"),
    [
        # The strongest lock on the table is named, with the line that took it.
        (
            "create index users_name_idx on users (full_name);\n"
            "alter table users add column nickname text;",
            "ACCESS EXCLUSIVE",
            3,
        ),
        (
            "create index users_name_idx on users (full_name);\n"
            "lock table users in exclusive mode;",
            "EXCLUSIVE",
            3,
        ),
        (
            "create index orders_total_idx on orders (total_cents);\n"
            "alter table orders add constraint orders_id_fk foreign key (id) "
            "references users (id) not valid;",
            "SHARE ROW EXCLUSIVE",
            3,
        ),
        ("create index users_name_idx on users (full_name);", "SHARE", 2),
    ],
)
def test_the_strongest_ddl_lock_is_named(before: str, mode: str, line: int) -> None:
    table = "orders" if "orders" in before else "users"
    column = "total_cents = 0" if table == "orders" else "full_name = ''"
    sql = f"begin;\n{before}\nupdate {table} set {column};\ncommit;"
    (f,) = run(sql)
    assert f"schema change at line {line}, so that statement's {mode} lock on " in f.message


def test_where_is_null_backfill_message_and_help_name_the_column() -> None:
    sql = (
        "alter table users add column nickname text;\n"
        "update users set nickname = full_name where nickname is null;"
    )
    (f,) = run(sql)
    assert "(its WHERE nickname IS NULL matches every row: this deploy adds the column" in (
        f.message
    )
    assert f.help.endswith(
        "    UPDATE users SET nickname = full_name\n"
        "    WHERE id IN (SELECT id FROM users WHERE nickname IS NULL LIMIT 5000);\n"
        "    -- repeated until it updates no row"
    )


def test_insert_select_help_copies_by_key_ranges() -> None:
    (f,) = run("insert into orders_archive select id, total_cents from orders;")
    assert f.help.endswith(
        "    INSERT INTO orders_archive SELECT … FROM orders WHERE <key> > <last key copied> "
        "ORDER BY <key> LIMIT 5000;\n    -- repeated until it inserts no row"
    )


def test_only_locks_on_the_backfilled_table_are_named() -> None:
    sql = (
        "begin;\nalter table orders add column note text;\n"
        "create index users_name_idx on users (full_name);\n"
        "update users set full_name = '';\ncommit;"
    )
    (f,) = run(sql)
    assert 'schema change at line 3, so that statement\'s SHARE lock on "users"' in f.message


def test_insert_select_names_the_lock_on_the_table_it_fills() -> None:
    sql = (
        "begin;\nalter table orders_archive add column note text;\n"
        "insert into orders_archive select id, total_cents from orders;\ncommit;"
    )
    (f,) = run(sql)
    assert 'ACCESS EXCLUSIVE lock on "orders_archive" is held for the whole backfill' in (f.message)
    # hold-exclusive-lock asks this rule what the copy does, for another table's lock.
    other = sql.replace("alter table orders_archive", "alter table users")
    hold = lint_sql(other, history=[USERS], rules=["hold-exclusive-lock"])
    assert 'line 3 copies every row of "orders" into "orders_archive"' in hold[0].message


def test_prisma_backfill_help_finds_the_quoted_new_column() -> None:
    history = ('CREATE TABLE "User" ("id" TEXT NOT NULL, "name" TEXT);',)
    sql = (
        '-- AlterTable\nALTER TABLE "User" ADD COLUMN "nickName" TEXT;\n\n'
        '-- Backfill\nUPDATE "User" SET "nickName" = "name";\n'
    )
    (f,) = run(sql, history=history, tool="prisma")
    assert '(SELECT id FROM "User" WHERE "nickName" IS NULL LIMIT 5000);' in f.help


def test_where_is_null_on_a_column_another_table_gained_is_a_batch() -> None:
    sql = (
        "ALTER TABLE plans ADD COLUMN tier text;\n"
        "UPDATE accounts SET tier = 'free' WHERE tier IS NULL;"
    )
    assert run(sql, history=()) == []


def test_the_same_batch_written_after_its_loop_is_one_batch() -> None:
    loop = "DO $$ BEGIN LOOP UPDATE users SET full_name = '' WHERE id < 10; EXIT; END LOOP; END $$;"
    sql = loop + "\nUPDATE users SET full_name = '' WHERE id < 10;"
    assert where(run(sql), R) == [(1, 1)]


def test_message_without_a_schema_change_ends_plainly() -> None:
    (f,) = run("update users set full_name = '';")
    assert f.message.endswith("(bloat, WAL volume, replica lag).")


def test_a_stronger_lock_on_another_table_is_not_named() -> None:
    sql = (
        "begin;\ncreate index users_name_idx on users (full_name);\n"
        "alter table orders add column note text;\n"
        "update users set full_name = '';\ncommit;"
    )
    (f,) = run(sql)
    assert 'schema change at line 2, so that statement\'s SHARE lock on "users"' in f.message


def test_alembic_revision_gets_a_batched_op_execute(tmp_path: Path) -> None:
    findings = lint_alembic(
        tmp_path,
        'op.create_table("accounts", sa.Column("id", sa.Integer(), primary_key=True))',
        'op.add_column("accounts", sa.Column("plan", sa.Text()))\n'
        "op.execute(\"UPDATE accounts SET plan = 'free'\")",
        rules=["unbatched-backfill"],
    )
    (f,) = findings
    code = assert_python(f.help)
    assert (
        "op.execute(\"UPDATE accounts SET plan = 'free' WHERE id IN (SELECT id FROM accounts "
        'WHERE plan IS NULL LIMIT 5000)")\n    # repeated until it updates no row' in code
    )
    assert "separate script" in f.help and "autocommit_block" in f.help


def test_alembic_insert_select_gets_op_execute(tmp_path: Path) -> None:
    findings = lint_alembic(
        tmp_path,
        'op.create_table("accounts", sa.Column("id", sa.Integer(), primary_key=True))\n'
        'op.create_table("archive", sa.Column("id", sa.Integer(), primary_key=True))',
        'op.execute("INSERT INTO archive SELECT * FROM accounts")',
        rules=["unbatched-backfill"],
    )
    (f,) = findings
    code = assert_python(f.help)
    assert 'op.execute("INSERT INTO archive SELECT … FROM accounts WHERE <key>' in code
