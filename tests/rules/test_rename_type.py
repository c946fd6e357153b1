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


def test_a_new_type_in_the_same_migration_does_not_excuse_another_rename() -> None:
    # The near miss of the enum swap: a type is created here, but it does not take the
    # renamed type's name back, so the running app's "EventType" is gone.
    sql = (
        "CREATE TYPE \"Priority\" AS ENUM ('LOW', 'HIGH');\n"
        'ALTER TYPE "EventType" RENAME TO "ActionType";'
    )
    findings = lint_sql(sql, history=EARLIER, rules=[R])
    assert where(findings, R) == [(2, 1)]
    assert findings[0].message.startswith('Renaming type "EventType" to "ActionType": the app')


def test_an_older_type_taking_the_name_is_no_swap() -> None:
    # "LegacyEvent" is not new: the running app's casts to "EventType" now reach another
    # type, and its own casts to "LegacyEvent" fail. Both renames break it.
    history = (*EARLIER, "CREATE TYPE \"LegacyEvent\" AS ENUM ('CLICK');")
    sql = (
        'ALTER TYPE "EventType" RENAME TO "EventType_old";\n'
        'ALTER TYPE "LegacyEvent" RENAME TO "EventType";'
    )
    findings = lint_sql(sql, history=history, rules=[R])
    assert where(findings, R) == [(1, 1), (2, 1)]


def test_prisma_help_maps_the_new_name_to_the_old_one() -> None:
    findings = lint_sql(
        'ALTER TYPE "EventType" RENAME TO "ActionType";', history=EARLIER, rules=[R], tool="prisma"
    )
    assert where(findings, R) == [(1, 1)]
    assert findings[0].help.startswith(
        "If only the code's name matters, keep the database name and map it in schema.prisma "
        '(enum ActionType { ... @@map("EventType") }).\n'
    )
    plain = lint_sql('ALTER TYPE "EventType" RENAME TO "ActionType";', history=EARLIER, rules=[R])
    assert plain[0].help.startswith(
        "If only the code's name matters, keep the database name and rename only in the "
        "application code.\n"
    )


def test_an_unfinished_rename_names_no_empty_type() -> None:
    # Half-typed in an editor with the pre-commit hook: no finding about a type called "".
    assert lint_sql('ALTER TYPE "EventType" RENAME TO;', history=EARLIER, rules=[R]) == []
