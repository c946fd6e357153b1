"""unique-without-index: ADD UNIQUE / PRIMARY KEY / EXCLUDE building its index under
ACCESS EXCLUSIVE."""

from __future__ import annotations

from pathlib import Path

import pytest

from alembic_help import upgrade_code
from alembic_revisions import lint_revisions
from helpers import lint_alembic, lint_sql, where

R = "unique-without-index"
USERS_APP = (
    'op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True), '
    'sa.Column("email", sa.String(100), nullable=False), sa.Column("bio", sa.Text()), '
    'schema="app")'
)
SQL = (
    "create table coupons (id bigint not null, code text not null);\n"
    "create table bookings (id bigint primary key, room int, during tstzrange);"
)
PRISMA = 'CREATE TABLE "User" ("id" TEXT NOT NULL, "email" TEXT NOT NULL);'


def run(sql: str, history: tuple[str, ...] = (SQL, PRISMA), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_unique_constraint_on_existing_table() -> None:
    findings = run("alter table coupons add constraint coupons_code_key unique (code);")
    assert where(findings, R) == [(1, 21)]
    f = findings[0]
    assert f.severity == "error" and f.category == "locking"
    assert 'UNIQUE constraint "coupons_code_key" to existing table "coupons"' in f.message
    assert "ACCESS EXCLUSIVE" in f.message and "every read and write" in f.message
    assert "    CREATE UNIQUE INDEX CONCURRENTLY coupons_code_key ON coupons (code);" in f.help
    assert (
        "    ALTER TABLE coupons ADD CONSTRAINT coupons_code_key UNIQUE USING INDEX "
        "coupons_code_key;" in f.help
    )


def test_primary_key_in_multi_action_alter() -> None:
    sql = (
        'ALTER TABLE "User" ADD COLUMN "name" TEXT,\n'
        '  ADD CONSTRAINT "User_pkey" PRIMARY KEY ("id");\n'
    )
    findings = run(sql, tool="prisma")
    assert where(findings, R) == [(2, 3)]
    h = findings[0].help
    assert 'CREATE UNIQUE INDEX CONCURRENTLY "User_pkey" ON "User" (id);' in h
    assert 'ADD CONSTRAINT "User_pkey" PRIMARY KEY USING INDEX "User_pkey";' in h
    assert "NOT NULL" in h


def test_unnamed_primary_key_uses_postgres_names() -> None:
    findings = run("alter table coupons add primary key (id);")
    assert "ADD CONSTRAINT coupons_pkey PRIMARY KEY USING INDEX coupons_id_idx;" in findings[0].help


def test_add_column_unique() -> None:
    findings = run('ALTER TABLE "User" ADD COLUMN "handle" TEXT UNIQUE;')
    assert where(findings, R) == [(1, 20)]
    h = findings[0].help
    assert '    ALTER TABLE "User" ADD COLUMN handle TEXT;' in h
    assert 'CREATE UNIQUE INDEX CONCURRENTLY "User_handle_idx" ON "User" (handle);' in h


def test_exclude_has_no_non_blocking_form() -> None:
    sql = "alter table bookings add constraint no_overlap exclude using gist (room with =, during with &&);"
    findings = run(sql)
    assert where(findings, R) == [(1, 22)]
    assert "no non-blocking form" in findings[0].help
    assert "lock_timeout" in findings[0].help


@pytest.mark.parametrize(
    "sql",
    [
        "alter table coupons add constraint coupons_code_key unique using index coupons_code_key;",
        "alter table coupons add constraint coupons_pkey primary key using index coupons_id_idx;",
        "create table t (id int);\nalter table t add constraint t_pkey primary key (id);",
        "create unique index concurrently coupons_code_key on coupons (code);",
    ],
)
def test_quiet(sql: str) -> None:
    assert run(sql) == []


NULLABLE = "create table members (id bigint, email text not null);"
MEMBER_CHECK = (
    "alter table members add constraint members_id_not_null check (id is not null) not valid;\n"
    "alter table members validate constraint members_id_not_null;"
)


def test_primary_key_on_a_nullable_column_names_the_second_scan_and_the_check_step() -> None:
    findings = run("alter table members add primary key (id);", history=(NULLABLE,))
    assert where(findings, R) == [(1, 21)]
    f = findings[0]
    assert f.message.endswith(
        'It also makes "members"."id" NOT NULL, which takes a second full scan under the '
        "same lock and fails if any row holds NULL."
    )
    lines = f.help.splitlines()
    # The CHECK comes first, so following the help never leads into the NOT NULL scan.
    assert lines[:5] == [
        "First prove the key columns hold no NULL without blocking traffic (backfill any "
        "NULLs before), so the primary key does not scan for them (PostgreSQL 12+):",
        "    ALTER TABLE members ADD CONSTRAINT members_id_not_null CHECK (id IS NOT NULL) "
        "NOT VALID;",
        "    -- next migration (SHARE UPDATE EXCLUSIVE: reads and writes continue):",
        "    ALTER TABLE members VALIDATE CONSTRAINT members_id_not_null;",
        "Then, in the next migration:",
    ]
    assert lines.index("Then, in the next migration:") < next(
        i for i, line in enumerate(lines) if "PRIMARY KEY USING INDEX" in line
    )
    # Following the help to its end is quiet for implicit-not-null-scan.
    attach = (
        "alter table members add constraint members_pkey primary key using index members_id_idx;"
    )
    built = "create unique index concurrently members_id_idx on members (id);"
    assert (
        lint_sql(attach, history=[NULLABLE, MEMBER_CHECK, built], rules=["implicit-not-null-scan"])
        == []
    )


def test_primary_key_on_not_null_or_proven_columns_keeps_the_short_help() -> None:
    for history in ((SQL,), (NULLABLE, MEMBER_CHECK)):
        table = "coupons" if history == (SQL,) else "members"
        findings = run(f"alter table {table} add primary key (id);", history=history)
        f = findings[0]
        assert "second full scan" not in f.message
        assert "First prove" not in f.help
        assert "PRIMARY KEY USING INDEX also makes its columns NOT NULL" in f.help


def test_primary_key_on_a_nullable_column_before_postgres_12() -> None:
    findings = run(
        "alter table members add primary key (id);", history=(NULLABLE, MEMBER_CHECK), pg=11
    )
    f = findings[0]
    assert "second full scan" in f.message
    assert "First prove" not in f.help
    assert "PostgreSQL 11 cannot skip the NOT NULL scan" in f.help


def test_prisma_primary_key_on_a_nullable_column() -> None:
    history = ('CREATE TABLE "Member" ("id" TEXT, "name" TEXT NOT NULL);',)
    sql = 'ALTER TABLE "Member" ADD CONSTRAINT "Member_pkey" PRIMARY KEY ("id");'
    findings = run(sql, history=history, tool="prisma")
    assert where(findings, R) == [(1, 22)]
    assert 'It also makes "Member"."id" NOT NULL' in findings[0].message
    assert (
        'ALTER TABLE "Member" ADD CONSTRAINT "Member_id_not_null" CHECK (id IS NOT NULL) NOT VALID;'
        in findings[0].help
    )


def test_alembic_create_primary_key_on_a_nullable_column(tmp_path: Path) -> None:
    findings = lint_revisions(
        tmp_path,
        [
            'op.create_table("members", sa.Column("id", sa.BigInteger()), sa.Column("name", sa.Text()))',
            'op.create_primary_key("pk_members", "members", ["id"])',
        ],
        [R],
    )
    assert [(Path(f.path).name, f.line, f.rule) for f in findings] == [("r2.py", 6, R)]
    assert 'It also makes "members"."id" NOT NULL' in findings[0].message
    assert (
        'op.create_check_constraint("members_id_not_null", "members", "id IS NOT NULL", '
        "postgresql_not_valid=True)" in findings[0].help
    )
    # The SQL comment between the two steps stays a comment, as Python.
    assert "\n    # next revision (SHARE UPDATE EXCLUSIVE: " in upgrade_code(findings[0].help)


def test_partitioned_table_help_does_not_lead_with_concurrently() -> None:
    history = (
        "create table events (id bigint not null, at date not null) partition by range (at);\n"
        "create table events_2026 partition of events for values from ('2026-01-01') to "
        "('2027-01-01');",
    )
    findings = run("alter table events add primary key (id, at);", history=history)
    assert where(findings, R) == [(1, 20)]
    h = findings[0].help
    assert "CREATE UNIQUE INDEX CONCURRENTLY" not in h
    assert "ADD CONSTRAINT USING INDEX is not supported on partitioned tables" in h
    assert h.endswith(
        "    SET lock_timeout = '5s';\n    ALTER TABLE events ADD primary key (id, at);"
    )
    # Near miss: a plain table gets the CONCURRENTLY recipe.
    plain = run("alter table coupons add primary key (id);")
    assert "CREATE UNIQUE INDEX CONCURRENTLY" in plain[0].help


def _held(sql: str) -> list:
    """hold-exclusive-lock's findings when ``sql`` runs after a quick DDL on "bookings"."""
    tx = f"BEGIN;\nalter table bookings add column note text;\n{sql}\nCOMMIT;"
    return lint_sql(tx, history=[SQL, PRISMA], rules=["hold-exclusive-lock"])


def test_slow_work_is_the_index_build() -> None:
    findings = _held("alter table coupons add constraint coupons_code_key unique (code);")
    assert 'line 3 builds the index of a new unique constraint on "coupons"' in findings[0].message
    findings = _held('ALTER TABLE "User" ADD COLUMN "handle" TEXT UNIQUE;')
    assert 'line 3 builds an index on the new column "handle"' in findings[0].message
    quiet = [
        "alter table coupons add constraint k unique using index coupons_code_idx;",
        'ALTER TABLE "User" ADD COLUMN "nick" TEXT;',
        "create table t2 (x int);\nalter table t2 add constraint t2_x_key unique (x);",
    ]
    for sql in quiet:
        assert _held(sql) == [], sql


def test_add_column_if_not_exists_of_an_existing_column_builds_nothing() -> None:
    sql = "alter table coupons add column if not exists code text unique;"
    assert run(sql) == []
    assert _held(sql) == []
    assert where(run(sql.replace("code text", "code2 text")), R) == [(1, 21)]


def test_postgres_12_uses_the_check_for_a_primary_key() -> None:
    findings = run("alter table members add primary key (id);", history=(NULLABLE,), pg=12)
    assert findings[0].help.startswith("First prove the key columns hold no NULL")
    proven = run(
        "alter table members add primary key (id);", history=(NULLABLE, MEMBER_CHECK), pg=12
    )
    assert "second full scan" not in proven[0].message


def test_schema_qualified_table_names_the_check_by_the_table() -> None:
    history = ("create table app.members (id bigint, email text);",)
    findings = run("alter table app.members add primary key (id);", history=history)
    assert (
        "    ALTER TABLE app.members ADD CONSTRAINT members_id_not_null CHECK (id IS NOT NULL) "
        "NOT VALID;" in findings[0].help
    )
    assert (
        "CREATE UNIQUE INDEX CONCURRENTLY members_id_idx ON app.members (id);" in findings[0].help
    )


def test_alembic_help_builds_the_index_with_op_create_index(tmp_path: Path) -> None:
    body = 'op.create_unique_constraint("users_email_key", "users", ["email"], schema="app")'
    (f,) = [f for f in lint_alembic(tmp_path, USERS_APP, body, rules=[R]) if f.rule == R]
    assert (f.line, f.column) == (9, 5)
    code = upgrade_code(f.help)
    assert (
        "    with op.get_context().autocommit_block():\n"
        '        op.create_index("users_email_key", "users", ["email"], unique=True, '
        'schema="app", postgresql_concurrently=True)\n'
        '    op.execute("ALTER TABLE app.users ADD CONSTRAINT users_email_key UNIQUE USING '
        'INDEX users_email_key")'
    ) in code


def test_alembic_help_adds_the_column_with_its_default_first(tmp_path: Path) -> None:
    body = """op.execute("ALTER TABLE app.users ADD COLUMN code citext UNIQUE DEFAULT 'x'")"""
    (f,) = [f for f in lint_alembic(tmp_path, USERS_APP, body, rules=[R]) if f.rule == R]
    code = upgrade_code(f.help)
    # An unknown type's note goes after the call's closing parentheses.
    assert (
        'op.add_column("users", sa.Column("code", sa.types.NullType(), server_default='
        """sa.text("'x'")), schema="app")  # citext: your model's type"""
    ) in code


def test_alembic_exclusion_help_is_op_execute_calls(tmp_path: Path) -> None:
    body = 'op.execute("ALTER TABLE app.users ADD CONSTRAINT no_overlap EXCLUDE (id WITH =)")'
    (f,) = [f for f in lint_alembic(tmp_path, USERS_APP, body, rules=[R]) if f.rule == R]
    code = upgrade_code(f.help)
    assert """    op.execute("SET lock_timeout = '5s'")\n""" in code
    assert 'op.execute("ALTER TABLE app.users ADD CONSTRAINT no_overlap EXCLUDE' in code
