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
    assert f.message.count("ACCESS EXCLUSIVE") == 1
    # Its own steps, in full: the text report gives change-column-type's once instead, as
    # that rule declares they answer this one too (report/combine).
    assert f.help.startswith("Change the type without rewriting the live table")


def test_app_safe_rewrite_gives_the_steps_itself() -> None:
    # integer → bigint keeps the running app working: change-column-type is quiet, so
    # this finding carries the way around the rewrite.
    sql = 'ALTER TABLE "Order" ALTER COLUMN "total" SET DATA TYPE BIGINT;'
    findings = lint_sql(sql, history=[PRISMA], rules=[R, "change-column-type"], tool="prisma")
    assert [(f.rule, f.line, f.column) for f in findings] == [(R, 1, 21)]
    assert findings[0].message == (
        'Changing "Order"."total" from integer to bigint rewrites "Order" and all its indexes '
        'while holding an ACCESS EXCLUSIVE lock on "Order", which blocks every read and write '
        "on the table until it finishes: integer → bigint widens the column but changes its "
        "storage size: Postgres rewrites every row and rebuilds the table's indexes."
    )
    # The same expand/contract steps as change-column-type and rename-column give.
    assert '    ALTER TABLE "Order" ADD COLUMN "total_new" bigint;' in findings[0].help
    assert (
        '    UPDATE "Order" SET "total_new" = "total"::bigint WHERE "total_new" IS NULL AND '
        "<batch range>;" in findings[0].help
    )
    assert '    ALTER TABLE "Order" DROP COLUMN "total";' in findings[0].help


def test_the_two_findings_of_one_type_change_share_no_sentence() -> None:
    sql = "alter table orders alter column status type varchar(10);"
    findings = lint_sql(sql, history=[SQL], rules=[R, "change-column-type"])
    assert sorted(f.rule for f in findings) == ["change-column-type", R]
    compat, rewrite = sorted(findings, key=lambda f: f.rule)
    assert "ACCESS EXCLUSIVE" not in compat.message + compat.help
    assert "rewrite" not in compat.message
    assert "the app version still running" not in rewrite.message
    sentences = {s.strip() for s in compat.message.split(".") if s.strip()}
    assert not any(s in rewrite.message for s in sentences if len(s) > 20)
    # Both helps give the new-column steps; the text report prints them once.
    from migcheck.model import Result
    from migcheck.report import render

    text = render(Result(findings=findings, files=1, statements=1), "text")
    assert text.count("Backfill it in batches") == 1
    assert "These steps also answer type-change-rewrite." in text


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


def test_unknown_old_type_is_left_to_change_column_type() -> None:
    # change-column-type's one warning says the old type, and so the rewrite, is unknown.
    assert run("alter table legacy alter column code type bigint;") == []
    # Near miss: the same change on a column the history created.
    assert where(run("alter table orders alter column n type bigint;"), R) == [(1, 20)]


def test_multi_action_points_at_the_rewriting_action() -> None:
    sql = "alter table orders alter column status type text,\n  alter column n type bigint;"
    assert where(run(sql), R) == [(2, 3)]


def test_new_table_is_quiet() -> None:
    sql = "create table t (a int);\nalter table t alter column a type bigint;"
    assert run(sql) == []


def test_a_utc_session_set_by_the_migration_skips_the_rewrite() -> None:
    # PostgreSQL 12+ relabels timestamp -> timestamptz when the TimeZone has offset 0
    # (tests/live/test_type_readback.py), but still rebuilds the column's indexes.
    for zone in ("SET TimeZone = 'UTC';", "SET TIME ZONE 'Etc/UTC';", "set timezone to gmt;"):
        findings = run(f"{zone}\nalter table orders alter column created_at type timestamptz;")
        assert where(findings, R) == [(2, 20)]
        assert "does not rewrite the table but rebuilds every index" in findings[0].message
        assert "in a session whose TimeZone is UTC" in findings[0].message
    # Near misses: another zone, an older server, a precision the conversion must apply.
    paris = "SET TimeZone = 'Europe/Paris';\nalter table orders alter column created_at type timestamptz;"
    assert 'rewrites "orders" and all its indexes' in run(paris)[0].message
    utc = "SET TimeZone = 'UTC';\nalter table orders alter column created_at type timestamptz;"
    assert "before PostgreSQL 12 always rewrites" in run(utc, pg=11)[0].message
    three = "SET TimeZone = 'UTC';\nalter table orders alter column created_at type timestamptz(3);"
    assert "whatever the time zone" in run(three)[0].message


def test_a_rewrite_is_slow_work_for_a_lock_held_before_it() -> None:
    history = [SQL, "create table other (id int);"]
    sql = (
        "BEGIN;\nalter table other add column x int;\n"
        "alter table orders alter column n type bigint;\nCOMMIT;"
    )
    [f] = lint_sql(sql, history=history, rules=["hold-exclusive-lock"])
    assert f.line == 2
    assert 'keeps it while line 3 rewrites "orders" to change the type of "n"' in f.message
    # Near miss: varchar → text only relabels, so nothing slow happens under the lock.
    quick = sql.replace("column n type bigint", "column status type text")
    assert lint_sql(quick, history=history, rules=["hold-exclusive-lock"]) == []


def test_one_alter_retyping_several_columns_is_one_rewrite() -> None:
    # LiteLLM 20250509141545: seven integer → bigint changes in one ALTER TABLE rewrite
    # the table once, so they are one finding naming the other columns.
    history = (
        'CREATE TABLE "LiteLLM_DailyTagSpend" ("id" TEXT NOT NULL, "tag" TEXT, '
        '"prompt_tokens" INTEGER NOT NULL, "completion_tokens" INTEGER NOT NULL, '
        '"api_requests" INTEGER NOT NULL, "note" VARCHAR(20));',
    )
    sql = (
        "-- AlterTable\n"
        'ALTER TABLE "LiteLLM_DailyTagSpend" ALTER COLUMN "prompt_tokens" SET DATA TYPE BIGINT,\n'
        'ALTER COLUMN "note" SET DATA TYPE VARCHAR(50),\n'
        'ALTER COLUMN "completion_tokens" SET DATA TYPE BIGINT,\n'
        'ALTER COLUMN "api_requests" SET DATA TYPE BIGINT;\n'
    )
    findings = run(sql, history=history, tool="prisma")
    assert where(findings, R) == [(2, 37)]
    assert findings[0].message.endswith(
        ' The same rewrite also changes "LiteLLM_DailyTagSpend"."completion_tokens", '
        '"LiteLLM_DailyTagSpend"."api_requests".'
    )
    # Near miss: the same changes in separate statements are separate rewrites.
    separate = sql.replace(",\nALTER COLUMN", ';\nALTER TABLE "LiteLLM_DailyTagSpend" ALTER COLUMN')
    assert where(run(separate, history=history, tool="prisma"), R) == [(2, 37), (4, 37), (5, 37)]
