"""concurrent-in-transaction: CONCURRENTLY commands that PostgreSQL refuses inside a
transaction block (explicit, the runner's, or a multi-statement file's implicit one)."""

from __future__ import annotations

import pytest

from helpers import lint_history, lint_sql, make_history, where

R = "concurrent-in-transaction"
PROJECT = 'CREATE TABLE "Project" ("id" TEXT NOT NULL, "ownerId" TEXT);'
ORDERS = "create table orders (id bigint primary key, status text, created_at timestamptz);"


def run(sql: str, history: tuple[str, ...] = (PROJECT, ORDERS), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_prisma_multi_statement_file_is_an_implicit_transaction() -> None:
    sql = (
        "-- CreateIndex\n"
        'CREATE INDEX CONCURRENTLY "Project_ownerId_idx" ON "Project"("ownerId");\n\n'
        "-- CreateIndex\n"
        'CREATE INDEX CONCURRENTLY "Project_id_idx" ON "Project"("id");\n'
    )
    findings = run(sql, tool="prisma", implicit_transaction=True)
    assert where(findings, R) == [(2, 1), (5, 1)]
    f = findings[0]
    assert f.severity == "error" and f.category == "locking"
    # The runner behaviour that was assumed is quoted.
    assert "Prisma (version unknown, assumed older than 7.4) sends migration.sql" in f.message
    assert "ERROR: CREATE INDEX CONCURRENTLY cannot run inside a transaction block" in f.message
    assert "a migration.sql holding only this statement" in f.help


def test_prisma_7_4_runs_concurrently_outside_a_transaction() -> None:
    sql = (
        'CREATE INDEX CONCURRENTLY "Project_ownerId_idx" ON "Project"("ownerId");\n'
        'CREATE INDEX CONCURRENTLY "Project_id_idx" ON "Project"("id");\n'
    )
    assert run(sql, tool="prisma", implicit_transaction=True, prisma_version=(7, 4)) == []


def test_single_statement_file_runs_outside_a_transaction() -> None:
    sql = (
        "-- golang-migrate runs a file as one multi-statement query (an implicit\n"
        "-- transaction), so CONCURRENTLY must be the only statement in this file.\n"
        "create index concurrently if not exists orders_status_created_at_idx "
        "on orders (status, created_at);\n"
    )
    assert run(sql, tool="golang-migrate", implicit_transaction=True) == []


def test_explicit_begin() -> None:
    sql = "begin;\ndrop index concurrently orders_status_idx;\ncommit;\n"
    findings = run(sql)
    assert where(findings, R) == [(2, 1)]
    assert "the file opens one with BEGIN at line 1" in findings[0].message
    assert "ERROR: DROP INDEX CONCURRENTLY cannot run" in findings[0].message
    assert findings[0].help.startswith("Move it out of the BEGIN")


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE INDEX CONCURRENTLY idx_orders_status ON orders (status);",
        "-- V2__idx.sql\ncreate unique index concurrently if not exists orders_status_key "
        "on orders (status);\n",
        "DROP INDEX CONCURRENTLY IF EXISTS idx_orders_status;",
        "CREATE INDEX CONCURRENTLY a_idx ON orders (status);\n"
        "CREATE INDEX CONCURRENTLY b_idx ON orders (created_at);\n",
    ],
)
def test_flyway_runs_a_concurrent_index_script_outside_a_transaction(sql: str) -> None:
    # flyway-database-postgresql PostgreSQLParser.detectCanExecuteInTransaction marks
    # (CREATE|DROP)( UNIQUE)? INDEX CONCURRENTLY as non-transactional, and
    # ParserSqlScript.executeInTransaction then runs the script without a transaction.
    assert run(sql, tool="flyway", runner_transaction=True) == []


def test_flyway_does_not_detect_reindex_concurrently() -> None:
    findings = run(
        "REINDEX INDEX CONCURRENTLY idx_orders_status;", tool="flyway", runner_transaction=True
    )
    assert where(findings, R) == [(1, 1)]
    assert "Flyway runs each migration inside a transaction" in findings[0].message
    assert "executeInTransaction=false" in findings[0].help


def test_flyway_mixed_script_is_refused() -> None:
    sql = (
        "SET lock_timeout = '5s';\n"
        "CREATE INDEX CONCURRENTLY idx_orders_status ON orders (status);\n"
    )
    findings = run(sql, tool="flyway", runner_transaction=True)
    assert where(findings, R) == [(2, 1)]
    f = findings[0]
    assert f.severity == "error"
    assert "Detected both transactional and non-transactional statements" in f.message
    assert "mixed=true" in f.message
    assert f.help.startswith("Put this statement alone in its own migration")


def test_flyway_mixed_with_an_undetected_concurrent_statement_is_in_transaction() -> None:
    # REINDEX … CONCURRENTLY is not detected: only the DROP is; the script is mixed, and
    # both CONCURRENTLY statements are reported, each for what really happens.
    sql = "DROP INDEX CONCURRENTLY old_idx;\nREINDEX INDEX CONCURRENTLY idx_orders_status;\n"
    findings = run(sql, tool="flyway", runner_transaction=True)
    assert where(findings, R) == [(1, 1)]
    assert "Detected both transactional" in findings[0].message


def test_flyway_script_config_overrides_the_detection() -> None:
    history = make_history(
        [ORDERS, "CREATE INDEX CONCURRENTLY idx_orders_status ON orders (status);"],
        tool="flyway",
        runner_transaction=True,
    )
    history.migrations[1].notes["execute_in_transaction"] = True
    findings = lint_history(history, rules=[R], changeset=False).findings
    assert [(f.line, f.column) for f in findings] == [(1, 1)]
    assert "executeInTransaction=true in its .sql.conf" in findings[0].message


def test_flyway_embedded_statements_do_not_count_as_script_statements() -> None:
    # A DO block is one statement for Flyway: detection reads its leading keywords only.
    sql = "DO $$ BEGIN CREATE INDEX CONCURRENTLY i ON orders (status); END $$;\n"
    findings = run(sql, tool="flyway", runner_transaction=True)
    assert all("Detected both" not in f.message for f in findings)


def test_applies_to_tables_created_in_the_same_deploy() -> None:
    sql = "begin;\ncreate table t (a int);\ncreate index concurrently t_a_idx on t (a);\ncommit;"
    assert where(run(sql), R) == [(3, 1)]


def test_reindex_and_detach_concurrently() -> None:
    sql = (
        "begin;\n"
        "reindex index concurrently orders_status_idx;\n"
        "alter table events detach partition events_2023 concurrently;\n"
        "commit;\n"
    )
    findings = run(sql)
    assert where(findings, R) == [(2, 1), (3, 20)]
    assert "REINDEX CONCURRENTLY cannot run" in findings[0].message
    assert "ALTER TABLE ... DETACH CONCURRENTLY cannot run" in findings[1].message


def test_alembic_autocommit_block_advice() -> None:
    findings = run(
        "create index concurrently o_idx on orders (status);",
        tool="alembic",
        runner_transaction=True,
    )
    assert "autocommit_block()" in findings[0].help


@pytest.mark.parametrize(
    "sql",
    [
        # Allowed in a transaction: ExecRefreshMatView never calls PreventInTransactionBlock.
        "begin;\nrefresh materialized view concurrently order_totals;\ncommit;",
        "begin;\ncreate index orders_status_idx on orders (status);\ncommit;",
        "create index concurrently orders_status_idx on orders (status);",
    ],
)
def test_quiet(sql: str) -> None:
    assert run(sql) == []


def test_each_migration_is_its_own_transaction_under_the_runner() -> None:
    history = make_history(
        [ORDERS, "create index concurrently orders_status_idx on orders (status);"],
        runner_transaction=True,
    )
    findings = lint_history(history, rules=[R], changeset=False).findings
    assert [(f.path, f.line) for f in findings] == [("migrations/002_m.sql", 1)]


@pytest.mark.parametrize(
    "sql",
    [
        # Outside any transaction block: still refused (PreventInTransactionBlock refuses
        # every call that is not top level).
        "DO $$\nBEGIN\n  CREATE INDEX CONCURRENTLY IF NOT EXISTS o_idx ON orders (status);\nEND $$;",
        "do $$ begin execute 'drop index concurrently if exists o_idx'; end $$;",
    ],
)
def test_concurrently_inside_a_do_block_fails(sql: str) -> None:
    findings = run(sql)
    assert where(findings, R) == [(1, 1)]
    assert "this DO block runs it" in findings[0].message
    assert "cannot be executed from a function" in findings[0].message
    assert findings[0].help.startswith("Write the statement at the top level")


def test_concurrently_inside_a_function_fails_when_called() -> None:
    sql = (
        "CREATE FUNCTION add_idx() RETURNS void LANGUAGE plpgsql AS $$\n"
        "BEGIN\n  CREATE INDEX CONCURRENTLY o_idx ON orders (status);\nEND $$;\n"
    )
    findings = run(sql)
    assert where(findings, R) == [(1, 1)]
    assert "this function, when it is called, runs it" in findings[0].message


def test_plain_index_inside_a_do_block_is_not_this_rule() -> None:
    assert run("DO $$ BEGIN CREATE INDEX o_idx ON orders (status); END $$;") == []


def test_vacuum_in_a_transaction_and_in_a_do_block() -> None:
    # Verified in tests/live/test_live_transaction_facts.py.
    findings = run("begin;\nvacuum (analyze) orders;\ncommit;\n")
    assert where(findings, R) == [(2, 1)]
    assert 'PostgreSQL rejects it with "ERROR: VACUUM cannot run inside a transaction' in (
        findings[0].message
    )
    findings = run("do $$ begin execute 'vacuum orders'; end $$;\n")
    assert where(findings, R) == [(1, 1)]
    assert "ERROR: VACUUM cannot be executed from a function" in findings[0].message
    # Alone, outside any transaction: fine.
    assert run("vacuum analyze orders;\n") == []


def test_flyway_runs_vacuum_outside_a_transaction() -> None:
    assert run("VACUUM ANALYZE orders;", tool="flyway", runner_transaction=True) == []
    mixed = run(
        "UPDATE orders SET status = 'x' WHERE id = 1;\nVACUUM ANALYZE orders;\n",
        tool="flyway",
        runner_transaction=True,
    )
    assert where(mixed, R) == [(2, 1)]
    assert "Flyway runs VACUUM outside a transaction" in mixed[0].message


BATCHED = (
    "DO $$\n"
    "DECLARE n int;\n"
    "BEGIN\n"
    "  LOOP\n"
    "    UPDATE orders SET status = 'new' WHERE id IN (\n"
    "      SELECT id FROM orders WHERE status IS NULL LIMIT 1000);\n"
    "    GET DIAGNOSTICS n = ROW_COUNT;\n"
    "    EXIT WHEN n = 0;\n"
    "    COMMIT;\n"
    "  END LOOP;\n"
    "END $$;\n"
)


def test_do_block_that_commits_inside_a_transaction_block_fails() -> None:
    # Verified in tests/live/test_live_transaction_facts.py: "invalid transaction
    # termination" inside BEGIN … COMMIT and inside a multi-statement script.
    findings = run(BATCHED, tool="flyway", runner_transaction=True)
    assert where(findings, R) == [(1, 1)]
    f = findings[0]
    assert "This DO block runs COMMIT" in f.message
    assert "(Flyway runs each migration inside a transaction)" in f.message
    assert "ERROR: invalid transaction termination" in f.message
    assert f.help.startswith("Take the COMMIT out of the DO block")
    findings = run(
        "SET lock_timeout = '2s';\n" + BATCHED, tool="golang-migrate", implicit_transaction=True
    )
    assert where(findings, R) == [(2, 1)]


def test_do_block_that_commits_on_its_own_is_fine() -> None:
    # Alone in a golang-migrate file (one statement: no transaction block), or plain SQL.
    assert run(BATCHED, tool="golang-migrate", implicit_transaction=True) == []
    assert run(BATCHED) == []
    # A DO block without COMMIT inside a transaction is fine too.
    assert run("begin;\ndo $$ begin perform 1; end $$;\ncommit;\n") == []


@pytest.mark.parametrize(
    ("body", "fires"),
    [
        ("BEGIN UPDATE orders SET status = 'x' WHERE id = 1; COMMIT; END", True),
        ("BEGIN COMMIT AND NO CHAIN; END", True),
        ("BEGIN IF true THEN PERFORM 1; ELSIF false THEN ROLLBACK; END IF; END", True),
        ("BEGIN <<outer>> COMMIT; END", True),
        ("BEGIN PERFORM 1; END", False),
        ("DECLARE commit_every int := 1; BEGIN PERFORM commit_every; END", False),
        ("BEGIN RAISE NOTICE 'commit'; END", False),
        ("BEGIN <<commit>> PERFORM 1; END", False),
        ("BEGIN PERFORM rollback_helper(); END", False),
        ("BEGIN IF true THEN ROLLBACK; END IF; END", True),
        ("DECLARE commit int; BEGIN PERFORM 1; PERFORM commit; END", False),
        ("DECLARE commit int; x int; BEGIN x := CASE WHEN true THEN commit END; END", False),
    ],
)
def test_which_do_bodies_end_the_transaction(body: str, fires: bool) -> None:
    findings = run(f"begin;\ndo $$ {body} $$;\ncommit;\n")
    assert where(findings, R) == ([(2, 1)] if fires else [])
    if fires:
        word = "ROLLBACK" if "ROLLBACK" in body else "COMMIT"
        assert f"This DO block runs {word}, which PL/pgSQL allows only" in findings[0].message


def test_flyway_mixed_check_is_only_for_flyway_scripts_in_its_transaction() -> None:
    sql = "SET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY i ON orders (status);\n"
    # Plain SQL run statement by statement, and a Flyway script whose .sql.conf turns the
    # transaction off: both run the index outside any transaction.
    assert run(sql) == []
    history = make_history([ORDERS, sql], tool="flyway", runner_transaction=True)
    history.migrations[1].runner_transaction = False
    history.migrations[1].notes["execute_in_transaction"] = False
    assert lint_history(history, rules=[R], changeset=False).findings == []
