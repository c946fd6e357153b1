"""type-change-rewrite: ALTER COLUMN TYPE that rewrites the table and its indexes."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where

R = "type-change-rewrite"
PRISMA = (
    'CREATE TABLE "Order" ("id" TEXT NOT NULL, "total" INTEGER NOT NULL);\n'
    'CREATE TABLE "organizations" ("id" TEXT NOT NULL, "name" VARCHAR(50) NOT NULL);'
)
SQL = (
    "create table orders (id bigint primary key, status varchar(20), amount numeric(10,2), "
    "n int, created_at timestamp, email text);"
)


def run(sql: str, history: tuple[str, ...] = (PRISMA, SQL), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_prisma_int_to_decimal() -> None:
    sql = '-- AlterTable\nALTER TABLE "Order" ALTER COLUMN "total" SET DATA TYPE DECIMAL(65,30);\n'
    findings = run(sql, tool="prisma")
    assert where(findings, R) == [(2, 21)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "locking"
    assert 'Changing "Order"."total" from integer to numeric(65,30) rewrites "Order"' in f.message
    assert "ACCESS EXCLUSIVE" in f.message
    assert '    ALTER TABLE "Order" ADD COLUMN total_new DECIMAL(65,30);' in f.help


@pytest.mark.parametrize(
    "change",
    [
        "alter column n type bigint",
        "alter column status type varchar(10)",
        "alter column email type varchar(20)",
        "alter column amount type numeric(10,4)",
        "alter column created_at type timestamptz",
        "alter column status type int using status::int",
    ],
)
def test_rewrites(change: str) -> None:
    assert where(run(f"alter table orders {change};"), R) == [(1, 20)]


@pytest.mark.parametrize(
    "change",
    [
        "alter column status type varchar(200)",
        "alter column status type text",
        "alter column status type varchar",
        "alter column amount type numeric(12,2)",
        "alter column email type varchar",
    ],
)
def test_binary_coercible_changes_are_quiet(change: str) -> None:
    assert run(f"alter table orders {change};") == []


def test_prisma_varchar_widening_is_quiet() -> None:
    sql = 'ALTER TABLE "organizations" ALTER COLUMN "name" SET DATA TYPE VARCHAR(200);'
    assert run(sql, tool="prisma") == []


def test_unknown_old_type_says_so() -> None:
    findings = run("alter table legacy alter column code type bigint;")
    assert where(findings, R) == [(1, 20)]
    assert "may rewrite" in findings[0].message
    assert "unknown" in findings[0].message


def test_multi_action_points_at_the_rewriting_action() -> None:
    sql = "alter table orders alter column status type text,\n  alter column n type bigint;"
    assert where(run(sql), R) == [(2, 3)]


def test_new_table_is_quiet() -> None:
    sql = "create table t (a int);\nalter table t alter column a type bigint;"
    assert run(sql) == []
