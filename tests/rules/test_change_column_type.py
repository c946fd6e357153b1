"""change-column-type: ALTER COLUMN ... TYPE that is not a safe widening."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where

R = "change-column-type"
ORDER = 'CREATE TABLE "Order" ("id" TEXT NOT NULL, "total" INTEGER NOT NULL);'
ORGS = (
    "create table organizations (id bigint, name varchar(50), code varchar(20), "
    "amount numeric(10, 2), n integer, s smallint, seen timestamp(3), tags varchar(50)[], "
    "note text, payload json);"
)


def run(sql: str, history: tuple[str, ...] = (ORGS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_prisma_int_to_decimal_is_flagged_with_both_types() -> None:
    sql = (
        "/*\n  Warnings:\n\n  - You are about to alter the column `total` on the `Order` table.\n"
        "*/\n-- AlterTable\n"
        'ALTER TABLE "Order" ALTER COLUMN "total" SET DATA TYPE DECIMAL(65,30);\n'
    )
    findings = run(sql, history=(ORDER,), tool="prisma")
    assert where(findings, R) == [(7, 21)]
    f = findings[0]
    assert f.severity == "error"
    assert 'Changing "Order"."total" from integer to numeric(65,30)' in f.message
    assert 'ALTER TABLE "Order" ADD COLUMN "total_new" numeric(65,30);' in f.help
    assert '@map("total_new")' in f.help


@pytest.mark.parametrize(
    "action",
    [
        "alter column name set data type varchar(200)",
        "alter column name type varchar",
        "alter column code type text",
        "alter column note type varchar",
        "alter column amount type numeric(14, 2)",
        "alter column n type bigint",
        "alter column s type integer",
        "alter column n type bigint using n::bigint",
        "alter column seen type timestamp(6)",
        "alter column tags type varchar(100)[]",
    ],
)
def test_safe_widenings_are_silent(action: str) -> None:
    assert run(f"alter table organizations {action};") == []


@pytest.mark.parametrize(
    ("action", "old", "new"),
    [
        ("alter column name type varchar(20)", "varchar(50)", "varchar(20)"),
        ("alter column note type varchar(255)", "text", "varchar(255)"),
        ("alter column amount type numeric(8, 2)", "numeric(10,2)", "numeric(8,2)"),
        ("alter column amount type numeric(14, 4)", "numeric(10,2)", "numeric(14,4)"),
        ("alter column n type smallint", "integer", "smallint"),
        ("alter column n type text", "integer", "text"),
        ("alter column n type numeric", "integer", "numeric"),
        ("alter column seen type timestamptz", "timestamp(3)", "timestamptz"),
        ("alter column payload type jsonb using payload::jsonb", "json", "jsonb"),
    ],
)
def test_other_changes_are_flagged(action: str, old: str, new: str) -> None:
    findings = run(f"alter table organizations {action};")
    assert where(findings, R) == [(1, 27)]
    assert f"from {old} to {new}" in findings[0].message


def test_timestamptz_change_flagged_before_and_after_pg12() -> None:
    sql = "alter table organizations alter column seen type timestamptz;"
    assert where(run(sql, pg=11), R) == [(1, 27)]
    assert where(run(sql, pg=16), R) == [(1, 27)]


def test_unknown_old_type_is_flagged_with_could_not_check() -> None:
    findings = run("ALTER TABLE events ALTER COLUMN id TYPE bigint;", history=())
    assert where(findings, R) == [(1, 20)]
    assert "could not check" in findings[0].message
    assert findings[0].severity == "error"


def test_multi_action_points_at_the_unsafe_action() -> None:
    sql = (
        "alter table organizations\n"
        "    alter column n type bigint,\n"
        "    alter column name type varchar(10);"
    )
    assert where(run(sql), R) == [(3, 5)]


def test_silent_on_new_table_and_new_column() -> None:
    assert run("create table t (a int);\nalter table t alter column a type text;", history=()) == []
    sql = (
        "alter table organizations add column x int;\nalter table organizations alter x type text;"
    )
    assert run(sql) == []


def test_prisma_enum_swap_is_left_to_remove_enum_value() -> None:
    history = (
        "CREATE TYPE \"Plan\" AS ENUM ('FREE', 'PRO', 'ENTERPRISE');\n"
        'CREATE TABLE "Subscription" ("id" TEXT NOT NULL, "plan" "Plan" NOT NULL);',
    )
    sql = (
        "CREATE TYPE \"Plan_new\" AS ENUM ('FREE', 'PRO');\n"
        'ALTER TABLE "Subscription" ALTER COLUMN "plan" TYPE "Plan_new" '
        'USING ("plan"::text::"Plan_new");\n'
        'ALTER TYPE "Plan" RENAME TO "Plan_old";\n'
        'ALTER TYPE "Plan_new" RENAME TO "Plan";\n'
        'DROP TYPE "Plan_old";\n'
    )
    assert run(sql, history=history) == []
    # Moving the column to another enum for good (no rename back) is a type change.
    sql = (
        "CREATE TYPE \"Tier\" AS ENUM ('FREE', 'PRO');\n"
        'ALTER TABLE "Subscription" ALTER COLUMN "plan" TYPE "Tier" USING ("plan"::text::"Tier");\n'
    )
    findings = run(sql, history=history)
    assert where(findings, R) == [(2, 28)]
    assert 'from "Plan" to "Tier"' in findings[0].message
