"""drop-column: DROP COLUMN of a column the running app still uses."""

from __future__ import annotations

from helpers import lint_sql, where

R = "drop-column"
USERS = 'CREATE TABLE "User" ("id" TEXT NOT NULL, "bio" TEXT, "timezone" TEXT);'


def run(sql: str, history: tuple[str, ...] = (USERS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_prisma_drop_column_points_at_the_action() -> None:
    sql = '-- AlterTable\nALTER TABLE "User" DROP COLUMN "bio";\n'
    findings = run(sql)
    assert where(findings, R) == [(2, 20)]
    f = findings[0]
    assert f.severity == "error" and f.category == "compatibility"
    assert '"User"."bio"' in f.message
    assert 'column "bio" does not exist' in f.message
    assert 'ALTER TABLE "User" DROP COLUMN "bio";' in f.help


def test_prisma_help_mentions_create_only() -> None:
    findings = run('ALTER TABLE "User" DROP COLUMN "bio";', tool="prisma")
    assert "--create-only" in findings[0].help
    plain = run('ALTER TABLE "User" DROP COLUMN "bio";')
    assert "--create-only" not in plain[0].help


def test_multi_action_alter_reports_each_drop_at_its_action() -> None:
    sql = (
        'ALTER TABLE "User" DROP COLUMN "bio",\n'
        'ADD COLUMN     "displayName" TEXT,\n'
        'DROP COLUMN "timezone";\n'
    )
    assert where(run(sql), R) == [(1, 20), (3, 1)]


def test_if_exists_and_lowercase_without_column_keyword() -> None:
    sql = "alter table users drop if exists fax cascade;"
    findings = run(sql, history=("create table users (id bigint, fax text);",))
    assert where(findings, R) == [(1, 19)]
    assert '"users"."fax"' in findings[0].message
    assert "CASCADE" in findings[0].message


def test_drop_column_if_exists() -> None:
    sql = "ALTER TABLE users DROP COLUMN IF EXISTS fax;"
    assert where(run(sql, history=("create table users (id bigint, fax text);",)), R) == [(1, 19)]


def test_unknown_table_counts_as_existing() -> None:
    assert where(run("ALTER TABLE legacy DROP COLUMN x;", history=()), R) == [(1, 20)]


def test_schema_qualified_table_is_quoted_per_part() -> None:
    findings = run("ALTER TABLE billing.invoice DROP COLUMN fax;", history=())
    assert '"billing"."invoice"."fax"' in findings[0].message


def test_silent_on_column_added_in_same_deploy() -> None:
    sql = (
        'ALTER TABLE "User" ADD COLUMN "nickname" TEXT;\nALTER TABLE "User" DROP COLUMN "nickname";'
    )
    assert run(sql) == []


def test_silent_on_table_created_in_same_migration() -> None:
    sql = "CREATE TABLE tmp (id bigint, x text);\nALTER TABLE tmp DROP COLUMN x;"
    assert run(sql, history=()) == []


def test_silent_on_view() -> None:
    history = ("CREATE TABLE t (id bigint);", "CREATE VIEW v AS SELECT id FROM t;")
    assert run("ALTER TABLE v DROP COLUMN id;", history=history) == []


def test_column_added_in_earlier_deploy_is_flagged() -> None:
    history = (USERS, 'ALTER TABLE "User" ADD COLUMN "nickname" TEXT;')
    assert where(run('ALTER TABLE "User" DROP COLUMN "nickname";', history=history), R) == [(1, 20)]


def test_help_makes_a_required_column_nullable_first() -> None:
    history = (
        'CREATE TABLE "User" ("id" TEXT NOT NULL PRIMARY KEY, "email" TEXT NOT NULL, '
        '"plan" TEXT NOT NULL DEFAULT \'free\', "bio" TEXT);',
    )
    required = run('ALTER TABLE "User" DROP COLUMN "email";', history=history)[0].help
    assert 'ALTER TABLE "User" ALTER COLUMN "email" DROP NOT NULL;' in required
    assert required.index("DROP NOT NULL") < required.index("Ship app code")
    for col in ("plan", "bio", "id"):
        other = run(f'ALTER TABLE "User" DROP COLUMN "{col}";', history=history)[0].help
        assert "DROP NOT NULL" not in other, col


def test_silent_on_if_exists_of_a_column_the_known_table_never_had() -> None:
    # Idempotent cleanup: the history created "User" and never gave it "legacy".
    assert run('ALTER TABLE "User" DROP COLUMN IF EXISTS "legacy";') == []
    # Of a column the table has, it is still a drop.
    assert where(run('ALTER TABLE "User" DROP COLUMN IF EXISTS "bio";'), R) == [(1, 20)]
    # A table the history never showed may have the column.
    assert where(run("ALTER TABLE accounts DROP COLUMN IF EXISTS legacy;"), R) == [(1, 22)]
