"""drop-column: DROP COLUMN of a column the running app still uses."""

from __future__ import annotations

from pathlib import Path

from alembic_help import upgrade_code
from helpers import lint_alembic, lint_sql, where

R = "drop-column"
USERS_APP = (
    'op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True), '
    'sa.Column("email", sa.String(100), nullable=False), sa.Column("bio", sa.Text()), '
    'schema="app")'
)
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


def test_first_step_is_in_the_users_tool() -> None:
    # Issue 14, point 3: Prisma marks the field @ignore and deploys, the drop comes later.
    (prisma,) = run('ALTER TABLE "User" DROP COLUMN "bio";', tool="prisma")
    assert prisma.help.splitlines()[1] == (
        '1. Mark the field of "User"."bio" `@ignore` in schema.prisma (the model `@@ignore` '
        "when the whole table goes) and deploy: Prisma Client stops reading and writing it, "
        "and no migration is needed."
    )
    assert "2. In a later migration, once no old instance is left, remove the field" in (
        prisma.help
    )
    assert prisma.help.endswith('\n    ALTER TABLE "User" DROP COLUMN "bio";')
    # Plain SQL: no Prisma, no SQLAlchemy.
    (plain,) = run('ALTER TABLE "User" DROP COLUMN "bio";')
    assert (
        plain.help.splitlines()[1]
        == '1. Ship app code that no longer reads or writes "User"."bio".'
    )
    assert not any(w in plain.help for w in ("@ignore", "Prisma", "SQLAlchemy", "op."))


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


# The column swap (issue 12): add x_new, copy, drop x, rename x_new to x in one migration.
ACCOUNTS = "create table accounts (id bigint primary key, balance integer not null);"
SWAP = (
    "alter table accounts add column balance_new numeric(12, 2);\n"
    "update accounts set balance_new = balance;\n"
    "alter table accounts drop column balance;\n"
    "alter table accounts rename column balance_new to balance;\n"
)


def _swap(sql: str, **kw: object) -> list:
    return lint_sql(sql, history=[ACCOUNTS], rules=[R, "rename-column"], **kw)


def test_column_swap_is_one_finding_saying_what_happens() -> None:
    findings = _swap(SWAP)
    assert [(f.rule, f.line, f.column) for f in findings] == [(R, 3, 22)]
    assert findings[0].message == (
        'Dropping column "accounts"."balance" and renaming "balance_new" to "balance" (line 4) '
        "swaps the column under the app version still running: it keeps reading and writing "
        '"accounts"."balance", now with type numeric(12,2) instead of integer; and the rows it '
        "inserts or updates between the copy (line 2) and the swap keep their value only in "
        "the old column, so it is lost. The renames and the drop only change the catalog "
        "(each takes a brief ACCESS EXCLUSIVE lock, no rewrite)."
    )
    assert "does not exist" not in findings[0].message
    assert findings[0].help.startswith("Swap the column over three deploys")
    # Plain SQL: no ORM advice (the Alembic form maps the attribute, tests below).
    assert 'Keep the name "balance_new" instead of renaming it.' in findings[0].help
    assert "SQLAlchemy" not in findings[0].help and "Column(" not in findings[0].help


def test_column_swap_in_one_transaction_after_the_add_loses_no_write() -> None:
    # ADD COLUMN's ACCESS EXCLUSIVE lock, held to COMMIT, keeps the app's writes out.
    findings = _swap(f"BEGIN;\n{SWAP}COMMIT;\n")
    assert [(f.rule, f.line) for f in findings] == [(R, 4)]
    assert "lost" not in findings[0].message
    assert "now with type numeric(12,2) instead of integer." in findings[0].message
    # Near miss: the copy runs in a transaction that took no lock before it.
    findings = _swap(
        "alter table accounts add column balance_new numeric(12, 2);\n"
        f"BEGIN;\n{SWAP.split(chr(10), 1)[1]}COMMIT;\n"
    )
    assert [(f.rule, f.line) for f in findings] == [(R, 4)]
    assert "between the copy (line 3) and the swap" in findings[0].message


def test_column_swap_in_prisma_form() -> None:
    history = ['CREATE TABLE "Account" ("id" TEXT NOT NULL, "balance" INTEGER NOT NULL);']
    sql = (
        '-- AlterTable\nALTER TABLE "Account" ADD COLUMN "balance_new" DECIMAL(12,2);\n'
        'UPDATE "Account" SET "balance_new" = "balance";\n'
        'ALTER TABLE "Account" DROP COLUMN "balance";\n'
        'ALTER TABLE "Account" RENAME COLUMN "balance_new" TO "balance";\n'
    )
    findings = lint_sql(sql, history=history, rules=[R, "rename-column"], tool="prisma")
    assert [(f.rule, f.line, f.column) for f in findings] == [(R, 4, 23)]
    assert "now with type numeric(12,2) instead of integer" in findings[0].message
    assert '`@map("balance_new")`' in findings[0].help


def test_a_rename_of_another_table_or_name_is_no_swap() -> None:
    sql = (
        "alter table accounts add column balance_new numeric(12, 2);\n"
        "alter table accounts drop column balance;\n"
        "alter table accounts rename column balance_new to amount;\n"
    )
    findings = _swap(sql)
    assert [f.rule for f in findings] == [R]
    assert 'fails with column "balance" does not exist' in findings[0].message
    findings = _swap(
        "create table ledger (id int, balance_new int);\n"
        "alter table accounts drop column balance;\n"
        "alter table ledger rename column balance_new to balance;\n"
    )
    assert 'fails with column "balance" does not exist' in findings[0].message


def test_column_swap_with_the_same_type() -> None:
    findings = _swap(SWAP.replace("numeric(12, 2)", "integer"))
    assert (
        'and writing "accounts"."balance", now the former "balance_new" (same type, integer);'
        in findings[0].message
    )


def test_column_swap_on_a_table_the_history_never_showed() -> None:
    sql = (
        "alter table legacy drop column amount;\n"
        "alter table legacy rename column amount_v2 to amount;\n"
    )
    [f] = lint_sql(sql, rules=[R])
    assert (f.line, f.column) == (1, 20)
    assert (
        'it keeps reading and writing "legacy"."amount", now with the type of "amount_v2".'
        in f.message
    )


def test_a_generated_column_needs_no_drop_not_null_step() -> None:
    history = [
        "create table t (id int primary key, a int, b int generated always as (a * 2) stored not null);"
    ]
    [f] = lint_sql("alter table t drop column b;", history=history, rules=[R])
    assert f.help.startswith("Drop the column in two deploys:\n1. Ship app code")
    # Near miss: a plain NOT NULL column without a default needs it first.
    history = ["create table t (id int primary key, a int, b int not null);"]
    [f] = lint_sql("alter table t drop column b;", history=history, rules=[R])
    assert f.help.startswith("Drop the column in two deploys:\n1. Let the column accept NULL")


def test_column_swap_through_a_rename_away_is_one_finding_on_that_rename() -> None:
    sql = (
        "alter table accounts add column balance_new numeric(12, 2);\n"
        "update accounts set balance_new = balance;\n"
        "alter table accounts rename column balance to balance_old;\n"
        "alter table accounts rename column balance_new to balance;\n"
        "alter table accounts drop column balance_old;\n"
    )
    findings = _swap(sql)
    assert [(f.rule, f.line, f.column) for f in findings] == [("rename-column", 3, 22)]
    assert findings[0].message.startswith(
        'Renaming column "accounts"."balance" to "balance_old" and "balance_new" to '
        '"balance" (line 4) swaps the column under the app version still running: it keeps '
        'reading and writing "accounts"."balance", now with type numeric(12,2) instead of '
        "integer; and the rows it inserts or updates between the copy (line 2)"
    )
    assert "does not exist" not in findings[0].message
    # Near miss: without the rename back, the rename and the drop break the old app.
    plain = sql.replace("alter table accounts rename column balance_new to balance;\n", "")
    findings = _swap(plain)
    assert [(f.rule, f.line) for f in findings] == [("rename-column", 3), (R, 4)]
    assert all("does not exist" in f.message for f in findings)


def test_column_swap_without_a_copy_loses_no_write_it_names() -> None:
    sql = (
        "alter table accounts add column balance_new numeric(12, 2);\n"
        "update ledger set n = 0;\n"
        "alter table accounts drop column balance;\n"
        "alter table accounts rename column balance_new to balance;\n"
    )
    [f] = _swap(sql)
    assert (f.rule, f.line) == (R, 3)
    assert "now with type numeric(12,2) instead of integer. The renames" in f.message
    assert "copy" not in f.message


PRISMA_INIT = (
    'CREATE TABLE "User" ("id" SERIAL NOT NULL, "name" TEXT, "bio" TEXT,\n'
    '    CONSTRAINT "User_pkey" PRIMARY KEY ("id"));'
)


def test_prisma_renamed_field_is_a_rename_that_loses_the_data() -> None:
    # `prisma migrate dev` after renaming `name` to `fullName` in schema.prisma.
    sql = '-- AlterTable\nALTER TABLE "User" DROP COLUMN "name",\nADD COLUMN     "fullName" TEXT;\n'
    findings = lint_sql(sql, history=[PRISMA_INIT], rules=["drop-column"], tool="prisma")
    assert where(findings, "drop-column") == [(2, 20)]
    f = findings[0]
    assert 'drops "User"."name" and adds "fullName" of the same type' in f.message
    assert 'loses every value of "name"' in f.message
    assert 'fullName <Type> @map("name")' in f.help
    assert "SQLAlchemy" not in f.help


def test_prisma_drop_and_add_of_another_type_or_in_plain_sql_is_a_plain_drop() -> None:
    other_type = 'ALTER TABLE "User" DROP COLUMN "name",\nADD COLUMN     "age" INTEGER;\n'
    [f] = lint_sql(other_type, history=[PRISMA_INIT], rules=["drop-column"], tool="prisma")
    assert f.message.startswith('Dropping column "User"."name"')
    same_in_sql = 'ALTER TABLE "User" DROP COLUMN "name",\nADD COLUMN "fullName" TEXT;\n'
    [f] = lint_sql(same_in_sql, history=[PRISMA_INIT], rules=["drop-column"])
    assert f.message.startswith('Dropping column "User"."name"')
    assert "SQLAlchemy" not in f.help and "Prisma" not in f.help  # plain SQL gets SQL
    two = 'ALTER TABLE "User" DROP COLUMN "name",\nDROP COLUMN "bio",\nADD COLUMN "x" TEXT;\n'
    found = lint_sql(two, history=[PRISMA_INIT], rules=["drop-column"], tool="prisma")
    assert all(f.message.startswith("Dropping column") for f in found)  # pairing unknown


def test_alembic_help_relaxes_then_drops_with_op_calls(tmp_path: Path) -> None:
    body = 'op.drop_column("users", "email", schema="app")'
    (f,) = [f for f in lint_alembic(tmp_path, USERS_APP, body) if f.rule == R]
    assert (f.line, f.column) == (9, 5)
    code = upgrade_code(f.help)
    # Issue 14, point 3: the model loses the attribute first, then a later revision drops.
    assert '2. Remove the attribute mapping "app"."users"."email" from the SQLAlchemy model' in (
        f.help
    )
    assert "3. In a later deploy, once no old instance is left, drop it in a new revision:" in (
        f.help
    )
    assert 'op.alter_column("users", "email", nullable=True, schema="app")' in code
    assert 'op.drop_column("users", "email", schema="app")' in code
    (sql,) = lint_sql(
        "alter table t drop column c;", history=["create table t (c int);"], rules=[R]
    )
    assert "op." not in sql.help and 'ALTER TABLE "t" DROP COLUMN "c";' in sql.help


def test_generated_not_null_column_needs_no_drop_not_null_step() -> None:
    history = ["create table t (a int, b int not null generated always as (a * 2) stored);"]
    (f,) = lint_sql("alter table t drop column b;", history=history, rules=[R])
    assert "DROP NOT NULL" not in f.help
    # Near miss: the same column without GENERATED must accept NULL first.
    (g,) = lint_sql(
        "alter table t drop column b;", history=["create table t (b int not null);"], rules=[R]
    )
    assert 'ALTER TABLE "t" ALTER COLUMN "b" DROP NOT NULL;' in g.help


def test_prisma_drop_and_add_on_a_table_the_history_never_created() -> None:
    sql = 'ALTER TABLE "User" DROP COLUMN "name",\nADD COLUMN "fullName" TEXT;'
    (f,) = lint_sql(sql, history=[], rules=[R], tool="prisma")
    assert "loses every value" not in f.message  # the old type is unknown: no rename guess
    assert 'Dropping column "User"."name"' in f.message


def test_prisma_relaxes_a_required_column_by_making_the_field_optional() -> None:
    history = ['CREATE TABLE "User" ("id" TEXT NOT NULL, "bio" TEXT NOT NULL);']
    sql = 'ALTER TABLE "User" DROP COLUMN "bio";'
    (prisma,) = lint_sql(sql, history=history, rules=[R], tool="prisma")
    assert prisma.help.splitlines()[1] == (
        "1. Let the column accept NULL first (the new code's INSERTs omit it), in a migration "
        "that runs before the new code starts (make the field optional, `?`, and `prisma "
        "migrate dev` writes it):"
    )
    (plain,) = lint_sql(sql, history=history, rules=[R])
    assert "make the field optional" not in plain.help
    assert plain.help.splitlines()[1].endswith(
        "in a migration that runs before the new code starts:"
    )
