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
    assert f.severity == "info" and f.category == "locking"
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


def test_supabase_diff_drops_the_index_its_constraint_already_took() -> None:
    # `supabase db diff` drops a primary key, then "its" index: the index went with the
    # constraint, so DROP INDEX IF EXISTS is a no-op, even on a table the history never showed.
    sql = (
        'alter table "public"."members" drop constraint "members_pkey";\n'
        'drop index if exists "public"."members_pkey";\n'
    )
    assert run(sql, history=()) == []


def test_drop_index_if_exists_of_another_name_still_fires() -> None:
    sql = (
        'alter table "public"."members" drop constraint "members_pkey";\n'
        'drop index if exists "public"."members_email_idx";\n'
    )
    assert where(run(sql, history=()), R) == [(2, 1)]


def test_index_in_another_schema_is_found_by_its_qualified_name() -> None:
    history = (
        "create table storage.objects (id int, name text);\n"
        "create index objects_name_idx on storage.objects (name);",
    )
    findings = run("drop index storage.objects_name_idx;", history=history)
    assert where(findings, R) == [(1, 1)]
    assert 'its table "storage"."objects"' in findings[0].message
    # ... and one this deploy created serves no query yet.
    sql = (
        "create index objects_tmp_idx on storage.objects (name);\n"
        "drop index storage.objects_tmp_idx;\n"
    )
    assert run(sql, history=history) == []


def test_index_renamed_from_an_old_prisma_dotted_name_keeps_its_table() -> None:
    # Prisma 2 named indexes "Table.column_unique"; its v3 upgrade renames them.
    history = (
        'CREATE TABLE "Team" ("id" SERIAL NOT NULL, "slug" TEXT);\n'
        'CREATE UNIQUE INDEX "Team.slug_unique" ON "Team"("slug");',
        'ALTER INDEX "Team.slug_unique" RENAME TO "Team_slug_key";',
    )
    findings = run('DROP INDEX "Team_slug_key";', history=history)
    assert where(findings, R) == [(1, 1)]
    assert 'its table "Team"' in findings[0].message


def test_one_statement_per_index_is_advised_for_a_list_or_for_cascade_alone() -> None:
    advice = "DROP INDEX CONCURRENTLY drops one index per statement and does not accept CASCADE"
    cascade = run("drop index coupons_code_key cascade;")
    assert where(cascade, R) == [(1, 1)]
    assert advice in cascade[0].help
    listed = run('drop index coupons_code_key, "Membership_userId_idx";')
    assert where(listed, R) == [(1, 12), (1, 30)]
    assert all(advice in f.help for f in listed)
    # The near miss: one index, no CASCADE, nothing to split.
    single = run("drop index coupons_code_key;")
    assert "    DROP INDEX CONCURRENTLY coupons_code_key;" in single[0].help
    assert advice not in single[0].help
