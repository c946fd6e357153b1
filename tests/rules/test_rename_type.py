"""rename-type: renaming a type the running app names, but not an enum swap's renames."""

from __future__ import annotations

from helpers import lint_sql, where

R = "rename-type"
EARLIER = ("CREATE TYPE \"EventType\" AS ENUM ('CLICK', 'VIEW');",)


def test_rename_of_an_existing_enum_is_flagged() -> None:
    findings = lint_sql(
        '-- AlterEnum\nALTER TYPE "EventType" RENAME TO "ActionType";', history=EARLIER, rules=[R]
    )
    assert where(findings, R) == [(2, 1)]
    assert '"EventType"' in findings[0].message and '"ActionType"' in findings[0].message
    assert 'ALTER TYPE "EventType" RENAME TO "ActionType";' in findings[0].help


def test_unknown_type_counts_as_existing() -> None:
    assert where(lint_sql("alter type ticket_state rename to state;", rules=[R]), R) == [(1, 1)]


def test_type_created_in_the_same_deploy_is_silent() -> None:
    sql = "create type mood as enum ('ok');\nalter type mood rename to feeling;"
    assert lint_sql(sql, rules=[R]) == []


def test_prisma_enum_swap_renames_are_left_to_remove_enum_value() -> None:
    history = (
        "CREATE TYPE \"Plan\" AS ENUM ('FREE', 'PRO');\n"
        'CREATE TABLE "Subscription" ("id" TEXT NOT NULL, "plan" "Plan" NOT NULL);',
    )
    swap = (
        "BEGIN;\n"
        "CREATE TYPE \"Plan_new\" AS ENUM ('FREE');\n"
        'ALTER TABLE "Subscription" ALTER COLUMN "plan" TYPE "Plan_new" USING ("plan"::text::"Plan_new");\n'
        'ALTER TYPE "Plan" RENAME TO "Plan_old";\n'
        'ALTER TYPE "Plan_new" RENAME TO "Plan";\n'
        'DROP TYPE "Plan_old";\n'
        "COMMIT;"
    )
    findings = lint_sql(swap, history=history, rules=[R, "remove-enum-value"])
    assert [f.rule for f in findings] == ["remove-enum-value"]
