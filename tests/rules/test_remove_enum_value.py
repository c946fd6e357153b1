"""remove-enum-value: Prisma's enum swap that removes values."""

from __future__ import annotations

from helpers import lint_sql, where

R = "remove-enum-value"
PLAN = "CREATE TYPE \"Plan\" AS ENUM ('FREE', 'PRO', 'ENTERPRISE');"
SUB = (
    'CREATE TABLE "Subscription" ("id" TEXT NOT NULL, "plan" "Plan" NOT NULL DEFAULT \'FREE\');\n'
    'CREATE TABLE "Organization" ("id" TEXT NOT NULL, "plan" "Plan");'
)
HISTORY = (PLAN + "\n" + SUB,)

PRISMA_SWAP = """/*
  Warnings:

  - The values [ENTERPRISE] on the enum `Plan` will be removed. If these variants are still used in the database, this will fail.

*/
-- AlterEnum
BEGIN;
CREATE TYPE "Plan_new" AS ENUM ('FREE', 'PRO');
ALTER TABLE "Subscription" ALTER COLUMN "plan" DROP DEFAULT;
ALTER TABLE "Subscription" ALTER COLUMN "plan" TYPE "Plan_new" USING ("plan"::text::"Plan_new");
ALTER TYPE "Plan" RENAME TO "Plan_old";
ALTER TYPE "Plan_new" RENAME TO "Plan";
DROP TYPE "Plan_old";
ALTER TABLE "Subscription" ALTER COLUMN "plan" SET DEFAULT 'FREE';
COMMIT;
"""


def run(sql: str, history: tuple[str, ...] = HISTORY, **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_prisma_swap_reports_removed_value_at_the_column_conversion() -> None:
    findings = run(PRISMA_SWAP, tool="prisma", implicit_transaction=True)
    assert where(findings, R) == [(11, 28)]
    f = findings[0]
    assert f.severity == "error" and f.category == "compatibility"
    assert "removes value 'ENTERPRISE' from enum \"Plan\"" in f.message
    assert '"Subscription"."plan"' in f.message
    assert 'UPDATE "Subscription" SET "plan" = \'FREE\' WHERE "plan" IN (\'ENTERPRISE\');' in f.help
    assert "schema.prisma" in f.help


def test_one_finding_per_converted_column_naming_several_values() -> None:
    sql = (
        "CREATE TYPE \"Plan_new\" AS ENUM ('FREE');\n"
        'ALTER TABLE "Subscription" ALTER COLUMN "plan" TYPE "Plan_new" USING ("plan"::text::"Plan_new");\n'
        'ALTER TABLE "Organization" ALTER COLUMN "plan" TYPE "Plan_new" USING ("plan"::text::"Plan_new");\n'
        'ALTER TYPE "Plan" RENAME TO "Plan_old";\n'
        'ALTER TYPE "Plan_new" RENAME TO "Plan";\n'
        'DROP TYPE "Plan_old";\n'
    )
    findings = run(sql)
    assert where(findings, R) == [(2, 28), (3, 28)]
    assert all("removes values 'PRO', 'ENTERPRISE'" in f.message for f in findings)


def test_swap_that_only_adds_values_is_silent() -> None:
    sql = PRISMA_SWAP.replace("('FREE', 'PRO')", "('FREE', 'PRO', 'ENTERPRISE', 'TEAM')")
    assert run(sql) == []


def test_unknown_old_enum_is_flagged_without_values() -> None:
    findings = run(PRISMA_SWAP, history=())
    assert where(findings, R) == [(11, 28)]
    assert "could not be determined" in findings[0].message
    assert 'enum "Plan"' in findings[0].message


def test_renames_before_conversion_are_recognised() -> None:
    sql = (
        "CREATE TYPE \"Plan_new\" AS ENUM ('FREE', 'PRO');\n"
        'ALTER TYPE "Plan" RENAME TO "Plan_old";\n'
        'ALTER TYPE "Plan_new" RENAME TO "Plan";\n'
        'ALTER TABLE "Subscription" ALTER COLUMN "plan" TYPE "Plan" USING ("plan"::text::"Plan");\n'
        'DROP TYPE "Plan_old";\n'
    )
    findings = run(sql)
    assert where(findings, R) == [(4, 28)]
    assert "removes value 'ENTERPRISE' from enum \"Plan\"" in findings[0].message


def test_array_column_swap() -> None:
    history = (
        "CREATE TYPE \"Role\" AS ENUM ('OWNER', 'ADMIN', 'MEMBER');\n"
        'CREATE TABLE "User" ("id" TEXT NOT NULL, "roles" "Role"[]);',
    )
    sql = (
        "CREATE TYPE \"Role_new\" AS ENUM ('OWNER', 'MEMBER');\n"
        'ALTER TABLE "User" ALTER COLUMN "roles" TYPE "Role_new"[] USING ("roles"::text::"Role_new"[]);\n'
        'ALTER TYPE "Role" RENAME TO "Role_old";\n'
        'ALTER TYPE "Role_new" RENAME TO "Role";\n'
        'DROP TYPE "Role_old";\n'
    )
    findings = run(sql, history=history)
    assert where(findings, R) == [(2, 20)]
    assert "removes value 'ADMIN'" in findings[0].message


def test_not_a_swap_without_the_rename() -> None:
    sql = (
        "CREATE TYPE \"Tier\" AS ENUM ('FREE');\n"
        'ALTER TABLE "Subscription" ALTER COLUMN "plan" TYPE "Tier" USING ("plan"::text::"Tier");\n'
    )
    assert run(sql) == []


def test_silent_on_table_created_in_same_deploy() -> None:
    sql = (
        'CREATE TABLE t (id int, p "Plan");\n'
        "CREATE TYPE \"Plan_new\" AS ENUM ('FREE');\n"
        'ALTER TABLE t ALTER COLUMN p TYPE "Plan_new" USING (p::text::"Plan_new");\n'
        'ALTER TYPE "Plan" RENAME TO "Plan_old";\n'
        'ALTER TYPE "Plan_new" RENAME TO "Plan";\n'
    )
    assert run(sql) == []


def test_the_message_speaks_of_one_value_or_of_several() -> None:
    one = run(PRISMA_SWAP, tool="prisma", implicit_transaction=True)[0]
    assert one.message == (
        'Converting "Subscription"."plan" to "Plan_new" removes value \'ENTERPRISE\' from '
        'enum "Plan": the app version still running can still write it and fails with invalid '
        'input value for enum "Plan", and this ALTER fails if any row holds it.'
    )
    two = PRISMA_SWAP.replace("('FREE', 'PRO')", "('FREE')")
    several = run(two, tool="prisma", implicit_transaction=True)
    assert where(several, R) == [(11, 28)]
    assert several[0].message == (
        'Converting "Subscription"."plan" to "Plan_new" removes values \'PRO\', \'ENTERPRISE\' '
        'from enum "Plan": the app version still running can still write them and fails with '
        'invalid input value for enum "Plan", and this ALTER fails if any row holds one.'
    )


def test_an_older_enum_taking_the_name_is_no_swap() -> None:
    # "Tier" predates this migration: the running app already knows it, so this is a plain
    # type change of the column, a rename and a drop, each reported by its own rule.
    history = (
        PLAN + "\nCREATE TYPE \"Tier\" AS ENUM ('FREE', 'PRO');\n"
        'CREATE TABLE "Subscription" ("id" TEXT NOT NULL, "plan" "Plan" NOT NULL);',
    )
    sql = (
        'ALTER TABLE "Subscription" ALTER COLUMN "plan" TYPE "Tier" USING ("plan"::text::"Tier");\n'
        'ALTER TYPE "Plan" RENAME TO "Plan_old";\n'
        'ALTER TYPE "Tier" RENAME TO "Plan";\n'
        'DROP TYPE "Plan_old";'
    )
    findings = lint_sql(sql, history=list(history), rules=[R, "change-column-type", "drop-type"])
    assert [(f.rule, f.line, f.column) for f in findings] == [
        ("change-column-type", 1, 28),
        ("drop-type", 4, 1),
    ]


def test_an_unfinished_type_change_is_no_swap() -> None:
    # Half-typed in an editor with the pre-commit hook running.
    sql = "CREATE TYPE \"Plan_new\" AS ENUM ('FREE');\n" + (
        'ALTER TABLE "Subscription" ALTER COLUMN "plan" TYPE ;'
    )
    assert run(sql) == []


def test_a_text_column_moved_onto_the_new_enum_is_not_part_of_the_swap() -> None:
    # "Organization"."plan" was text: converting it to the new enum removes no value the
    # running app writes to it (change-column-type judges that conversion).
    history = (
        PLAN + "\n"
        'CREATE TABLE "Subscription" ("id" TEXT NOT NULL, "plan" "Plan" NOT NULL);\n'
        'CREATE TABLE "Organization" ("id" TEXT NOT NULL, "plan" TEXT);',
    )
    sql = (
        "CREATE TYPE \"Plan_new\" AS ENUM ('FREE', 'PRO');\n"
        'ALTER TABLE "Subscription" ALTER COLUMN "plan" TYPE "Plan_new" USING ("plan"::text::"Plan_new");\n'
        'ALTER TABLE "Organization" ALTER COLUMN "plan" TYPE "Plan_new" USING ("plan"::"Plan_new");\n'
        'ALTER TYPE "Plan" RENAME TO "Plan_old";\n'
        'ALTER TYPE "Plan_new" RENAME TO "Plan";\n'
        'DROP TYPE "Plan_old";\n'
    )
    assert where(run(sql, history=history), R) == [(2, 28)]


def test_a_new_enum_on_a_column_the_history_never_showed_is_no_swap_without_renames() -> None:
    sql = (
        "CREATE TYPE \"Plan_new\" AS ENUM ('FREE');\n"
        'ALTER TABLE "Invoice" ALTER COLUMN "plan" TYPE "Plan_new" USING ("plan"::text::"Plan_new");\n'
    )
    assert run(sql, history=()) == []
    # The near miss: with the renames it is a swap, whose removed values are unknown.
    swap = (
        sql + 'ALTER TYPE "Plan" RENAME TO "Plan_old";\nALTER TYPE "Plan_new" RENAME TO "Plan";\n'
    )
    findings = run(swap, history=())
    assert where(findings, R) == [(2, 23)]
    assert "the values it removes could not be determined" in findings[0].message


def test_hand_written_order_leaves_a_text_column_out_of_the_swap() -> None:
    # Renames first, then the columns move to the new "Plan": "Subscription"."plan" leaves
    # the displaced enum (a swap), "Organization"."plan" leaves text (no swap).
    history = (
        PLAN + "\n"
        'CREATE TABLE "Subscription" ("id" TEXT NOT NULL, "plan" "Plan" NOT NULL);\n'
        'CREATE TABLE "Organization" ("id" TEXT NOT NULL, "plan" TEXT);',
    )
    sql = (
        "CREATE TYPE \"Plan_new\" AS ENUM ('FREE', 'PRO');\n"
        'ALTER TYPE "Plan" RENAME TO "Plan_old";\n'
        'ALTER TYPE "Plan_new" RENAME TO "Plan";\n'
        'ALTER TABLE "Subscription" ALTER COLUMN "plan" TYPE "Plan" USING ("plan"::text::"Plan");\n'
        'ALTER TABLE "Organization" ALTER COLUMN "plan" TYPE "Plan" USING ("plan"::"Plan");\n'
        'DROP TYPE "Plan_old";\n'
    )
    assert where(run(sql, history=history), R) == [(4, 28)]
