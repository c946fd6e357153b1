"""drop-type: DROP TYPE / DROP DOMAIN of an existing type; not the end of an enum swap."""

from __future__ import annotations

from helpers import lint_sql, where

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
