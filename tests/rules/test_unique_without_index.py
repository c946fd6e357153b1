"""unique-without-index: ADD UNIQUE / PRIMARY KEY / EXCLUDE building its index under
ACCESS EXCLUSIVE."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where

R = "unique-without-index"
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
