"""change-column-type: ALTER COLUMN ... TYPE that is not a safe widening."""

from __future__ import annotations

from pathlib import Path

import pytest

from alembic_help import upgrade_code
from helpers import lint_alembic, lint_sql, where

R = "change-column-type"
USERS_APP = (
    'op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True), '
    'sa.Column("email", sa.String(100), nullable=False), sa.Column("bio", sa.Text()), '
    'schema="app")'
)
ORDER = 'CREATE TABLE "Order" ("id" TEXT NOT NULL, "total" INTEGER NOT NULL);'
ORGS = (
    "create table organizations (id bigint, name varchar(50), code varchar(20), "
    "amount numeric(10, 2), n integer, s smallint, seen timestamp(3), tags varchar(50)[], "
    "note text, payload json, flag char(5), ratio real);"
)


def run(sql: str, history: tuple[str, ...] = (ORGS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_prisma_int_to_decimal_warns_what_the_old_client_reads() -> None:
    sql = (
        "/*\n  Warnings:\n\n  - You are about to alter the column `total` on the `Order` table.\n"
        "*/\n-- AlterTable\n"
        'ALTER TABLE "Order" ALTER COLUMN "total" SET DATA TYPE DECIMAL(65,30);\n'
    )
    findings = run(sql, history=(ORDER,), tool="prisma")
    assert where(findings, R) == [(7, 21)]
    f = findings[0]
    assert f.severity == "warning"
    assert f.message == (
        'Changing "Order"."total" from integer to numeric(65,30): numeric(65,30) holds every '
        "integer value, but the app version still running reads it back differently: "
        "Prisma's client for the old schema still maps the field to Int and reads a value "
        "with a fraction written by the new code as a whole number (1.5 reads as 1)."
    )
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
        ("alter column n type smallint", "integer", "smallint"),
        ("alter column n type text", "integer", "text"),
        ("alter column payload type jsonb using payload::jsonb", "json", "jsonb"),
        ("alter column n type real", "integer", "real"),
        ("alter column id type double precision", "bigint", "double precision"),
        ("alter column n type numeric(9, 0)", "integer", "numeric(9,0)"),
        ("alter column seen type timestamptz(0)", "timestamp(3)", "timestamptz(0)"),
        ("alter column code type varchar(3)", "varchar(20)", "varchar(3)"),
        ("alter column n type numeric using n / 100.0", "integer", "numeric"),
    ],
)
def test_conversions_that_can_change_or_reject_values_are_errors(
    action: str, old: str, new: str
) -> None:
    findings = run(f"alter table organizations {action};")
    assert where(findings, R) == [(1, 27)]
    f = findings[0]
    assert f.severity == "error"
    assert f.message.startswith(
        f'Changing "organizations"."{action.split()[2]}" from {old} to {new}:'
    )
    assert f"and {new} may reject or convert the values it writes." in f.message
    # How long the lock is held is type-change-rewrite's to say.
    assert "Postgres" not in f.help and "ACCESS EXCLUSIVE" not in f.message


# Conversions whose new type holds every old value: verified on PostgreSQL 18.4 (the ALTER
# succeeded on the old type's extreme values; tests/live/test_type_readback.py) with what
# psycopg returns before and after.
@pytest.mark.parametrize(
    ("action", "old", "new", "effect"),
    [
        (
            "alter column n type numeric",
            "integer",
            "numeric",
            "psycopg returns Decimal instead of int (Decimal does not mix with float in "
            "arithmetic, and json.dumps rejects it)",
        ),
        (
            "alter column id type numeric(19, 0)",
            "bigint",
            "numeric(19,0)",
            "psycopg returns Decimal instead of int",
        ),
        (
            "alter column s type numeric(7, 2)",
            "smallint",
            "numeric(7,2)",
            "psycopg returns Decimal instead of int",
        ),
        (
            "alter column n type double precision",
            "integer",
            "double precision",
            "psycopg returns float instead of int (5.0, not 5)",
        ),
        ("alter column s type real", "smallint", "real", "psycopg returns float instead of int"),
        (
            "alter column seen type timestamptz(3)",
            "timestamp(3)",
            "timestamptz(3)",
            "Postgres reads each stored value as a local time in the TimeZone of the session "
            "running the ALTER, so every value shifts unless that is the zone the app wrote "
            "them in; psycopg returns aware datetimes where the old code gets naive ones, and "
            "Python refuses to compare the two (TypeError)",
        ),
        ("alter column seen type timestamptz", "timestamp(3)", "timestamptz", "aware datetimes"),
        (
            "alter column amount type numeric(14, 4)",
            "numeric(10,2)",
            "numeric(14,4)",
            "psycopg returns Decimal('1.5000') where it returned Decimal('1.50')",
        ),
        (
            "alter column flag type text",
            "char(5)",
            "text",
            "Postgres strips the trailing spaces char(n) pads values with",
        ),
        ("alter column flag type varchar(5)", "char(5)", "varchar(5)", "trailing spaces"),
        ("alter column ratio type double precision", "real", "double precision", "gets double"),
    ],
)
def test_conversions_that_cannot_fail_warn_what_the_running_app_reads(
    action: str, old: str, new: str, effect: str
) -> None:
    findings = run(f"alter table organizations {action};")
    assert where(findings, R) == [(1, 27)]
    f = findings[0]
    assert f.severity == "warning"
    col = action.split()[2]
    assert f.message.startswith(
        f'Changing "organizations"."{col}" from {old} to {new}: {new} holds every {old} '
        "value, but the app version still running reads it back differently: "
    )
    assert effect in f.message
    assert "may reject" not in f.message and "fails" not in f.message
    assert "Check that the code still running copes with that before this deploy" in f.help


@pytest.mark.parametrize(
    "action",
    [
        # The same family, or a raised limit: every client reads the same values.
        "alter column s type bigint",
        "alter column n type bigint",
        "alter column s type integer",
        "alter column code type varchar(200)",
        "alter column code type text",
        "alter column amount type numeric(20, 2)",
    ],
)
def test_pure_widenings_are_quiet(action: str) -> None:
    assert run(f"alter table organizations {action};") == []


def test_timestamptz_is_the_same_instant_for_prisma_but_values_still_shift() -> None:
    # Prisma 7.10 reads the same Date from timestamp(3) and timestamptz(3) when the
    # session's TimeZone is UTC; what psycopg does is no concern of a Prisma app.
    history = ('CREATE TABLE "Event" ("id" TEXT NOT NULL, "at" TIMESTAMP(3) NOT NULL);',)
    sql = 'ALTER TABLE "Event" ALTER COLUMN "at" SET DATA TYPE TIMESTAMPTZ(3);'
    findings = run(sql, history=history, tool="prisma")
    assert where(findings, R) == [(1, 21)]
    assert findings[0].severity == "warning"
    assert "every value shifts unless" in findings[0].message
    assert "psycopg" not in findings[0].message


def test_prisma_reads_an_int_widened_to_bigint_unchanged() -> None:
    history = ('CREATE TABLE "Order" ("id" TEXT NOT NULL, "total" INTEGER NOT NULL);',)
    sql = 'ALTER TABLE "Order" ALTER COLUMN "total" SET DATA TYPE BIGINT;'
    assert run(sql, history=history, tool="prisma") == []
    # Near miss: a numeric column reads fractions the old Int client truncates.
    sql = 'ALTER TABLE "Order" ALTER COLUMN "total" SET DATA TYPE DOUBLE PRECISION;'
    findings = run(sql, history=history, tool="prisma")
    assert [f.severity for f in findings] == ["warning"]
    assert "(1.5 reads as 1)" in findings[0].message


def test_citext_says_how_comparisons_change() -> None:
    sql = "alter table organizations alter column note type citext;"
    findings = run(sql, history=(ORGS, "create extension citext;"))
    assert where(findings, R) == [(1, 27)]
    assert findings[0].message.endswith("and citext compares case-insensitively.")


def test_timestamptz_change_flagged_before_and_after_pg12() -> None:
    sql = "alter table organizations alter column seen type timestamptz;"
    assert where(run(sql, pg=11), R) == [(1, 27)]
    assert where(run(sql, pg=16), R) == [(1, 27)]


def test_unknown_old_type_is_one_warning_saying_what_to_check() -> None:
    sql = "ALTER TABLE events ALTER COLUMN id TYPE bigint;"
    findings = lint_sql(sql, rules=[R, "type-change-rewrite"])
    assert [(f.rule, f.severity, f.line, f.column) for f in findings] == [(R, "warning", 1, 20)]
    assert findings[0].message == (
        'Changing "events"."id" to bigint: migcheck cannot tell the column\'s old type, '
        "because the migration history never creates it, so it cannot say whether the app "
        "version still running can read and write bigint values or whether Postgres rewrites "
        '"events".'
    )
    assert findings[0].help.startswith(
        "Look up the old type on the production database:\n"
        "    SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
        "'\"events\"'::regclass AND attname = 'id';\n"
    )


def test_unknown_old_type_quotes_names_in_the_lookup() -> None:
    findings = run('ALTER TABLE "it\'s" ALTER COLUMN "o\'k" TYPE bigint;', history=())
    assert "'\"it''s\"'::regclass AND attname = 'o''k';" in findings[0].help


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


def test_timestamptz_help_says_to_set_the_zone_and_a_set_zone_is_trusted() -> None:
    sql = "alter table organizations alter column seen type timestamptz;"
    [f] = run(sql)
    assert f.help.startswith(
        "If the app wrote its times in UTC, set that zone first so they keep their meaning "
        "(and, without a precision below 6, PostgreSQL 12+ skips the rewrite):\n"
        "    SET TimeZone = 'UTC';\nCheck that the code still running copes"
    )
    for zone in ("SET TimeZone = 'UTC';", "SET TIME ZONE 'Europe/Paris';"):
        [f] = run(f"{zone}\n{sql}")
        assert (f.line, f.severity) == (2, "warning")
        assert "every value shifts" not in f.message and "SET TimeZone" not in f.help
        assert "psycopg returns aware datetimes" in f.message
    # SET TIME ZONE LOCAL defers to the server's zone: still unknown.
    [f] = run(f"SET TIME ZONE LOCAL;\n{sql}")
    assert "every value shifts" in f.message


def test_alembic_help_is_op_calls_on_the_users_column(tmp_path: Path) -> None:
    body = 'op.alter_column("users", "email", type_=sa.Integer(), schema="app")'
    (f,) = [f for f in lint_alembic(tmp_path, USERS_APP, body) if f.rule == R]
    assert (f.line, f.column) == (9, 5)
    code = upgrade_code(f.help)
    assert 'op.add_column("users", sa.Column("email_new", sa.Integer()), schema="app")' in code
    assert """op.execute('UPDATE "app"."users" SET "email_new" = "email"::integer WHERE""" in code
    assert 'op.drop_column("users", "email", schema="app")' in code
    # The same change in plain SQL keeps its SQL help.
    (sql,) = run("ALTER TABLE orgs ALTER COLUMN name TYPE integer USING name::integer;")
    assert "op." not in sql.help and "ALTER TABLE" in sql.help
