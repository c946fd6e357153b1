"""hold-exclusive-lock: an ACCESS EXCLUSIVE lock held while later statements of the same
transaction do slow work or wait for other tables' locks. Reported once per transaction,
on the statement that took the lock."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where

R = "hold-exclusive-lock"
PRISMA = (
    'CREATE TABLE "User" ("id" TEXT NOT NULL, CONSTRAINT "User_pkey" PRIMARY KEY ("id"));\n'
    'CREATE TABLE "Project" ("id" TEXT NOT NULL, "name" TEXT);\n'
    'CREATE TABLE "Subscription" ("id" TEXT NOT NULL, "plan" TEXT);\n'
    'CREATE TABLE "Invite" ("id" TEXT NOT NULL, "organizationId" TEXT);'
)
SQL = (
    "create table users (id bigserial primary key, full_name text);\n"
    "create table orders (id bigserial primary key, user_id bigint, status text);\n"
    "CREATE TABLE invoice (id bigint primary key);"
)


def run(sql: str, history: tuple[str, ...] = (PRISMA, SQL), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_prisma_add_column_then_foreign_key() -> None:
    sql = (
        "-- AlterTable\n"
        'ALTER TABLE "Project" ADD COLUMN     "ownerId" TEXT;\n\n'
        "-- AddForeignKey\n"
        'ALTER TABLE "Project" ADD CONSTRAINT "Project_ownerId_fkey" FOREIGN KEY ("ownerId") '
        'REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;\n'
    )
    findings = run(sql, tool="prisma", implicit_transaction=True)
    # Reported on the statement that took the lock, pointing at its action.
    assert where(findings, R) == [(2, 23)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "locking"
    assert 'ACCESS EXCLUSIVE lock on "Project"' in f.message
    assert "Prisma (version unknown, assumed older than 7.4)" in f.message
    assert 'line 5 validates foreign key "Project_ownerId_fkey" by scanning "Project"' in f.message
    assert "move line 5" in f.help and "lock_timeout" in f.help
    assert f.statement.startswith('ALTER TABLE "Project" ADD COLUMN')


def test_golang_migrate_add_column_then_backfill() -> None:
    sql = (
        "alter table users add column if not exists display_name text;\n\n"
        "update users set display_name = full_name;\n"
    )
    findings = run(sql, tool="golang-migrate", implicit_transaction=True)
    assert where(findings, R) == [(1, 19)]
    assert 'line 3 updates every row of "users"' in findings[0].message


def test_reported_once_per_transaction() -> None:
    sql = (
        "begin;\n"
        "alter table users add column nickname text;\n"
        "create index users_nickname_idx on users (nickname);\n"
        "update users set nickname = full_name;\n"
        "alter table orders add column note text;\n"
        "commit;\n"
        "begin;\n"
        "alter table orders add column note2 text;\n"
        "update orders set note2 = status;\n"
        "commit;\n"
    )
    findings = run(sql)
    assert where(findings, R) == [(2, 19), (8, 20)]
    assert "line 3 builds index" in findings[0].message
    assert "COMMIT right after it" in findings[0].help


def test_quick_alters_of_two_tables_are_quiet() -> None:
    # Waiting for the second table's lock is lock_timeout's business; issue 3 requires a
    # migration that only adds nullable columns to stay quiet.
    sql = "alter table users add column a text;\nalter table orders add column b text;\n"
    assert run(sql, runner_transaction=True, tool="flyway") == []


def test_runner_note_is_quoted() -> None:
    sql = "alter table users add column a text;\nalter table orders add column b text default 0;\n"
    findings = run(
        sql + "create index orders_b_idx on orders (b);", runner_transaction=True, tool="flyway"
    )
    assert where(findings, R) == [(1, 19)]
    assert "Flyway runs each migration inside a transaction" in findings[0].message
    assert 'line 3 builds index "orders_b_idx" on "orders"' in findings[0].message


def test_statement_that_needs_access_exclusive_on_the_same_table_does_not_count() -> None:
    # Flyway V2: the CHECK needs ACCESS EXCLUSIVE on invoice itself.
    sql = (
        "ALTER TABLE invoice ADD COLUMN status VARCHAR(20) NOT NULL DEFAULT 'DRAFT';\n\n"
        "ALTER TABLE invoice\n"
        "    ADD CONSTRAINT chk_invoice_status CHECK (status IN ('DRAFT', 'SENT'));\n"
    )
    assert run(sql, tool="flyway", runner_transaction=True) == []


def test_prisma_enum_swap_is_quiet() -> None:
    sql = (
        "BEGIN;\n"
        "CREATE TYPE \"Plan_new\" AS ENUM ('FREE', 'PRO');\n"
        'ALTER TABLE "Subscription" ALTER COLUMN "plan" DROP DEFAULT;\n'
        'ALTER TABLE "Subscription" ALTER COLUMN "plan" TYPE "Plan_new" USING '
        '("plan"::text::"Plan_new");\n'
        'ALTER TYPE "Plan" RENAME TO "Plan_old";\n'
        'ALTER TYPE "Plan_new" RENAME TO "Plan";\n'
        'DROP TYPE "Plan_old";\n'
        'ALTER TABLE "Subscription" ALTER COLUMN "plan" SET DEFAULT \'FREE\';\n'
        "COMMIT;\n"
    )
    assert run(sql, tool="prisma", implicit_transaction=True) == []


def test_drop_constraint_then_drop_table_is_quiet() -> None:
    sql = (
        'ALTER TABLE "Invite" DROP CONSTRAINT "Invite_organizationId_fkey";\n\n'
        'DROP TABLE "Invite";\n'
    )
    assert run(sql, tool="prisma", implicit_transaction=True) == []


@pytest.mark.parametrize(
    "sql",
    [
        # Each statement commits on its own without a transaction.
        "alter table users add column a text;\nupdate users set a = full_name;",
        # New tables: nothing serves traffic from them.
        "begin;\ncreate table t (a int);\nalter table t add column b int;\n"
        "create index t_a_idx on t (a);\nupdate t set b = a;\ncommit;",
        # Quick statements after the lock: SET, COMMIT, a batch with WHERE, CREATE TABLE.
        "begin;\nalter table users add column a text;\nset local statement_timeout = '1s';\n"
        "update users set a = full_name where id = 1;\ncreate table t (a int);\ncommit;",
    ],
)
def test_quiet(sql: str) -> None:
    assert run(sql) == []


def test_lock_taken_after_the_slow_statement_is_quiet() -> None:
    sql = "begin;\nupdate users set full_name = '';\nalter table users add column a text;\ncommit;"
    assert run(sql) == []


def test_lock_on_a_table_the_transaction_then_drops_adds_nothing() -> None:
    # Prisma: drop the join table's foreign keys, drop the table, then build an index on
    # another table. The DROP TABLE holds its own lock to the end; drop-table reports it.
    sql = (
        'ALTER TABLE "_OrgToUser" DROP CONSTRAINT "_OrgToUser_A_fkey";\n'
        'DROP TABLE "_OrgToUser";\n'
        'CREATE UNIQUE INDEX "Member_org_user_key" ON "Member"("orgId", "userId");\n'
    )
    assert run(sql, tool="prisma", implicit_transaction=True) == []
    # While the table still stands, the index build does prolong the lock.
    kept = sql.replace('DROP TABLE "_OrgToUser";\n', "")
    findings = run(kept, tool="prisma", implicit_transaction=True)
    assert where(findings, "hold-exclusive-lock") == [(1, 26)]
