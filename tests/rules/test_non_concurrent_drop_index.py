"""non-concurrent-drop-index: DROP INDEX without CONCURRENTLY on a live table's index."""

from __future__ import annotations

from helpers import lint_sql, where

R = "non-concurrent-drop-index"
COUPONS = (
    "create table coupons (id bigserial primary key, code text not null);\n"
    "create unique index coupons_code_key on coupons (code);"
)
PRISMA = (
    'CREATE TABLE "Membership" ("id" TEXT NOT NULL, "userId" TEXT NOT NULL);\n'
    'CREATE INDEX "Membership_userId_idx" ON "Membership"("userId");'
)


def run(sql: str, history: tuple[str, ...] = (COUPONS, PRISMA), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_down_migration_drops_index_of_existing_table() -> None:
    findings = run("drop index if exists coupons_code_key;\n")
    assert where(findings, R) == [(1, 1)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "locking"
    assert 'DROP INDEX "coupons_code_key"' in f.message
    assert 'ACCESS EXCLUSIVE lock on its table "coupons"' in f.message
    assert "every read and write" in f.message
    assert "    DROP INDEX CONCURRENTLY IF EXISTS coupons_code_key;" in f.help


def test_prisma_drop_index() -> None:
    sql = '-- DropIndex\nDROP INDEX "Membership_userId_idx";\n'
    findings = run(sql, tool="prisma")
    assert where(findings, R) == [(2, 1)]
    assert 'its table "Membership"' in findings[0].message
    assert 'DROP INDEX CONCURRENTLY "Membership_userId_idx";' in findings[0].help


def test_unknown_index_is_flagged_without_a_table_name() -> None:
    findings = run("DROP INDEX legacy_idx;", history=())
    assert where(findings, R) == [(1, 1)]
    assert "on its table," in findings[0].message


def test_several_indexes_and_cascade() -> None:
    findings = run("drop index coupons_code_key, legacy_idx cascade;")
    assert where(findings, R) == [(1, 12), (1, 30)]
    assert "one index per statement" in findings[0].help
    assert '"legacy_idx"' in findings[1].message


def test_concurrently_is_quiet() -> None:
    assert run("drop index concurrently if exists coupons_code_key;") == []


def test_index_created_in_this_deploy_is_quiet() -> None:
    sql = (
        "create index coupons_id_code_idx on coupons (id, code);\ndrop index coupons_id_code_idx;\n"
    )
    assert run(sql) == []


def test_index_of_a_new_table_is_quiet() -> None:
    sql = (
        "create table scratch (id int);\n"
        "create index scratch_id_idx on scratch (id);\n"
        "drop index scratch_id_idx;\n"
    )
    assert run(sql) == []
