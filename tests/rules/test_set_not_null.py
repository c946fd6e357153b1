"""set-not-null: SET NOT NULL on an existing column (compatibility)."""

from __future__ import annotations

from pathlib import Path

from alembic_help import assert_python
from helpers import lint_alembic, lint_sql, where

R = "set-not-null"
USER = 'CREATE TABLE "User" ("id" TEXT NOT NULL, "name" TEXT, "email" TEXT NOT NULL);'
USERS = "create table users (id bigserial primary key, name varchar(100), email text);"


def run(sql: str, history: tuple[str, ...] = (USER,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_prisma_required_column() -> None:
    sql = (
        "/*\n  Warnings:\n\n  - Made the column `name` on table `User` required.\n*/\n"
        "-- AlterTable\n"
        'ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;\n'
    )
    findings = run(sql)
    assert where(findings, R) == [(7, 20)]
    f = findings[0]
    assert f.severity == "error" and f.category == "compatibility"
    assert 'Setting "User"."name" NOT NULL' in f.message
    assert "violates not-null constraint" in f.message
    assert (
        'ALTER TABLE "User" ADD CONSTRAINT "User_name_not_null" CHECK ("name" IS NOT NULL) '
        "NOT VALID;" in f.help
    )
    assert 'ALTER TABLE "User" VALIDATE CONSTRAINT "User_name_not_null";' in f.help


def test_help_depends_on_pg12() -> None:
    sql = 'ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL;'
    new = run(sql, pg=12)[0].help
    old = run(sql, pg=11)[0].help
    assert "PostgreSQL 12+ uses the validated check" in new
    assert 'ALTER TABLE "User" DROP CONSTRAINT "User_name_not_null";' in new
    assert "Keep the check instead of SET NOT NULL" in old
    assert "DROP CONSTRAINT" not in old


def test_multi_action_points_at_set_not_null() -> None:
    sql = (
        "alter table users\n  alter column email drop default,\n  alter column email set not null;"
    )
    assert where(run(sql, history=(USERS,)), R) == [(3, 3)]


def test_unknown_table_is_flagged() -> None:
    assert where(run("ALTER TABLE t ALTER c SET NOT NULL;", history=()), R) == [(1, 15)]


def test_silent_after_validated_check_from_earlier_migrations() -> None:
    history = (
        USERS,
        "alter table users add constraint users_name_not_null check (name is not null) not valid;",
        "alter table users validate constraint users_name_not_null;",
    )
    assert run("alter table users alter column name set not null;", history=history) == []


def test_silent_after_validated_check_in_same_migration() -> None:
    sql = (
        "alter table users add constraint c check (name is not null) not valid;\n"
        "alter table users validate constraint c;\n"
        "alter table users alter column name set not null;\n"
    )
    assert run(sql, history=(USERS,)) == []


def test_not_valid_check_alone_is_flagged() -> None:
    history = (USERS, "alter table users add constraint c check (name is not null) not valid;")
    assert where(run("alter table users alter column name set not null;", history=history), R) == [
        (1, 19)
    ]


def test_check_on_another_column_does_not_count() -> None:
    history = (
        USERS,
        "alter table users add constraint c check (email is not null);",
    )
    assert where(run("alter table users alter column name set not null;", history=history), R) == [
        (1, 19)
    ]


def test_silent_on_already_not_null_new_column_and_new_table() -> None:
    assert run('ALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;') == []
    # A column this migration adds with a default: the old app's INSERTs get the default.
    sql = (
        'ALTER TABLE "User" ADD COLUMN "nick" TEXT DEFAULT \'\';\n'
        'ALTER TABLE "User" ALTER COLUMN "nick" SET NOT NULL;'
    )
    assert run(sql) == []
    assert run("CREATE TABLE t (a int);\nALTER TABLE t ALTER a SET NOT NULL;", history=()) == []


def test_column_added_backfilled_and_required_in_one_migration() -> None:
    # Prisma's "reverse relation" migration: add the column, backfill it, require it. The
    # old app's INSERTs into "User" leave it out, as with ADD COLUMN ... NOT NULL.
    sql = (
        'ALTER TABLE "User" ADD COLUMN "teamId" TEXT;\n'
        'UPDATE "User" SET "teamId" = "Team"."id" FROM "Team" WHERE "Team"."ownerId" = "User"."id";\n'
        'ALTER TABLE "User"\nALTER COLUMN "teamId"\nSET NOT NULL;\n'
    )
    findings = run(sql)
    assert where(findings, R) == [(4, 1)]
    f = findings[0]
    assert 'a column this migration adds to existing table "User"' in f.message
    assert 'null value in column "teamId"' in f.message
    # SET DEFAULT after the ADD would still leave the scan: the help declares both at once.
    assert 'ALTER TABLE "User" ADD COLUMN "teamId" TEXT NOT NULL DEFAULT <value>;' in f.help
    assert 'It also scans all of "User" for NULLs under an ACCESS EXCLUSIVE lock' in f.message


def test_column_added_to_a_table_the_history_never_showed() -> None:
    # Airflow and other long Alembic histories: the table predates the collected
    # revisions, so the model does not track it, yet the ADD COLUMN is right above.
    sql = (
        "ALTER TABLE slot_pool ADD COLUMN include_deferred BOOLEAN;\n"
        "UPDATE slot_pool SET include_deferred = false;\n"
        "ALTER TABLE slot_pool ALTER COLUMN include_deferred SET NOT NULL;\n"
    )
    findings = run(sql, history=())
    assert where(findings, R) == [(3, 23)]
    assert 'a column this migration adds to existing table "slot_pool"' in findings[0].message
    # With a default the old app's INSERTs still fill it: nothing to report.
    with_default = sql.replace("BOOLEAN;", "BOOLEAN DEFAULT false;")
    assert run(with_default, history=()) == []
    # Another table's column of the same name is not this one.
    other = sql.replace("ALTER TABLE slot_pool ADD", "ALTER TABLE pool ADD")
    assert "a column this migration adds" not in run(other, history=())[0].message


def test_one_alter_of_two_columns_names_its_single_scan_once() -> None:
    # PostgreSQL checks every SET NOT NULL of one ALTER TABLE in one scan (issue 12, point 5).
    sql = 'ALTER TABLE "User" ALTER COLUMN "name" SET NOT NULL,\nALTER COLUMN "email" SET NOT NULL;'
    history = ['CREATE TABLE "User" ("id" TEXT NOT NULL, "name" TEXT, "email" TEXT);']
    first, second = lint_sql(sql, history=history, rules=[R])
    assert (first.line, second.line) == (1, 2)
    assert first.message.endswith(
        'It also scans all of "User" for NULLs under an ACCESS EXCLUSIVE lock, which blocks '
        "every read and write on the table until the scan ends."
    )
    assert "scans" not in second.message


def test_two_new_columns_required_at_once_both_get_the_one_statement_fix() -> None:
    sql = (
        "ALTER TABLE users ADD COLUMN a text, ADD COLUMN b text;\n"
        "ALTER TABLE users ALTER COLUMN a SET NOT NULL, ALTER COLUMN b SET NOT NULL;"
    )
    history = ["create table users (id bigint primary key);"]
    first, second = lint_sql(sql, history=history, rules=[R])
    assert 'ADD COLUMN "a" text NOT NULL DEFAULT <value>;' in first.help
    assert 'ADD COLUMN "b" text NOT NULL DEFAULT <value>;' in second.help
    assert "It also scans" in first.message and "It also scans" not in second.message


def test_alembic_revision_gets_op_calls_for_the_safe_sequence(tmp_path: Path) -> None:
    findings = lint_alembic(
        tmp_path,
        'op.create_table("accounts", sa.Column("id", sa.Integer(), primary_key=True), '
        'sa.Column("plan", sa.Text()), schema="billing")',
        'op.alter_column("accounts", "plan", nullable=False, schema="billing")',
        rules=[R],
    )
    (f,) = findings
    code = assert_python(f.help)
    assert (
        'op.create_check_constraint("billing_accounts_plan_not_null", "accounts", '
        '"plan IS NOT NULL", postgresql_not_valid=True, schema="billing")' in code
    )
    assert (
        'op.execute("ALTER TABLE billing.accounts VALIDATE CONSTRAINT '
        'billing_accounts_plan_not_null")' in code
    )
    assert 'op.alter_column("accounts", "plan", nullable=False, schema="billing")' in code
    assert (
        'op.drop_constraint("billing_accounts_plan_not_null", "accounts", schema="billing")' in code
    )
    assert 'op.execute("UPDATE billing.accounts SET plan = <value> WHERE plan IS NULL' in code


def test_alembic_column_added_then_set_not_null_gets_add_column(tmp_path: Path) -> None:
    findings = lint_alembic(
        tmp_path,
        'op.create_table("accounts", sa.Column("id", sa.Integer(), primary_key=True))',
        'op.add_column("accounts", sa.Column("plan", sa.Numeric(10, 2)))\n'
        'op.execute("UPDATE accounts SET plan = 0")\n'
        'op.alter_column("accounts", "plan", nullable=False)',
        rules=[R],
    )
    (f,) = findings
    code = assert_python(f.help)
    assert (
        'op.add_column("accounts", sa.Column("plan", sa.Numeric(10, 2), nullable=False, '
        'server_default=sa.text("<value>")))' in code
    )


def test_plain_sql_keeps_sql_steps() -> None:
    (f,) = run("ALTER TABLE users ALTER COLUMN name SET NOT NULL;", history=(USERS,))
    assert 'ALTER TABLE "users" ALTER COLUMN "name" SET NOT NULL;' in f.help
    assert "op." not in f.help


def test_alembic_help_steps_2_and_3_followed_as_written_are_quiet(tmp_path: Path) -> None:
    base = (
        'op.create_table("accounts", sa.Column("id", sa.Integer(), primary_key=True), '
        'sa.Column("plan", sa.Text()))'
    )
    (f,) = lint_alembic(
        tmp_path / "before", base, 'op.alter_column("accounts", "plan", nullable=False)', rules=[R]
    )
    code = [line.strip() for line in assert_python(f.help).splitlines()]
    assert len(code) == 5
    check, validate, set_nn, drop = code[1:]
    after = lint_alembic(
        tmp_path / "after", "\n".join([base, check, validate]), f"{set_nn}\n{drop}", rules=[R]
    )
    assert after == []


# Precision round 3 (langfuse): the same migration changes what the ALTER finds.
PROMPTS = (
    'CREATE TABLE "prompts" ("id" TEXT NOT NULL, "prompt" TEXT NOT NULL, '
    'CONSTRAINT "prompts_pkey" PRIMARY KEY ("id"));'
)
SWAP = (
    "BEGIN;\n\n"
    "ALTER TABLE prompts\nADD COLUMN json_prompt JSONB;\n\n"
    "UPDATE prompts\nSET json_prompt = to_json(prompt::text)::json;\n\n"
    "ALTER TABLE prompts\nDROP COLUMN prompt;\n\n"
    "ALTER TABLE prompts\nRENAME COLUMN json_prompt TO prompt;\n\n"
    "ALTER TABLE prompts\nALTER COLUMN prompt SET NOT NULL;\n\n"
    "ALTER TABLE prompts\nADD COLUMN type TEXT NOT NULL DEFAULT 'text';\n\n"
    "COMMIT;\n"
)


def test_a_column_swapped_in_for_a_not_null_one_is_drop_columns_finding() -> None:
    # langfuse 20240325184810_prompt_to_json: the old app always wrote "prompt" (it was
    # NOT NULL), so NOT NULL breaks none of its INSERTs; drop-column reports the swap and
    # set-not-null-scan the scan.
    rules = [R, "drop-column", "set-not-null-scan"]
    findings = lint_sql(SWAP, history=[PROMPTS], rules=rules, tool="prisma")
    assert [(f.rule, f.line, f.column) for f in findings] == [
        ("drop-column", 10, 1),
        ("set-not-null-scan", 16, 1),
    ]
    # Near miss: the swapped-out column was nullable, so the old app may leave it out.
    nullable = PROMPTS.replace('"prompt" TEXT NOT NULL', '"prompt" TEXT')
    findings = lint_sql(SWAP, history=[nullable], rules=[R], tool="prisma")
    assert where(findings, R) == [(16, 1)]
    assert "a column this migration adds" in findings[0].message


def test_swap_through_a_rename_away_of_a_not_null_column() -> None:
    sql = (
        "alter table prompts add column json_prompt jsonb;\n"
        "alter table prompts rename column prompt to prompt_old;\n"
        "alter table prompts rename column json_prompt to prompt;\n"
        "alter table prompts alter column prompt set not null;\n"
    )
    assert run(sql, history=(PROMPTS,)) == []
    near = sql.replace("rename column json_prompt to prompt;", "rename column json_prompt to body;")
    near = near.replace("column prompt set not null", "column body set not null")
    assert where(run(near, history=(PROMPTS,)), R) == [(4, 21)]


BACKFILL_WORDS = "this ALTER fails only if such a write lands between that UPDATE and this ALTER."
ANY_NULL = "this ALTER fails if any existing row holds NULL."
SCORES = 'CREATE TABLE "scores" ("id" TEXT NOT NULL, "name" TEXT NOT NULL, "source" TEXT);'


def test_backfill_where_null_in_the_same_migration_changes_the_clause() -> None:
    # langfuse 20240307194329_score_source_non_null.
    sql = (
        "\n-- Backfill\n"
        'UPDATE "scores"\nSET "source" = CASE\n'
        "  WHEN name = 'manual-score' THEN 'REVIEW'::text\n  ELSE 'API'::text\nEND\n"
        'WHERE "source" IS NULL;\n\n\n'
        '-- AlterTable\nALTER TABLE "scores" ALTER COLUMN "source" SET NOT NULL;\n'
    )
    findings = run(sql, history=(SCORES,), tool="prisma")
    assert where(findings, R) == [(12, 22)]
    assert findings[0].message.startswith(
        'Setting "scores"."source" NOT NULL: the app version still running may insert or '
        'update it with NULL and fails with null value in column "source" violates not-null '
        f"constraint; the UPDATE at line 3 fills the NULLs already there, so {BACKFILL_WORDS}"
    )
    # Near misses: a CASE without ELSE yields NULL; another filter leaves NULLs.
    no_else = sql.replace("  ELSE 'API'::text\n", "")
    assert ANY_NULL in run(no_else, history=(SCORES,), tool="prisma")[0].message
    other = sql.replace('WHERE "source" IS NULL', "WHERE name = 'x'")
    assert ANY_NULL in run(other, history=(SCORES,), tool="prisma")[0].message


def test_unconditional_coalesce_backfill() -> None:
    # langfuse 20230720172051_tokens_non_null.
    history = ("create table observations (id text primary key, prompt_tokens int, total int);",)
    sql = (
        "UPDATE observations SET prompt_tokens = COALESCE(prompt_tokens, 0);\n"
        'ALTER TABLE "observations"\nALTER COLUMN "prompt_tokens" SET DEFAULT 0,\n'
        'ALTER COLUMN "prompt_tokens" SET NOT NULL,\nALTER COLUMN "total" SET NOT NULL;\n'
    )
    findings = run(sql, history=history)
    assert where(findings, R) == [(4, 1), (5, 1)]
    assert BACKFILL_WORDS in findings[0].message and "line 1" in findings[0].message
    # Near miss: "total" was never backfilled, and a COALESCE of columns may stay NULL.
    assert ANY_NULL in findings[1].message
    maybe = sql.replace("COALESCE(prompt_tokens, 0)", "COALESCE(prompt_tokens, total)")
    assert ANY_NULL in run(maybe, history=history)[0].message


def test_alembic_backfill_then_not_null(tmp_path: Path) -> None:
    findings = lint_alembic(
        tmp_path,
        'op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True), '
        'sa.Column("name", sa.Text()))',
        "op.execute(\"UPDATE users SET name = '' WHERE name IS NULL\")\n"
        'op.alter_column("users", "name", nullable=False)',
        rules=[R],
    )
    assert [(Path(f.path).name, f.line, f.rule) for f in findings] == [("bbb2_change.py", 10, R)]
    assert BACKFILL_WORDS in findings[0].message


def test_a_not_null_column_dropped_and_added_again_is_drop_columns_finding() -> None:
    sql = (
        "alter table prompts drop column prompt;\n"
        "alter table prompts add column prompt jsonb;\n"
        "alter table prompts alter column prompt set not null;\n"
    )
    assert run(sql, history=(PROMPTS,)) == []
    # Near misses: the dropped column was nullable; or it is dropped by an earlier
    # migration (the old app of this deploy never had it).
    nullable = PROMPTS.replace('"prompt" TEXT NOT NULL', '"prompt" TEXT')
    assert where(run(sql, history=(nullable,)), R) == [(3, 21)]
    earlier = (PROMPTS, "alter table prompts drop column prompt;")
    later = sql.split("\n", 1)[1]
    assert where(run(later, history=earlier), R) == [(2, 21)]


def test_a_nullable_column_renamed_away_is_still_reported() -> None:
    nullable = PROMPTS.replace('"prompt" TEXT NOT NULL', '"prompt" TEXT')
    sql = (
        "alter table prompts add column json_prompt jsonb;\n"
        "alter table prompts rename column prompt to prompt_old;\n"
        "alter table prompts rename column json_prompt to prompt;\n"
        "alter table prompts alter column prompt set not null;\n"
    )
    assert where(run(sql, history=(nullable,)), R) == [(4, 21)]
