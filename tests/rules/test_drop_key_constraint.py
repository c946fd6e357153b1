"""drop-key-constraint: dropping a PRIMARY KEY / UNIQUE constraint or a unique index breaks
the running app's ON CONFLICT and allows duplicates (tests/live/test_constraint_facts.py
checks the errors on a real server)."""

from __future__ import annotations

from pathlib import Path

from alembic_revisions import lint_revisions
from helpers import lint_sql, where

R = "drop-key-constraint"
USERS = (
    "create table users (id bigint primary key, email text constraint users_email_key unique,"
    " handle text, org bigint, constraint users_org_check check (org > 0));\n"
    "create unique index users_handle_idx on users (handle);\n"
    "create index users_org_idx on users (org);\n"
    "create table posts (id bigint primary key, user_id bigint constraint posts_user_fk "
    "references users);"
)
ON_CONFLICT = (
    "the app version still running gets there is no unique or exclusion constraint "
    "matching the ON CONFLICT specification from INSERT … ON CONFLICT"
)


def run(sql: str, history: tuple[str, ...] = (USERS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_dropping_a_unique_constraint() -> None:
    findings = run("alter table users drop constraint users_email_key;")
    assert where(findings, R) == [(1, 19)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "compatibility"
    assert f.message == (
        'Dropping unique constraint "users_email_key" of "users" (email): '
        f"{ON_CONFLICT} (email), and duplicate values can now be written."
    )
    assert "replica identity" not in f.message
    assert (
        "    ALTER TABLE users DROP CONSTRAINT users_email_key, ADD CONSTRAINT users_email_key "
        "UNIQUE USING INDEX <new_index>;" in f.help
    )


def test_dropping_a_primary_key_names_replication_and_cascade() -> None:
    findings = run("alter table users drop constraint users_pkey cascade;")
    assert where(findings, R) == [(1, 19)]
    m = findings[0].message
    assert m.startswith('Dropping primary key "users_pkey" of "users" (id): ')
    assert (
        'If "users" is published for logical replication with the default replica identity, '
        'every UPDATE and DELETE on it fails with cannot update table "users" because it does '
        "not have a replica identity and publishes updates." in m
    )
    assert m.endswith("CASCADE also drops every foreign key that references it.")
    assert "REPLICA IDENTITY USING INDEX" in findings[0].help
    plain = run("alter table users drop constraint users_pkey;")
    assert "CASCADE" not in plain[0].message


def test_a_new_primary_key_on_other_columns_still_breaks_on_conflict_but_not_replication() -> None:
    sql = "alter table users drop constraint users_pkey, add primary key (id, org);"
    findings = run(sql)
    assert where(findings, R) == [(1, 19)]
    assert "replica identity" not in findings[0].message


def test_a_key_swapped_for_one_on_the_same_columns_is_quiet() -> None:
    swap = (
        "create unique index concurrently users_email_new on users (email);\n"
        "alter table users drop constraint users_email_key,\n"
        "  add constraint users_email_key unique using index users_email_new;"
    )
    assert run(swap) == []
    pk = "alter table users drop constraint users_pkey, add primary key (id);"
    assert run(pk) == []
    # Near miss: the new unique index covers other columns.
    other = swap.replace("on users (email)", "on users (email, org)")
    assert where(run(other), R) == [(2, 19)]


def test_other_constraints_unknown_ones_and_new_tables_are_quiet() -> None:
    assert run("alter table users drop constraint users_org_check;") == []
    assert run("alter table posts drop constraint posts_user_fk;") == []
    assert run("alter table users drop constraint never_seen;") == []
    new = (
        "create table drafts (id bigint, slug text constraint drafts_slug_key unique);\n"
        "alter table drafts drop constraint drafts_slug_key;"
    )
    assert run(new) == []


def test_dropping_a_unique_index() -> None:
    findings = run("drop index users_handle_idx;")
    assert where(findings, R) == [(1, 1)]
    assert findings[0].message == (
        'Dropping unique index "users_handle_idx" of "users": '
        f"{ON_CONFLICT} (handle) that this index answers, and duplicate values can now be "
        "written."
    )
    # Not unique, or owned by a constraint (PostgreSQL refuses that drop): quiet.
    assert run("drop index users_org_idx;") == []
    assert run("drop index users_email_key;") == []
    # Replaced by a unique index on the same column in the same migration: quiet.
    again = "drop index users_handle_idx;\ncreate unique index users_handle_key on users (handle);"
    assert run(again) == []


def test_prisma_removing_unique_drops_its_index() -> None:
    history = (
        'CREATE TABLE "User" ("id" TEXT NOT NULL, "email" TEXT NOT NULL, '
        'CONSTRAINT "User_pkey" PRIMARY KEY ("id"));\n'
        'CREATE UNIQUE INDEX "User_email_key" ON "User"("email");'
    )
    sql = '-- DropIndex\nDROP INDEX "User_email_key";'
    findings = run(sql, history=(history,), tool="prisma")
    assert where(findings, R) == [(2, 1)]
    assert "INSERT … ON CONFLICT (email)" in findings[0].message


def test_alembic_drop_constraint(tmp_path: Path) -> None:
    findings = lint_revisions(
        tmp_path,
        [
            """
            op.create_table(
                "users",
                sa.Column("id", sa.BigInteger(), primary_key=True),
                sa.Column("email", sa.Text()),
                sa.UniqueConstraint("email", name="uq_users_email"),
            )
            """,
            'op.drop_constraint("uq_users_email", "users", type_="unique")',
        ],
        [R],
    )
    assert [(Path(f.path).name, f.line, f.rule) for f in findings] == [("r2.py", 6, R)]
    assert 'unique constraint "uq_users_email" of "users" (email)' in findings[0].message


def test_a_key_dropped_before_its_table_is_quiet() -> None:
    sql = "alter table users drop constraint users_email_key;\ndrop table users cascade;"
    assert run(sql) == []
    near = "alter table users drop constraint users_email_key;\ndrop table posts;"
    assert where(run(near), R) == [(1, 19)]


def test_schema_qualified_indexes() -> None:
    history = (
        "create table app.users (id bigint constraint users_pkey primary key, handle text);\n"
        "create unique index users_handle_idx on app.users (handle);",
    )
    findings = run("drop index app.users_handle_idx;", history=history)
    assert where(findings, R) == [(1, 1)]
    assert '"app"."users"' in findings[0].message
    # The primary key's own index: PostgreSQL refuses the drop, nothing to report.
    assert run("drop index app.users_pkey;", history=history) == []


def test_a_key_swapped_in_using_an_index_built_earlier() -> None:
    # The index was built CONCURRENTLY by an earlier migration: only USING INDEX says which
    # columns the new constraint covers.
    built = (USERS, "create unique index concurrently users_email_new on users (email);")
    swap = (
        "alter table users drop constraint users_email_key,\n"
        "  add constraint users_email_key unique using index users_email_new;"
    )
    assert run(swap, history=built) == []
    other = (USERS, "create unique index concurrently users_email_new on users (email, org);")
    assert where(run(swap, history=other), R) == [(1, 19)]


def test_what_does_not_replace_a_key() -> None:
    drop = "alter table users drop constraint users_email_key;\n"
    # A plain (non-unique) index on the same column enforces nothing.
    assert where(run(drop + "create index users_email_plain on users (email);"), R) == [(1, 19)]
    # A unique constraint on the same column name of another table.
    history = (USERS + "\ncreate table admins (id bigint, email text);",)
    other_table = drop + "alter table admins add constraint admins_email_key unique (email);"
    assert where(run(other_table, history=history), R) == [(1, 19)]
    # A partial unique index is no key for ON CONFLICT (email).
    partial = drop + "create unique index users_email_p on users (email) where org > 0;"
    assert where(run(partial), R) == [(1, 19)]


# Precision round 3 (langfuse, ckan): the rest of the migration makes up for the drop.
API_KEYS = (
    'CREATE TABLE "api_keys" ("id" TEXT NOT NULL, "publishable_key" TEXT NOT NULL, '
    'CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id"));\n'
    'CREATE UNIQUE INDEX "api_keys_publishable_key_key" ON "api_keys"("publishable_key");'
)
RENAMED = (
    "-- DropIndex\n"
    'DROP INDEX "api_keys_publishable_key_key";\n\n'
    "-- RENAME column\n"
    'ALTER TABLE "api_keys" rename column "publishable_key" to "public_key";\n\n'
    "-- CreateIndex\n"
    'CREATE UNIQUE INDEX "api_keys_public_key_key" ON "api_keys"("public_key");'
)


def test_unique_index_rebuilt_on_the_renamed_column_is_quiet() -> None:
    # langfuse 20230907225604: after commit the same column is unique again (PostgreSQL
    # rejects the duplicate: tests/live/test_live_key_cover.py); rename-column reports.
    assert run(RENAMED, history=(API_KEYS,), tool="prisma") == []
    # Near miss: the rebuilt index is on another column.
    other = RENAMED.replace('"api_keys"("public_key")', '"api_keys"("id", "public_key")')
    findings = run(other, history=(API_KEYS,), tool="prisma")
    assert where(findings, R) == [(2, 1)]
    assert findings[0].message.endswith("and duplicate values can now be written.")


SESSION = (
    'CREATE TABLE "Session" ("id" TEXT NOT NULL, "sessionToken" TEXT NOT NULL, '
    'CONSTRAINT "Session_pkey" PRIMARY KEY ("id"));\n'
    'CREATE UNIQUE INDEX "Session_sessionToken_key" ON "Session"("sessionToken");'
)


def test_unique_index_whose_column_the_migration_drops_is_quiet() -> None:
    # langfuse 20230530204241: nothing can be written to a column that no longer exists;
    # drop-column reports the change the running app notices.
    sql = (
        'DROP INDEX "Session_sessionToken_key";\n'
        'ALTER TABLE "Session" DROP COLUMN "sessionToken",\n'
        'ADD COLUMN     "session_token" TEXT NOT NULL;'
    )
    assert run(sql, history=(SESSION,), tool="prisma") == []
    # Near miss: another column is dropped; "sessionToken" stays and loses its uniqueness.
    near = sql.replace('DROP COLUMN "sessionToken"', 'DROP COLUMN "id"')
    assert where(run(near, history=(SESSION,), tool="prisma"), R) == [(1, 1)]


def test_a_unique_constraint_whose_column_is_dropped_is_quiet() -> None:
    sql = "alter table users drop constraint users_email_key;\nalter table users drop column email;"
    assert run(sql) == []
    near = "alter table users drop constraint users_email_key;\nalter table users drop column org;"
    assert where(run(near), R) == [(1, 19)]


ACTIVE_EMAIL = (
    'CREATE TABLE "user" ("id" TEXT PRIMARY KEY, "email" TEXT, "state" TEXT);\n'
    'CREATE UNIQUE INDEX "idx_only_one_active_email" ON "user"("email", "state") '
    "WHERE \"state\" = 'active';"
)
STRICTER = (
    'CREATE UNIQUE INDEX "idx_only_one_active_email_no_case" ON "user"(lower("email")) '
    "WHERE \"state\" = 'active';\n"
    'DROP INDEX "idx_only_one_active_email";'
)


def test_a_stricter_index_built_first_keeps_duplicates_out_but_not_on_conflict() -> None:
    # ckan 108_f7b64c701a10: lower(email) among active rows rejects every duplicate that
    # (email, state) among active rows did; ON CONFLICT (email, state) WHERE … has no
    # arbiter any more (both verified in tests/live/test_live_key_cover.py).
    findings = run(STRICTER, history=(ACTIVE_EMAIL,), tool="prisma")
    assert where(findings, R) == [(2, 1)]
    assert findings[0].message == (
        'Dropping unique index "idx_only_one_active_email" of "user": '
        f"{ON_CONFLICT} (email, state) WHERE (state = 'active') that this index answers. "
        'Duplicate values stay rejected by unique index "idx_only_one_active_email_no_case" '
        "(line 1), whose keys are computed from these columns; only upserts naming the "
        "dropped one's exact keys lose their arbiter."
    )
    # Near miss: another predicate does not cover the old one's rows.
    deleted = STRICTER.replace("WHERE \"state\" = 'active'", "WHERE \"state\" = 'deleted'")
    findings = run(deleted, history=(ACTIVE_EMAIL,), tool="prisma")
    assert where(findings, R) == [(2, 1)]
    assert findings[0].message.endswith("and duplicate values can now be written.")
    # Near miss: a key the old index did not have (id) is no function of its keys.
    wider = STRICTER.replace('(lower("email"))', '(lower("email"), "id")')
    assert run(wider, history=(ACTIVE_EMAIL,), tool="prisma")[0].message.endswith(
        "and duplicate values can now be written."
    )


def test_the_same_keys_without_the_predicate_replace_a_partial_index() -> None:
    # A non-partial unique index on the same keys answers ON CONFLICT (email, state)
    # WHERE state = 'active' too, and rejects more duplicates, not fewer.
    sql = (
        'CREATE UNIQUE INDEX "user_email_state" ON "user"("state", "email");\n'
        'DROP INDEX "idx_only_one_active_email";'
    )
    assert run(sql, history=(ACTIVE_EMAIL,), tool="prisma") == []
    # The same predicate spelled another way (qualified, unquoted, parenthesised).
    same = sql.replace('("state", "email");', "(email, state) WHERE (\"user\".state = 'active');")
    assert run(same, history=(ACTIVE_EMAIL,), tool="prisma") == []


def test_a_subset_unique_constraint_keeps_duplicates_out() -> None:
    history = (USERS + "\ncreate unique index users_email_org on users (email, org);",)
    findings = run("drop index users_email_org;", history=history)
    assert where(findings, R) == [(1, 1)]
    assert 'stay rejected by unique index "users_email_key", whose keys' in findings[0].message


def test_alembic_stricter_index_then_drop(tmp_path: Path) -> None:
    # ckan 108_f7b64c701a10, verbatim op calls.
    findings = lint_revisions(
        tmp_path,
        [
            """
            op.create_table(
                "user",
                sa.Column("id", sa.Text(), primary_key=True),
                sa.Column("email", sa.Text()),
                sa.Column("state", sa.Text()),
            )
            op.create_index(
                "idx_only_one_active_email", "user", ["email", "state"],
                unique=True, postgresql_where=sa.text('"user".state=\\'active\\''))
            """,
            """
            op.create_index(
                "idx_only_one_active_email_no_case", "user",
                [sa.func.lower(sa.Column('email'))],
                unique=True, postgresql_where=sa.text('"user".state=\\'active\\''))
            op.drop_index("idx_only_one_active_email")
            """,
        ],
        [R],
    )
    assert [(Path(f.path).name, f.line, f.column, f.rule) for f in findings] == [
        ("r2.py", 10, 5, R)
    ]
    assert "Duplicate values stay rejected" in findings[0].message


def test_what_does_not_cover_a_dropped_unique_index() -> None:
    history = (USERS + "\ncreate unique index users_org_u on users (org);",)
    drop = "drop index users_org_u;\n"
    # users_org_idx (org) exists but is not unique: it rejects nothing.
    findings = run(drop, history=history)
    assert where(findings, R) == [(1, 1)]
    assert findings[0].message.endswith("and duplicate values can now be written.")
    # A foreign key on the column is no unique key.
    fk = drop + "alter table users add constraint users_org_fk foreign key (org) references posts;"
    assert run(fk, history=history)[0].message.endswith("and duplicate values can now be written.")
    # users_handle_idx (handle) covers (org, handle), unless the migration drops it too.
    pair = (USERS + "\ncreate unique index users_org_handle on users (org, handle);",)
    one = "drop index users_org_handle;\n"
    assert 'by unique index "users_handle_idx", whose' in run(one, history=pair)[0].message
    findings = run(one + "drop index users_handle_idx;", history=pair)
    assert where(findings, R) == [(1, 1), (2, 1)]
    assert findings[0].message.endswith("and duplicate values can now be written.")


def test_a_covering_key_added_by_the_same_migration_is_named() -> None:
    history = ("create table t (a int, b int);\ncreate unique index t_ab on t (a, b);",)
    sql = "drop index t_ab;\nalter table t add constraint t_a_key unique (a);"
    findings = run(sql, history=history)
    assert where(findings, R) == [(1, 1)]
    assert 'stay rejected by unique index "t_a_key" (line 2), whose keys' in findings[0].message
    # A covering key on a column that is renamed away afterwards still covers; one on a
    # column whose old name matches only before the rename is judged by that old name.
    renamed = "create unique index t_b on t (b);\ndrop index t_ab;\nalter table t rename b to c;"
    assert 'by unique index "t_b" (line 1)' in run(renamed, history=history)[0].message


def test_a_unique_index_rebuilt_after_two_renames_is_quiet() -> None:
    sql = RENAMED.replace(
        'rename column "publishable_key" to "public_key";',
        'rename column "publishable_key" to "tmp_key";\n'
        'ALTER TABLE "api_keys" rename column "tmp_key" to "public_key";',
    )
    assert run(sql, history=(API_KEYS,), tool="prisma") == []


def test_a_unique_index_dropped_before_its_table_is_quiet() -> None:
    assert run("drop index users_handle_idx;\ndrop table users cascade;") == []
    assert where(run("drop index users_handle_idx;\ndrop table posts;"), R) == [(1, 1)]


def test_keys_the_history_cannot_compare_still_fire() -> None:
    # NULLS NOT DISTINCT rejects duplicate NULLs too, which a default index does not:
    # migcheck does not compare such keys, so even the same columns do not replace it.
    history = (USERS + "\ncreate unique index users_org_nnd on users (org) nulls not distinct;",)
    sql = "drop index users_org_nnd;\ncreate unique index users_org_u on users (org);"
    assert where(run(sql, history=history), R) == [(1, 1)]
    # A unique constraint whose columns the history does not show (USING INDEX of an
    # index it never saw) is reported with what is known.
    unknown = (USERS + "\nalter table users add constraint users_x_key unique using index nope;",)
    findings = run("alter table users drop constraint users_x_key;", history=unknown)
    assert where(findings, R) == [(1, 19)]
    assert "ON CONFLICT (…)" in findings[0].message


def test_the_covering_index_line_is_its_own() -> None:
    history = ("create table t (a int, b int);\ncreate unique index t_ab on t (a, b);",)
    sql = "create index t_b_plain on t (b);\ncreate unique index t_a on t (a);\ndrop index t_ab;"
    findings = run(sql, history=history)
    assert where(findings, R) == [(3, 1)]
    assert 'by unique index "t_a" (line 2)' in findings[0].message
    qualified = ("create table app.t (a int, b int);\ncreate unique index t_ab on app.t (a, b);",)
    sql = "create unique index t_a on app.t (a);\ndrop index app.t_ab;"
    findings = run(sql, history=qualified)
    assert where(findings, R) == [(2, 1)]
    assert 'by unique index "app"."t_a" (line 1)' in findings[0].message
