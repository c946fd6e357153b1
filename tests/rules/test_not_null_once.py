"""One SET NOT NULL, one finding (issue 12, point 5): set-not-null and set-not-null-scan
are one problem when both apply, because the steps that make the column required
(backfill, CHECK … NOT VALID, VALIDATE, then SET NOT NULL) also remove the scan. The
scan is reported on its own only where set-not-null has nothing to say, or is not run."""

from __future__ import annotations

from pathlib import Path

from helpers import lint_alembic, lint_sql
from migcheck.rules import all_rules

USERS = "create table users (id bigint primary key, email text, name text);"
USER = 'CREATE TABLE "User" ("id" TEXT NOT NULL, "name" TEXT, "email" TEXT);'
SCAN = "It also scans all of"


def found(sql: str, **kw: object) -> list[tuple[str, int, int]]:
    return [(f.rule, f.line, f.column) for f in lint_sql(sql, history=[USERS, USER], **kw)]


def not_null_findings(sql: str, **kw: object) -> list:
    fs = lint_sql(sql, history=[USERS, USER], **kw)
    return [f for f in fs if f.rule in ("set-not-null", "set-not-null-scan")]


def test_plain_sql_gives_one_error_naming_the_scan() -> None:
    (f,) = not_null_findings("ALTER TABLE users ALTER COLUMN email SET NOT NULL;")
    assert (f.rule, f.line, f.column) == ("set-not-null", 1, 19)
    assert f.message == (
        'Setting "users"."email" NOT NULL: the app version still running may insert or update '
        'it with NULL and fails with null value in column "email" violates not-null '
        "constraint, and this ALTER fails if any existing row holds NULL. It also scans all "
        'of "users" for NULLs under an ACCESS EXCLUSIVE lock, which blocks every read and '
        "write on the table until the scan ends."
    )
    # The steps remove the scan too: VALIDATE first, then SET NOT NULL skips it.
    assert "VALIDATE CONSTRAINT" in f.help and "skips the scan" in f.help


def test_prisma_required_field_gives_one_error() -> None:
    sql = (
        "/*\n  Warnings:\n\n  - Made the column `name` on table `User` required, but there are "
        "existing NULL values.\n\n*/\n-- AlterTable\n"
        'ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;\n'
    )
    fs = not_null_findings(sql, tool="prisma")
    assert [(f.rule, f.line, f.column) for f in fs] == [("set-not-null", 8, 20)]
    assert SCAN + ' "User"' in fs[0].message


def test_two_columns_of_one_alter_name_their_single_scan_once() -> None:
    sql = 'ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL,\nALTER COLUMN "email" SET NOT NULL;'
    fs = not_null_findings(sql, tool="prisma")
    assert [(f.rule, f.line) for f in fs] == [("set-not-null", 1), ("set-not-null", 2)]
    assert SCAN in fs[0].message and SCAN not in fs[1].message


def test_scan_alone_when_the_old_app_fills_the_column() -> None:
    # A default declared with the column: the old app's INSERTs get it, so only the scan is
    # left, and set-not-null-scan says so.
    sql = (
        "ALTER TABLE users ADD COLUMN plan text DEFAULT 'free';\n"
        "ALTER TABLE users ALTER COLUMN plan SET NOT NULL;"
    )
    fs = not_null_findings(sql)
    assert [(f.rule, f.line, f.column) for f in fs] == [("set-not-null-scan", 2, 19)]
    assert "scans the whole table for NULLs" in fs[0].message
    # Near miss: without the default the old app breaks, and the one finding is the error.
    fs = not_null_findings(sql.replace(" DEFAULT 'free'", ""))
    assert [(f.rule, f.line) for f in fs] == [("set-not-null", 2)]
    assert SCAN in fs[0].message


def test_pg11_validated_check_leaves_only_the_scan() -> None:
    history = [
        USERS,
        "alter table users add constraint users_email_nn check (email is not null) not valid;",
        "alter table users validate constraint users_email_nn;",
    ]
    sql = "ALTER TABLE users ALTER COLUMN email SET NOT NULL;"
    fs = lint_sql(sql, history=history, pg=11)
    assert [(f.rule, f.line) for f in fs if "not-null" in f.rule] == [("set-not-null-scan", 1)]
    # On 12+ the same CHECK makes it a no-op scan-wise: nothing at all.
    assert [f.rule for f in lint_sql(sql, history=history, pg=12) if "not-null" in f.rule] == []


def test_scan_is_reported_when_set_not_null_is_not_run() -> None:
    rules = [r for r in all_rules() if r != "set-not-null"]
    fs = not_null_findings("ALTER TABLE users ALTER COLUMN email SET NOT NULL;", rules=rules)
    assert [(f.rule, f.line, f.column) for f in fs] == [("set-not-null-scan", 1, 19)]


def test_alembic_alter_column_nullable_false_gives_one_error(tmp_path: Path) -> None:
    users = (
        'op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True),'
        ' sa.Column("email", sa.Text(), nullable=True))'
    )
    fs = lint_alembic(tmp_path, users, 'op.alter_column("users", "email", nullable=False)')
    mine = [f for f in fs if f.rule in ("set-not-null", "set-not-null-scan")]
    assert [(f.rule, f.line) for f in mine] == [("set-not-null", 9)]
    assert SCAN + ' "users"' in mine[0].message
