"""set-not-null-scan: SET NOT NULL scans under ACCESS EXCLUSIVE unless a validated
CHECK (col IS NOT NULL) lets PostgreSQL 12+ skip the scan."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where

R = "set-not-null-scan"
USERS = "create table users (id bigserial primary key, name text, email text not null);"
USER = 'CREATE TABLE "User" ("id" TEXT NOT NULL, "name" TEXT);'
CHECK_NOT_VALID = (
    "alter table users add constraint users_name_not_null check (name is not null) not valid;"
)
VALIDATE = "alter table users validate constraint users_name_not_null;"
SET = "alter table users alter column name set not null;"


def run(sql: str, history: tuple[str, ...] = (USERS, USER), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_prisma_required_field() -> None:
    sql = (
        "/*\n  Warnings:\n\n  - Made the column `name` on table `User` required, but there are "
        "existing NULL values.\n\n*/\n"
        "-- AlterTable\n"
        'ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;\n'
    )
    findings = run(sql, tool="prisma")
    assert where(findings, R) == [(8, 20)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "locking"
    assert 'SET NOT NULL on "User"."name" scans the whole table' in f.message
    assert "ACCESS EXCLUSIVE" in f.message
    assert (
        '    ALTER TABLE "User" ADD CONSTRAINT "User_name_not_null" CHECK (name IS NOT NULL) '
        "NOT VALID;" in f.help
    )
    assert '    ALTER TABLE "User" VALIDATE CONSTRAINT "User_name_not_null";' in f.help
    assert '    ALTER TABLE "User" ALTER COLUMN name SET NOT NULL;' in f.help


def test_validated_check_in_an_earlier_migration_skips_the_scan_on_pg12() -> None:
    history = (USERS, CHECK_NOT_VALID, VALIDATE)
    assert run(SET, history=history, pg=12) == []
    assert run(SET, history=history, pg=16) == []


def test_pg11_always_scans() -> None:
    findings = run(SET, history=(USERS, CHECK_NOT_VALID, VALIDATE), pg=11)
    assert where(findings, R) == [(1, 19)]
    assert "PostgreSQL 11 always scans" in findings[0].message
    assert "PostgreSQL 11 cannot skip the scan" in findings[0].help


def test_unvalidated_check_does_not_help_and_help_validates_it() -> None:
    findings = run(SET, history=(USERS, CHECK_NOT_VALID), pg=14)
    assert where(findings, R) == [(1, 19)]
    h = findings[0].help
    assert 'Validate the pending CHECK "users_name_not_null"' in h
    assert "ALTER TABLE users VALIDATE CONSTRAINT users_name_not_null;" in h
    assert "ADD CONSTRAINT" not in h


def test_check_validated_earlier_in_the_same_migration() -> None:
    assert run(VALIDATE + "\n" + SET, history=(USERS, CHECK_NOT_VALID), pg=12) == []


def test_check_on_another_column_does_not_help() -> None:
    history = (
        USERS,
        "alter table users add constraint c check (email is not null);",
    )
    assert where(run(SET, history=history), R) == [(1, 19)]


def test_multi_action_alter() -> None:
    sql = (
        "alter table users\n  alter column email set not null,\n  alter column name set not null;\n"
    )
    # email is already NOT NULL: a no-op.
    assert where(run(sql), R) == [(3, 3)]


def test_column_added_by_this_deploy_to_an_existing_table_still_scans() -> None:
    sql = "alter table users add column nickname text;\nalter table users alter column nickname set not null;"
    assert where(run(sql), R) == [(2, 19)]


@pytest.mark.parametrize(
    "sql",
    [
        "alter table users alter column email set not null;",
        "alter table users alter column id set not null;",
        "create table t (a int);\nalter table t alter column a set not null;",
        "alter table users add column plan text not null default 'free';",
    ],
)
def test_quiet(sql: str) -> None:
    assert run(sql) == []


def test_several_columns_of_one_alter_are_one_scan_and_one_finding() -> None:
    findings = lint_sql(
        "alter table users alter column email set not null, alter column name set not null;",
        history=("create table users (id bigint, email text, name text);",),
        rules=["set-not-null-scan"],
    )
    assert where(findings, "set-not-null-scan") == [(1, 19)]
    assert '"users"."name"' in findings[0].message


def test_pg12_message_names_the_missing_check() -> None:
    (f,) = run(SET, pg=12)
    assert f.message.endswith(": no validated CHECK (name IS NOT NULL) proves it has no NULLs.")


def test_the_scan_is_slow_work_that_keeps_an_earlier_lock_held() -> None:
    # hold-exclusive-lock asks this rule whether SET NOT NULL is slow work.
    sql = (
        'begin;\nalter table "User" add column "nickname" text;\n'
        "alter table users alter column name set not null;\ncommit;"
    )
    hold = lint_sql(sql, history=[USERS, USER], rules=["hold-exclusive-lock"])
    assert where(hold, "hold-exclusive-lock") == [(2, 20)]
    assert 'line 3 scans "users" for NULLs in "name"' in hold[0].message
    # Near miss: with the validated CHECK the SET NOT NULL is quick, and nothing is held long.
    checked = lint_sql(
        sql, history=[USERS, USER, CHECK_NOT_VALID, VALIDATE], rules=["hold-exclusive-lock"]
    )
    assert checked == []


def test_pg12_help_in_full_for_a_schema_qualified_table() -> None:
    history = ("create table app.users (id bigint primary key, name text);",)
    (f,) = run("alter table app.users alter column name set not null;", history=history, pg=12)
    assert f.help == (
        "Prove there are no NULLs without blocking traffic, then SET NOT NULL skips its scan:\n"
        "    ALTER TABLE app.users ADD CONSTRAINT users_name_not_null CHECK (name IS NOT NULL) "
        "NOT VALID;\n"
        "    -- next migration (SHARE UPDATE EXCLUSIVE: reads and writes continue):\n"
        "    ALTER TABLE app.users VALIDATE CONSTRAINT users_name_not_null;\n"
        "    -- next migration (no scan: the validated CHECK proves it):\n"
        "    ALTER TABLE app.users ALTER COLUMN name SET NOT NULL;\n"
        "    ALTER TABLE app.users DROP CONSTRAINT users_name_not_null;"
    )


def test_the_first_pending_check_of_the_column_is_the_one_to_validate() -> None:
    history = (
        USERS,
        "alter table users add constraint users_email_len check (length(email) > 3) not valid;",
        "alter table users add constraint users_email_set check (email is not null);",
        "alter table users add constraint name_nn_a check (name is not null) not valid;",
        "alter table users add constraint name_nn_b check (name is not null) not valid;",
    )
    (f,) = run(SET, history=history, pg=14)
    assert f.help.startswith('Validate the pending CHECK "name_nn_a" first')
    assert "VALIDATE CONSTRAINT name_nn_a;" in f.help and "name_nn_b" not in f.help
