"""The healthy migrations of issue 3's "Done when": the whole default rule set stays quiet.

Every migration below is judged (each is its own deploy, like files linted as a history),
with every default-enabled rule, so a false alarm from any rule fails here.
"""

from __future__ import annotations

import pytest

from helpers import lint_history, make_history
from migcheck.engine import default_rule_ids

PRISMA_INIT = (
    "-- CreateTable\n"
    'CREATE TABLE "User" (\n'
    '    "id" TEXT NOT NULL,\n'
    '    "email" TEXT NOT NULL,\n'
    '    "name" TEXT,\n'
    '    CONSTRAINT "User_pkey" PRIMARY KEY ("id")\n'
    ");\n\n"
    "-- CreateTable\n"
    'CREATE TABLE "organizations" (\n'
    '    "id" TEXT NOT NULL,\n'
    '    "name" VARCHAR(50) NOT NULL,\n'
    '    CONSTRAINT "organizations_pkey" PRIMARY KEY ("id")\n'
    ");\n\n"
    "-- CreateTable\n"
    'CREATE TABLE "Project" (\n'
    '    "id" TEXT NOT NULL,\n'
    '    "organizationId" TEXT NOT NULL,\n'
    '    CONSTRAINT "Project_pkey" PRIMARY KEY ("id")\n'
    ");\n\n"
    "-- CreateIndex\n"
    'CREATE UNIQUE INDEX "User_email_key" ON "User"("email");\n\n'
    "-- CreateIndex\n"
    'CREATE INDEX "Project_organizationId_idx" ON "Project"("organizationId");\n\n'
    "-- AddForeignKey\n"
    'ALTER TABLE "Project" ADD CONSTRAINT "Project_organizationId_fkey" FOREIGN KEY '
    '("organizationId") REFERENCES "organizations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;\n'
)

SQL_HISTORY = [
    # Tables with their indexes, created together.
    "create table users (id bigserial primary key, email text not null, name text);\n"
    "create unique index users_email_key on users (email);\n"
    "create table orders (id bigserial primary key, user_id bigint references users (id), "
    "status varchar(20) not null default 'new');\n"
    "create index orders_user_id_idx on orders (user_id);\n",
    # Only nullable columns (and catalog-only defaults).
    "alter table users add column last_login_at timestamptz;\n"
    "alter table orders add column note text, add column coupon_id bigint;\n"
    "alter table orders add column currency text not null default 'usd';\n"
    "alter table orders add column created_at timestamptz default now() not null;\n",
    # A new table with its indexes, then indexes on existing tables concurrently, each alone.
    "create table coupons (id bigserial primary key, code text not null);\n"
    "create unique index coupons_code_key on coupons (code);\n",
    "create index concurrently orders_status_idx on orders (status);\n",
    "create index concurrently if not exists orders_coupon_id_idx on orders (coupon_id);\n",
    # NOT VALID constraints, validated in a separate migration.
    "alter table orders add constraint orders_coupon_id_fkey foreign key (coupon_id) "
    "references coupons (id) not valid;\n"
    "alter table users add constraint users_name_not_null check (name is not null) not valid;\n",
    "alter table orders validate constraint orders_coupon_id_fkey;\n",
    "alter table users validate constraint users_name_not_null;\n",
    # SET NOT NULL after the validated check (PG 12+ skips the scan).
    "alter table users alter column name set not null;\n",
    # A widening that PostgreSQL does in the catalog only.
    "alter table orders alter column status type varchar(200);\n",
]


def _lint(migrations: list[str], pg: int, **kw: object) -> list:
    history = make_history(migrations, **kw)  # type: ignore[arg-type]
    return lint_history(history, pg=pg, rules=default_rule_ids(), changeset=False).findings


def _report(findings: list) -> list[str]:
    return [f"{f.path}:{f.line}:{f.column} {f.rule}: {f.message}" for f in findings]


@pytest.mark.parametrize("pg", [12, 14, 16, 18])
def test_healthy_sql_history_is_quiet(pg: int) -> None:
    assert _report(_lint(SQL_HISTORY, pg)) == []


def test_healthy_history_is_quiet_when_each_file_is_one_transaction() -> None:
    # golang-migrate: a multi-statement file is one implicit transaction; the concurrent
    # index files hold a single statement, so they run outside it.
    findings = _lint(SQL_HISTORY, 14, tool="golang-migrate", implicit_transaction=True)
    assert _report(findings) == []


def test_healthy_prisma_history_is_quiet() -> None:
    migrations = [
        PRISMA_INIT,
        "-- AlterTable\n"
        'ALTER TABLE "User" ADD COLUMN     "avatar_url" TEXT,\n'
        'ADD COLUMN     "timezone" TEXT;\n',
        "-- AlterTable\n"
        'ALTER TABLE "Project" ADD COLUMN     "archived" BOOLEAN NOT NULL DEFAULT false,\n'
        'ADD COLUMN     "lastActivityAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;\n',
        "-- AlterTable\n"
        'ALTER TABLE "organizations" ALTER COLUMN "name" SET DATA TYPE VARCHAR(200);\n',
        'CREATE INDEX CONCURRENTLY "User_name_idx" ON "User"("name");\n',
        "-- CreateTable\n"
        'CREATE TABLE "Task" ("id" TEXT NOT NULL, "projectId" TEXT NOT NULL, '
        'CONSTRAINT "Task_pkey" PRIMARY KEY ("id"));\n\n'
        "-- CreateIndex\n"
        'CREATE INDEX "Task_projectId_idx" ON "Task"("projectId");\n\n'
        "-- AddForeignKey\n"
        'ALTER TABLE "Task" ADD CONSTRAINT "Task_projectId_fkey" FOREIGN KEY ("projectId") '
        'REFERENCES "Project"("id") ON DELETE RESTRICT ON UPDATE CASCADE;\n',
    ]
    findings = _lint(migrations, 16, tool="prisma", implicit_transaction=True)
    assert _report(findings) == []


@pytest.mark.parametrize(
    "sql",
    [
        "create table t (a int, b text);\ncreate index t_a_idx on t (a);",
        "create table t (a int);\ncreate unique index t_a_key on t (a);",
    ],
)
def test_index_right_after_its_create_table(sql: str) -> None:
    assert _report(_lint([sql], 14)) == []


@pytest.mark.parametrize("pg", [11, 12, 16])
def test_constant_and_now_defaults_on_pg11_plus(pg: int) -> None:
    migrations = [
        "create table users (id bigint primary key);",
        "alter table users add column plan text not null default 'free';\n"
        "alter table users add column score int default 0;\n"
        "ALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT now() NOT NULL;\n",
    ]
    assert _report(_lint(migrations, pg)) == []


def test_the_same_defaults_rewrite_before_pg11() -> None:
    # Guard: the quiet cases above are quiet because of the version, not by accident.
    migrations = [
        "create table users (id bigint primary key);",
        "ALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT now() NOT NULL;",
    ]
    assert [f.rule for f in _lint(migrations, 10)] == ["volatile-default"]


def test_set_not_null_without_the_check_is_still_reported() -> None:
    # Guard for the SET NOT NULL case: drop the validated check and the scan is reported.
    migrations = [
        "create table users (id bigint primary key, name text);",
        "alter table users alter column name set not null;",
    ]
    # One finding: set-not-null names the scan (set-not-null-scan leaves it to that one).
    (f,) = [f for f in _lint(migrations, 16) if "not-null" in f.rule]
    assert f.rule == "set-not-null" and "It also scans all of" in f.message
