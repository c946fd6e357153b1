"""drop-type: DROP TYPE / DROP DOMAIN of an existing type; not the end of an enum swap."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import lint_alembic, lint_sql, where

R = "drop-type"
PLAN = "CREATE TYPE \"Plan\" AS ENUM ('FREE', 'PRO', 'ENTERPRISE');"
SUB = 'CREATE TABLE "Subscription" ("id" TEXT NOT NULL, "plan" "Plan" NOT NULL);'

SWAP = """BEGIN;
CREATE TYPE "Plan_new" AS ENUM ('FREE', 'PRO');
ALTER TABLE "Subscription" ALTER COLUMN "plan" DROP DEFAULT;
ALTER TABLE "Subscription" ALTER COLUMN "plan" TYPE "Plan_new" USING ("plan"::text::"Plan_new");
ALTER TYPE "Plan" RENAME TO "Plan_old";
ALTER TYPE "Plan_new" RENAME TO "Plan";
DROP TYPE "Plan_old";
ALTER TABLE "Subscription" ALTER COLUMN "plan" SET DEFAULT 'FREE';
COMMIT;
"""


def run(sql: str, history: tuple[str, ...] = (PLAN,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_drop_unused_enum_mentions_casts() -> None:
    findings = run('DROP TYPE "Plan";')
    assert where(findings, R) == [(1, 1)]
    f = findings[0]
    assert f.severity == "error"
    assert 'type "Plan"' in f.message and 'type "Plan" does not exist' in f.message


def test_drop_type_used_by_a_column_names_it() -> None:
    findings = run('DROP TYPE "Plan";', history=(PLAN + "\n" + SUB,))
    assert '"Subscription"."plan"' in findings[0].message
    assert "DROP fails" in findings[0].message
    cascade = run('DROP TYPE "Plan" CASCADE;', history=(PLAN + "\n" + SUB,))
    assert "CASCADE drops the columns" in cascade[0].message


def test_drop_domain() -> None:
    findings = run("\n  DROP DOMAIN IF EXISTS email_address CASCADE;", history=())
    assert where(findings, R) == [(2, 3)]
    assert 'domain "email_address"' in findings[0].message
    assert "DROP DOMAIN" in findings[0].help


def test_silent_on_type_created_in_same_deploy() -> None:
    sql = "CREATE TYPE mood AS ENUM ('sad', 'ok');\nDROP TYPE mood;"
    assert run(sql, history=()) == []
    sql = "CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);\nDROP DOMAIN positive_int;"
    assert run(sql, history=()) == []


def test_silent_on_the_drop_that_ends_an_enum_swap() -> None:
    assert run(SWAP, history=(PLAN + "\n" + SUB,), implicit_transaction=True) == []
    # Also when the history never showed the table or the enum.
    assert run(SWAP, history=()) == []


def test_silent_on_a_swap_that_only_adds_values() -> None:
    sql = SWAP.replace("('FREE', 'PRO')", "('FREE', 'PRO', 'ENTERPRISE', 'TEAM')")
    assert run(sql, history=(PLAN + "\n" + SUB,)) == []


def test_renamed_type_without_a_replacement_is_flagged() -> None:
    sql = 'ALTER TYPE "Plan" RENAME TO "Plan_old";\nDROP TYPE "Plan_old";'
    assert where(run(sql), R) == [(2, 1)]


# --- one problem, one finding (issue 12, point 5) -----------------------------------------

USES = (PLAN + "\n" + SUB,)
ALL_BUT = "missing-lock-timeout"


def everything(sql: str, history: tuple[str, ...] = USES, without: str = "", **kw: object) -> list:
    from migcheck.rules import all_rules

    rules = [
        r for r, rule in all_rules().items() if rule.default_enabled and r not in (ALL_BUT, without)
    ]
    return [
        (f.rule, f.line, f.column) for f in lint_sql(sql, history=list(history), rules=rules, **kw)
    ]


def test_prisma_drop_model_and_its_enum_is_one_finding() -> None:
    # Prisma removes the model and its enum in one migration: the app's casts to "Plan"
    # are in its queries of "Subscription", which fail on the dropped table first.
    sql = '-- DropTable\nDROP TABLE "Subscription";\n\n-- DropEnum\nDROP TYPE "Plan";\n'
    assert everything(sql, tool="prisma") == [("drop-table", 2, 1)]


def test_plain_sql_drop_table_then_its_type_is_one_finding() -> None:
    history = (
        "create type order_state as enum ('new', 'paid');\n"
        "create table orders (id bigint primary key, state order_state not null);",
    )
    sql = "drop table orders;\ndrop type order_state;"
    assert everything(sql, history) == [("drop-table", 1, 1)]
    # Near misses: the type outlives the table elsewhere, or no running code had the table.
    shared = (history[0] + "\ncreate table refunds (id bigint, state order_state);",)
    assert everything(sql, shared) == [("drop-table", 1, 1), ("drop-type", 2, 1)]
    fresh = (
        "create type order_state as enum ('new', 'paid');",
        "create table orders (id bigint primary key, state order_state not null);",
    )
    # The table is created in the same deploy as the drop: nothing used it; the type is older.
    created_here = "create table orders (id bigint, state order_state);\n" + sql
    assert everything(created_here, fresh[:1]) == [("drop-type", 3, 1)]


def test_the_type_is_reported_when_drop_table_is_not_run() -> None:
    sql = 'DROP TABLE "Subscription";\nDROP TYPE "Plan";'
    assert everything(sql, without="drop-table") == [("drop-type", 2, 1)]


def test_a_table_dropped_by_an_earlier_deploy_does_not_cover_the_type() -> None:
    findings = lint_sql(
        'DROP TYPE "Plan";',
        history=[PLAN + "\n" + SUB, 'DROP TABLE "Subscription";'],
        rules=["drop-table", R],
    )
    assert where(findings, R) == [(1, 1)]


def test_alembic_drop_table_then_enum_is_one_finding(tmp_path: Path) -> None:
    earlier = (
        'op.create_table("subscription", sa.Column("id", sa.Integer(), primary_key=True),'
        ' sa.Column("plan", sa.Enum("free", "pro", name="plan"), nullable=False))'
    )
    body = 'op.drop_table("subscription")\nop.execute("DROP TYPE plan")'
    found = lint_alembic(tmp_path / "both", earlier, body, rules=["drop-table", R])
    assert [(f.rule, f.line) for f in found] == [("drop-table", 9)]
    # Near miss: the same revision without the drop-table rule reports the type.
    alone = lint_alembic(tmp_path / "alone", earlier, body, rules=[R])
    assert [(f.rule, f.line) for f in alone] == [("drop-type", 10)]


@pytest.mark.parametrize(
    ("columns", "shown"),
    [
        (["plan"], '"Subscription"."plan" still uses it'),
        (["plan", "p2"], '"Subscription"."plan", "Subscription"."p2" still use it'),
        (
            ["plan", "p2", "p3"],
            '"Subscription"."plan", "Subscription"."p2", "Subscription"."p3" still use it',
        ),
        (
            ["plan", "p2", "p3", "p4"],
            '"Subscription"."plan", "Subscription"."p2", "Subscription"."p3" and 1 more '
            "still use it",
        ),
    ],
)
def test_columns_still_using_the_type_are_named(columns: list[str], shown: str) -> None:
    cols = ", ".join(f'"{c}" "Plan"' for c in columns)
    history = (PLAN + f'\nCREATE TABLE "Subscription" ("id" TEXT NOT NULL, {cols});',)
    (f,) = run('DROP TYPE "Plan";', history=history)
    assert f'Dropping type "Plan": {shown}, so the DROP fails' in f.message


def test_a_dropped_table_that_did_not_use_the_type_does_not_cover_it() -> None:
    history = (PLAN + '\nCREATE TABLE "Audit" ("id" TEXT NOT NULL, "note" TEXT);',)
    sql = 'DROP TABLE "Audit";\nDROP TYPE "Plan";'
    assert everything(sql, history) == [("drop-table", 1, 1), ("drop-type", 2, 1)]
