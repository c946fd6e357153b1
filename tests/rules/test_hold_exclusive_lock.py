"""hold-exclusive-lock: a write-blocking lock held while later statements of the same
transaction do slow work or wait for other tables' locks. Reported once per transaction,
on the statement that took the lock."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where
from migcheck.rules import all_rules

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


# --- every write-blocking lock, named by its mode; one finding per held lock (issue 12) ---
SQL_PAIR = (
    "create table users (id bigint primary key, email text, full_name text);\n"
    "create table orders (id bigint primary key, user_id bigint, status text);"
)
PRISMA_USER = 'CREATE TABLE "User" ("id" TEXT NOT NULL, "name" TEXT, CONSTRAINT "User_pkey" PRIMARY KEY ("id"));'


def found(sql: str, *, without: str = "", **kw: object) -> list:
    # The rules a user runs by default: opt-in rules (statement timeouts, FK indexes) added
    # later must not change what these tests pin.
    rules = [
        r
        for r, rule in all_rules().items()
        if rule.default_enabled and r not in (without, "missing-lock-timeout")
    ]
    return lint_sql(sql, history=[SQL_PAIR, PRISMA_USER], rules=rules, **kw)


def at(findings: list) -> list[tuple[str, int, int]]:
    return [(f.rule, f.line, f.column) for f in findings]


FK_THEN_UPDATE = (
    "BEGIN;\n"
    "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) "
    "REFERENCES users (id) NOT VALID;\n"
    "UPDATE orders SET status = 'x';\n"
    "COMMIT;"
)


def test_foreign_key_not_valid_then_backfill_names_the_referenced_tables_lock() -> None:
    fs = found(FK_THEN_UPDATE)
    assert at(fs) == [(R, 2, 20), ("unbatched-backfill", 3, 1)]
    hold, backfill = fs
    assert hold.message == (
        'This statement takes a SHARE ROW EXCLUSIVE lock on "users" (the table its foreign '
        "key references), and the transaction (the file opens one with BEGIN at line 1) "
        'keeps it while line 3 updates every row of "orders": until the transaction commits, '
        "it blocks writes (INSERT, UPDATE, DELETE), while reads continue."
    )
    # The lock on "orders" itself is the backfill finding's; not repeated here.
    assert '"orders"' not in hold.message.split("updates every row")[0]
    assert 'SHARE ROW EXCLUSIVE lock on "orders" is held for the whole backfill' in (
        backfill.message
    )
    assert "COMMIT right after it" in hold.help and "lock_timeout" in hold.help


def test_foreign_key_not_valid_then_index_build_names_share_row_exclusive() -> None:
    sql = FK_THEN_UPDATE.replace(
        "UPDATE orders SET status = 'x';", "CREATE INDEX orders_status_idx ON orders (status);"
    )
    (hold,) = [f for f in found(sql) if f.rule == R]
    assert (hold.line, hold.column) == (2, 20)
    assert hold.message.startswith('This statement takes a SHARE ROW EXCLUSIVE lock on "orders",')
    assert "blocks writes (INSERT, UPDATE, DELETE), while reads continue" in hold.message
    assert "every read and write" not in hold.message


def test_add_column_then_backfill_is_one_finding_golang_migrate() -> None:
    # The fixture's 000016: the backfill finding says the ADD's lock is held throughout,
    # and its help (a batched backfill after the commit) fixes both.
    sql = (
        "alter table users add column if not exists display_name text;\n\n"
        "update users set display_name = full_name;\n"
    )
    fs = found(sql, tool="golang-migrate", implicit_transaction=True)
    assert at(fs) == [("unbatched-backfill", 3, 1)]
    assert 'ACCESS EXCLUSIVE lock on "users" is held for the whole backfill' in fs[0].message
    # Near miss: with unbatched-backfill not run, the held lock is still reported.
    fs = found(sql, without="unbatched-backfill", tool="golang-migrate", implicit_transaction=True)
    assert at(fs) == [(R, 1, 19)]
    assert 'line 3 updates every row of "users"' in fs[0].message


def test_add_column_then_where_is_null_backfill_is_reported_once() -> None:
    # Point 6: the new column holds NULL in every row, so WHERE c IS NULL is every row.
    sql = (
        "BEGIN;\n"
        "ALTER TABLE users ADD COLUMN nickname text;\n"
        "UPDATE users SET nickname = full_name WHERE nickname IS NULL;\n"
        "COMMIT;"
    )
    fs = found(sql)
    assert at(fs) == [("unbatched-backfill", 3, 1)]
    assert "its WHERE nickname IS NULL matches every row" in fs[0].message
    assert 'ACCESS EXCLUSIVE lock on "users" is held for the whole backfill' in fs[0].message
    assert "UPDATE users SET nickname = full_name\n" in fs[0].help
    # Near misses: a default fills the column (nothing is NULL), or the WHERE narrows it.
    assert found(sql.replace("nickname text;", "nickname text DEFAULT 'x';")) == []
    assert found(sql.replace("IS NULL;", "IS NULL AND id < 1000;")) == []


def test_prisma_add_column_then_backfill_is_one_finding() -> None:
    sql = (
        '-- AlterTable\nALTER TABLE "User" ADD COLUMN "nickname" TEXT;\n\n'
        '-- Backfill\nUPDATE "User" SET "nickname" = "name" WHERE "nickname" IS NULL;\n'
    )
    fs = found(sql, tool="prisma", implicit_transaction=True)
    assert at(fs) == [("unbatched-backfill", 5, 1)]


def test_lock_table_is_lock_tables_finding() -> None:
    sql = (
        "begin;\nlock table orders in exclusive mode;\n"
        "create unique index orders_status_key on orders (status);\ncommit;"
    )
    assert [f.rule for f in found(sql)] == ["lock-table", "non-concurrent-index"]
    # Near miss: without lock-table, the held EXCLUSIVE lock is reported by its mode.
    (hold,) = [f for f in found(sql, without="lock-table") if f.rule == R]
    assert (hold.line, hold.column) == (2, 1)
    assert 'takes an EXCLUSIVE lock on "orders"' in hold.message
    assert "blocks writes and SELECT ... FOR UPDATE, while plain reads continue" in hold.message


def test_validate_in_the_same_transaction_is_that_rules_finding() -> None:
    sql = FK_THEN_UPDATE.replace(
        "UPDATE orders SET status = 'x';", "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;"
    )
    assert [f.rule for f in found(sql)] == ["validate-in-same-transaction"]
    assert [f.rule for f in found(sql, without="validate-in-same-transaction")] == [R]


def test_a_locker_that_reports_its_own_lock_is_not_restated() -> None:
    sql = (
        "BEGIN;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"
        "CREATE INDEX orders_status_idx ON orders (status);\nCOMMIT;"
    )
    fs = found(sql)
    (hold,) = [f for f in fs if f.rule == R]
    (own,) = [f for f in fs if f.rule == "set-not-null"]
    assert (hold.line, hold.column) == (own.line, own.column) == (2, 19)
    assert hold.message == (
        "The transaction (the file opens one with BEGIN at line 1) keeps the lock this "
        'statement takes on "users" until it commits, so the lock also lasts while line 3 '
        'builds index "orders_status_idx" on "orders".'
    )
    # Near miss: a quick locker gets the full sentence with the mode and what it blocks.
    quick = sql.replace("ALTER COLUMN email SET NOT NULL", "ADD COLUMN c text")
    (hold,) = [f for f in found(quick) if f.rule == R]
    assert 'takes an ACCESS EXCLUSIVE lock on "users"' in hold.message
    assert "blocks every read and write on the table" in hold.message


def test_lock_timeout_advice_only_when_nothing_else_gives_it() -> None:
    sql = (
        "BEGIN;\nALTER TABLE users ADD COLUMN c text;\n"
        "CREATE INDEX orders_status_idx ON orders (status);\nCOMMIT;"
    )
    (hold,) = [f for f in found(sql) if f.rule == R]
    assert "SET lock_timeout = '5s';" in hold.help
    timed = sql.replace("BEGIN;\n", "BEGIN;\nSET LOCAL lock_timeout = '2s';\n")
    (hold,) = [f for f in found(timed) if f.rule == R]
    assert "lock_timeout" not in hold.help
    with_rule = lint_sql(sql, history=[SQL_PAIR], rules=[R, "missing-lock-timeout"])
    (hold,) = [f for f in with_rule if f.rule == R]
    assert "lock_timeout" not in hold.help


def test_check_constraint_then_rewrite_of_the_same_table_is_quiet() -> None:
    # The rewrite takes ACCESS EXCLUSIVE on "orders" itself: the CHECK's lock adds nothing.
    sql = (
        "BEGIN;\nALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status <> '') "
        "NOT VALID;\nALTER TABLE orders ALTER COLUMN status TYPE varchar(20);\nCOMMIT;"
    )
    assert run(sql) == []
    # Near miss: the rewrite of another table is slow work under the CHECK's lock.
    other = sql.replace(
        "ALTER TABLE orders ALTER COLUMN status", "ALTER TABLE users ALTER COLUMN full_name"
    )
    assert where(run(other), R) == [(2, 20)]


def test_backfill_of_another_table_does_not_tell_this_tables_lock() -> None:
    # unbatched-backfill names the lock on the table it writes ("orders"), not the one
    # the ADD COLUMN keeps on "users": that one is still this rule's.
    sql = (
        "BEGIN;\nALTER TABLE users ADD COLUMN nickname text;\n"
        "UPDATE orders SET status = 'x';\nCOMMIT;"
    )
    fs = found(sql)
    assert at(fs) == [(R, 2, 19), ("unbatched-backfill", 3, 1)]
    assert 'ACCESS EXCLUSIVE lock on "users"' in fs[0].message
    assert 'line 3 updates every row of "orders"' in fs[0].message


def test_validate_of_an_older_constraint_is_still_reported() -> None:
    # The constraint was added NOT VALID by an earlier deploy: validate-in-same-transaction
    # has nothing to say, so the ADD COLUMN's lock held through the scan is reported here.
    history = [
        SQL_PAIR,
        "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) "
        "REFERENCES users (id) NOT VALID;",
    ]
    sql = (
        "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;\nCOMMIT;"
    )
    rules = [
        r for r, rule in all_rules().items() if rule.default_enabled and r != "missing-lock-timeout"
    ]
    fs = lint_sql(sql, history=history, rules=rules)
    assert [(f.rule, f.line) for f in fs] == [(R, 2)]
    assert 'ACCESS EXCLUSIVE lock on "orders"' in fs[0].message


def test_add_column_then_not_valid_and_validate_reports_the_stronger_lock() -> None:
    # validate-in-same-transaction names the foreign key's SHARE ROW EXCLUSIVE; the ADD
    # COLUMN before it keeps ACCESS EXCLUSIVE on "orders" through the same scan.
    sql = (
        "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\n"
        "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) "
        "REFERENCES users (id) NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;\nCOMMIT;"
    )
    fs = found(sql)
    assert [(f.rule, f.line) for f in fs] == [(R, 2), ("validate-in-same-transaction", 4)]
    assert 'ACCESS EXCLUSIVE lock on "orders"' in fs[0].message


def test_a_lock_on_a_table_nobody_can_name_is_not_reported() -> None:
    # DROP INDEX of an index the history never showed: its table is unknown, so there is
    # no table to name; the index build on "orders" is non-concurrent-index's.
    sql = (
        "BEGIN;\nDROP INDEX legacy_idx;\n"
        "CREATE INDEX orders_status_idx ON orders (status);\nCOMMIT;"
    )
    assert run(sql) == []
    # Near miss: an index the history shows is on "users", whose lock is then held.
    history = (PRISMA, SQL + "\ncreate index legacy_idx on users (full_name);")
    assert where(run(sql, history=history), R) == [(2, 1)]


def test_statements_outside_a_transaction_hold_nothing() -> None:
    sql = "ALTER TABLE users ADD COLUMN c text;\nCREATE INDEX orders_status_idx ON orders (status);"
    assert run(sql) == []
    assert where(run(sql, runner_transaction=True, tool="flyway"), R) == [(1, 19)]


def test_two_foreign_keys_not_valid_then_one_validate_is_one_finding() -> None:
    sql = (
        "BEGIN;\n"
        "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) "
        "REFERENCES users (id) NOT VALID;\n"
        "ALTER TABLE orders ADD CONSTRAINT orders_self_fk FOREIGN KEY (id) "
        "REFERENCES orders (id) NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_self_fk;\nCOMMIT;"
    )
    # The first FK's SHARE ROW EXCLUSIVE on "orders" is no more than the one
    # validate-in-same-transaction names; its lock on "users" is still this rule's.
    fs = found(sql)
    assert [(f.rule, f.line) for f in fs] == [(R, 2), ("validate-in-same-transaction", 4)]
    assert 'SHARE ROW EXCLUSIVE lock on "users" (the table its foreign key references)' in (
        fs[0].message
    )


def test_validate_after_a_validated_add_is_not_validate_in_same_transactions() -> None:
    # The ADD forgot NOT VALID (constraint-without-not-valid reports its scan, and the
    # lock with it); the VALIDATE then scans again while that lock is still held.
    sql = (
        "BEGIN;\n"
        "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) "
        "REFERENCES users (id);\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;\nCOMMIT;"
    )
    fs = found(sql)
    assert sorted((f.rule, f.line) for f in fs) == [
        ("constraint-without-not-valid", 2),
        (R, 2),
    ]
    (hold,) = [f for f in fs if f.rule == R]
    assert hold.message.startswith("The transaction (the file opens one with BEGIN at line 1)")
    assert "line 3 validates" in hold.message


def test_validate_in_the_same_transaction_does_not_tell_another_tables_lock() -> None:
    sql = (
        "BEGIN;\nALTER TABLE users ADD COLUMN nickname text;\n"
        "ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status <> '') NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_status_check;\nCOMMIT;"
    )
    fs = found(sql)
    assert [(f.rule, f.line) for f in fs] == [(R, 2), ("validate-in-same-transaction", 4)]
    assert 'ACCESS EXCLUSIVE lock on "users"' in fs[0].message


def test_insert_select_into_the_locked_table_is_the_backfills_finding() -> None:
    sql = (
        "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\n"
        "INSERT INTO orders (id, user_id, status) SELECT id + 1000000, id, 'copy' FROM orders;\n"
        "COMMIT;"
    )
    assert [f.rule for f in found(sql)] == ["unbatched-backfill"]
    assert [f.rule for f in found(sql, without="unbatched-backfill")] == [R]


def test_add_column_and_not_valid_in_one_alter_then_validate_reports_access_exclusive() -> None:
    sql = (
        "BEGIN;\nALTER TABLE orders ADD COLUMN note text,\n"
        "  ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\n"
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;\nCOMMIT;"
    )
    fs = found(sql)
    assert [(f.rule, f.line) for f in fs] == [(R, 2), ("validate-in-same-transaction", 4)]
    assert 'ACCESS EXCLUSIVE lock on "orders"' in fs[0].message
