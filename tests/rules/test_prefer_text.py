"""prefer-text: new varchar(n) columns."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where
from migcheck.engine import default_rule_ids

R = "prefer-text"
USERS = "create table users (id bigserial primary key, email text not null);"


def run(sql: str, history: tuple[str, ...] = (USERS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_opt_in() -> None:
    assert R not in default_rule_ids()


def test_prisma_varchar() -> None:
    sql = (
        "-- CreateTable\n"
        'CREATE TABLE "Product" (\n'
        '    "id" TEXT NOT NULL,\n'
        '    "sku" VARCHAR(32) NOT NULL,\n'
        '    CONSTRAINT "Product_pkey" PRIMARY KEY ("id")\n'
        ");\n"
    )
    findings = run(sql, tool="prisma")
    assert where(findings, R) == [(4, 5)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "style"
    assert f.message.startswith('Column "Product"."sku" is VARCHAR(32): the length limit')
    assert "ACCESS EXCLUSIVE" in f.message and "rewrites the table" in f.message
    assert '    "sku" TEXT CHECK (char_length("sku") <= 32)' in f.help
    assert "@db.VarChar(32)" in f.help


def test_add_column_to_existing_table_advises_not_valid_check() -> None:
    findings = run("alter table users add column nickname character varying(40);")
    assert where(findings, R) == [(1, 19)]
    help = findings[0].help
    assert '    ALTER TABLE "users" ADD COLUMN "nickname" text;' in help
    assert (
        '    ALTER TABLE "users" ADD CONSTRAINT "users_nickname_length" '
        'CHECK (char_length("nickname") <= 40) NOT VALID;'
    ) in help
    assert '    ALTER TABLE "users" VALIDATE CONSTRAINT "users_nickname_length";' in help


def test_add_column_to_table_new_in_this_deploy_keeps_inline_check() -> None:
    sql = "create table tags (id bigint);\nalter table tags add column label varchar(20);\n"
    findings = run(sql)
    assert where(findings, R) == [(2, 18)]
    assert '    "label" text CHECK (char_length("label") <= 20)' in findings[0].help


def test_multi_action_and_arrays() -> None:
    sql = "ALTER TABLE users\n  ADD COLUMN a text,\n  ADD COLUMN b varchar(10)[];\n"
    assert where(run(sql), R) == [(3, 3)]


@pytest.mark.parametrize(
    "column",
    ["t text", "v varchar", "v character varying", "c char(3)", "j jsonb"],
)
def test_silent(column: str) -> None:
    assert run(f"create table t ({column});") == []


def test_existing_column_type_change_is_not_judged() -> None:
    assert run("alter table users alter column email type varchar(200);") == []


def test_help_speaks_only_the_users_tool() -> None:
    # A Flyway or plain-SQL user gets SQL only: no SQLAlchemy, no Prisma advice.
    from helpers import lint_sql

    [sql] = lint_sql("create table t (id int, name varchar(40));", rules=["prefer-text"])
    assert "SQLAlchemy" not in sql.help and "Prisma" not in sql.help
    [prisma] = lint_sql(
        "create table t (id int, name varchar(40));", rules=["prefer-text"], tool="prisma"
    )
    assert "With Prisma, drop `@db.VarChar(40)`" in prisma.help and "SQLAlchemy" not in prisma.help


def test_the_check_on_a_schema_qualified_table_is_named_after_the_table() -> None:
    history = ("create schema app;\ncreate table app.users (id bigserial primary key);",)
    findings = run("alter table app.users add column nickname varchar(40);", history=history)
    assert where(findings, R) == [(1, 23)]
    assert (
        '    ALTER TABLE "app"."users" ADD CONSTRAINT "users_nickname_length" '
        'CHECK (char_length("nickname") <= 40) NOT VALID;\n'
    ) in findings[0].help


def test_a_column_named_like_a_type_is_found_at_its_own_definition() -> None:
    # "text" appears first as the type of "title": only "text varchar(200)" is the column.
    findings = run("create table notes (\n  title text not null,\n  text varchar(200)\n);")
    assert where(findings, R) == [(3, 3)]
    assert findings[0].message.startswith('Column "notes"."text" is varchar(200): the length')


def test_upper_case_sql_and_a_comment_inside_the_type_keep_the_position() -> None:
    sql = (
        "CREATE TABLE COUNTRIES (\n"
        "    ID BIGINT PRIMARY KEY,\n"
        "    CODE CHARACTER /* ISO 3166 */ VARYING(3)\n"
        ");"
    )
    findings = run(sql)
    assert where(findings, R) == [(3, 5)]
    assert '"countries"."code"' in findings[0].message
