"""enum-value-in-transaction: ALTER TYPE ... ADD VALUE inside a transaction (refused before
PostgreSQL 12; from 12 the new value cannot be used before COMMIT)."""

from __future__ import annotations

from helpers import lint_sql, where

R = "enum-value-in-transaction"
ROLE = (
    "CREATE TYPE \"Role\" AS ENUM ('OWNER', 'ADMIN', 'MEMBER');\n"
    'CREATE TABLE "Membership" ("id" TEXT NOT NULL, "role" "Role" NOT NULL DEFAULT \'MEMBER\');'
)
ADD = "-- AlterEnum\nALTER TYPE \"Role\" ADD VALUE 'AUDITOR';\n"
USE = 'ALTER TABLE "Membership" ALTER COLUMN "role" SET DEFAULT \'AUDITOR\';\n'


def run(sql: str, history: tuple[str, ...] = (ROLE,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_pg11_refuses_add_value_in_a_transaction() -> None:
    findings = run(ADD + USE, pg=11, tool="prisma", implicit_transaction=True)
    assert where(findings, R) == [(2, 1)]
    f = findings[0]
    assert f.severity == "error" and f.category == "locking"
    assert "cannot run inside a transaction block on PostgreSQL 11" in f.message
    assert "ALTER TYPE ... ADD cannot run inside a transaction block" in f.message
    assert "Prisma" in f.message


def test_pg11_single_statement_file_is_fine() -> None:
    assert run(ADD, pg=11, tool="prisma", implicit_transaction=True) == []


def test_pg11_enum_created_in_the_same_transaction_is_fine() -> None:
    sql = "begin;\ncreate type mood as enum ('sad');\nalter type mood add value 'happy';\ncommit;"
    assert run(sql, pg=11) == []


def test_pg12_add_value_alone_is_fine() -> None:
    assert (
        run(
            ADD + 'ALTER TABLE "Membership" ADD COLUMN "note" TEXT;\n',
            pg=12,
            tool="prisma",
            implicit_transaction=True,
        )
        == []
    )


def test_pg12_using_the_new_value_in_the_same_transaction_fails() -> None:
    findings = run(ADD + USE, pg=12, tool="prisma", implicit_transaction=True)
    assert where(findings, R) == [(3, 1)]
    f = findings[0]
    assert "uses the enum value 'AUDITOR'" in f.message
    assert "added at line 2" in f.message
    assert 'unsafe use of new value "AUDITOR"' in f.message
    assert "next migration" in f.help


def test_pg12_use_in_dml_on_a_table_with_the_enum_column() -> None:
    sql = ADD + "update \"Membership\" set role = 'AUDITOR' where id = '1';\n"
    assert where(run(sql, pg=16, runner_transaction=True, tool="flyway"), R) == [(3, 1)]


def test_pg12_same_literal_on_an_unrelated_column_is_quiet() -> None:
    history = (ROLE, "create table audit_log (id int, action text);")
    sql = ADD + "insert into audit_log (id, action) values (1, 'AUDITOR');\n"
    assert run(sql, history=history, pg=16, runner_transaction=True) == []


def test_pg12_enum_created_in_the_same_transaction_is_usable() -> None:
    sql = (
        "begin;\n"
        "create type mood as enum ('sad');\n"
        "alter type mood add value 'happy';\n"
        "create table feelings (m mood default 'happy');\n"
        "commit;\n"
    )
    assert run(sql, pg=12) == []


def test_next_migration_is_another_transaction() -> None:
    assert run(USE, history=(ROLE, ADD), pg=12, runner_transaction=True) == []


def test_no_transaction_no_finding() -> None:
    assert run(ADD + USE, pg=11) == []


def test_do_block_cannot_use_the_value_it_adds() -> None:
    # Verified in tests/live/test_live_transaction_facts.py: a DO block is one
    # transaction, so its body cannot use an enum value it added.
    from helpers import lint_sql, where

    enum = "CREATE TYPE mood AS ENUM ('ok');"
    sql = (
        "DO $$\nBEGIN\n  ALTER TYPE mood ADD VALUE 'sad';\n"
        "  UPDATE people SET feeling = 'sad'::mood WHERE feeling IS NULL;\nEND $$;\n"
    )
    people = "CREATE TABLE people (id int, feeling mood);"
    findings = lint_sql(sql, history=[enum, people], rules=["enum-value-in-transaction"])
    assert where(findings, "enum-value-in-transaction") == [(1, 1)]
    assert "a DO block runs as one transaction" in findings[0].message
    # Adding the value alone in a DO outside a transaction block is fine.
    alone = "DO $$ BEGIN ALTER TYPE mood ADD VALUE 'sad'; END $$;\n"
    assert lint_sql(alone, history=[enum], rules=["enum-value-in-transaction"]) == []


def test_pg12_a_cast_to_the_type_uses_the_new_value() -> None:
    # The statement names only the type, no table with a column of it.
    findings = run(ADD + "SELECT 'AUDITOR'::\"Role\";\n", pg=16, runner_transaction=True)
    assert where(findings, R) == [(3, 1)]


def test_pg12_a_column_of_the_type_is_found_without_the_type_name() -> None:
    history = (
        "create type mood as enum ('sad', 'ok');\ncreate table people (id int, feeling mood);",
    )
    sql = "alter type mood add value 'happy';\nupdate people set feeling = 'happy' where id = 1;\n"
    findings = run(sql, history=history, pg=16, runner_transaction=True)
    assert where(findings, R) == [(2, 1)]
    assert "uses the enum value 'happy'" in findings[0].message
    other = (*history, "create table notes (id int, body text);")
    quiet = "alter type mood add value 'happy';\nupdate notes set body = 'happy' where id = 1;\n"
    assert run(quiet, history=other, pg=16, runner_transaction=True) == []


def test_pg12_another_add_value_placed_after_the_new_one_is_fine() -> None:
    sql = ADD + "ALTER TYPE \"Role\" ADD VALUE 'VIEWER' AFTER 'AUDITOR';\n"
    assert run(sql, pg=16, runner_transaction=True) == []


def test_pg11_message_names_the_value_added() -> None:
    [f] = run(ADD + USE, pg=11, tool="prisma", implicit_transaction=True)
    assert "ALTER TYPE \"Role\" ADD VALUE 'AUDITOR' cannot run" in f.message
