"""The runner model: which statements each migration runner runs in a transaction, as the
runner's own source decides it (``migcheck.flyway``, ``migcheck.transactions``)."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where
from migcheck.flyway import keywords, non_transactional

R = "concurrent-in-transaction"
ORDERS = "create table orders (id bigint primary key, status text);"


@pytest.mark.parametrize(
    ("sql", "pg", "expected"),
    [
        ("CREATE INDEX CONCURRENTLY idx ON t (a)", 14, True),
        ("create unique index concurrently if not exists x on t (a)", 14, True),
        ("DROP INDEX CONCURRENTLY IF EXISTS x", 14, True),
        ("-- why\nCREATE /* c */ INDEX CONCURRENTLY i ON t (a)", 14, True),
        ("VACUUM (ANALYZE) orders", 14, True),
        ("REINDEX (VERBOSE) SCHEMA public", 14, True),
        ("REINDEX DATABASE app", 14, True),
        ("CREATE DATABASE app", 14, True),
        ("DROP SUBSCRIPTION s", 14, True),
        ("ALTER SYSTEM SET work_mem = '1MB'", 14, True),
        ("DISCARD ALL", 14, True),
        # Not detected by Flyway: it runs them in its transaction.
        ("REINDEX INDEX CONCURRENTLY x", 14, False),
        ("REINDEX TABLE CONCURRENTLY orders", 14, False),
        ("ALTER TABLE t DETACH PARTITION p CONCURRENTLY", 14, False),
        ("DISCARD PLANS", 14, False),
        ('CREATE INDEX "CONCURRENTLY" ON t (a)', 14, False),
        ("CREATE INDEX ON t (a)", 14, False),
        # ALTER TYPE … ADD VALUE only below PostgreSQL 12, names quoted or not.
        ("ALTER TYPE \"Mood\" ADD VALUE 'sad'", 11, True),
        ("ALTER TYPE public.mood ADD VALUE 'sad'", 11, True),
        ("ALTER TYPE mood ADD VALUE 'sad'", 12, False),
        # Past the 10-keyword cutoff nothing is detected.
        ("SELECT a b c d e f g h i j VACUUM", 14, False),
    ],
)
def test_flyway_detection(sql: str, pg: int, expected: bool) -> None:
    assert non_transactional(sql, pg) is expected


def test_flyway_keywords_are_bare_words_outside_parentheses() -> None:
    sql = "CREATE INDEX idx1 ON s.t (lower(a)) WHERE b = 'x y' AND $$z$$ <> \"Q\" -- c\n"
    assert keywords(sql) == ["CREATE", "INDEX", "ON", "WHERE", "B", "AND"]
    assert keywords("a b c d e f g h i j k l") == list("ABCDEFGHIJ")
    assert keywords("a b c", limit=2) == ["A", "B"]
    assert keywords("SELECT ($tag$ ) $tag$) x") == ["SELECT", "X"]
    assert keywords("SELECT $t$ unterminated") == ["SELECT"]
    assert keywords("a ) ) b") == ["A", "B"]
    # Words inside nested parentheses are not keywords, up to the last closing one.
    assert keywords("SELECT ((a) b) c") == ["SELECT", "C"]


@pytest.mark.parametrize(
    ("sqls", "mode", "note"),
    [
        (
            ["CREATE UNIQUE INDEX CONCURRENTLY i ON orders (status);"],
            None,
            "Flyway detects CREATE UNIQUE INDEX CONCURRENTLY at line 1 and runs this "
            "script outside a transaction",
        ),
        (
            ["SET lock_timeout = '2s';", "VACUUM orders;"],
            None,
            "Flyway detects VACUUM at line 2, which cannot run in a transaction, next to "
            "statements that can: it refuses such a script unless mixed=true",
        ),
        (["ALTER TABLE orders ADD COLUMN a text;"], "runner", "Flyway runs each migration"),
    ],
)
def test_flyway_runner_note(sqls: list[str], mode: str | None, note: str) -> None:
    from helpers import make_history
    from migcheck.model import Options
    from migcheck.statements import load_statements
    from migcheck.transactions import runner_transaction

    history = make_history(["\n".join(sqls)], tool="flyway", runner_transaction=True)
    migration = history.migrations[0]
    statements, _ = load_statements(migration)
    got_mode, got_note = runner_transaction(history, migration, statements, Options())
    assert got_mode == mode
    assert got_note.startswith(note)


@pytest.mark.parametrize(
    ("tool", "note"),
    [
        ("dbmate", "dbmate with transaction:false still sends the up section as one query"),
        ("diesel", "Diesel with run_in_transaction = false still sends up.sql as one query"),
        ("golang-migrate", "golang-migrate sends the file as one multi-statement query"),
    ],
)
def test_a_runner_without_its_transaction_still_sends_one_query(tool: str, note: str) -> None:
    sql = (
        "SET lock_timeout = '5s';\n"
        "CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);\n"
    )
    findings = lint_sql(sql, history=[ORDERS], rules=[R], tool=tool, implicit_transaction=True)
    assert where(findings, R) == [(2, 1)]
    assert note in findings[0].message
    assert "alone" in findings[0].help
    alone = "CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);\n"
    assert lint_sql(alone, history=[ORDERS], rules=[R], tool=tool, implicit_transaction=True) == []


def test_flyway_adds_enum_values_outside_a_transaction_before_pg_12() -> None:
    enum = "CREATE TYPE mood AS ENUM ('ok');"
    sql = "ALTER TYPE mood ADD VALUE 'sad';\n"
    rule = "enum-value-in-transaction"
    quiet = lint_sql(
        sql, history=[enum], rules=[rule], pg=11, tool="flyway", runner_transaction=True
    )
    assert quiet == []
    # Any other runner's transaction refuses it on PostgreSQL 11.
    loud = lint_sql(
        sql, history=[enum], rules=[rule], pg=11, tool="dbmate", runner_transaction=True
    )
    assert where(loud, rule) == [(1, 1)]


def test_dbmate_and_diesel_advice_names_their_own_switch() -> None:
    sql = "SET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY i ON orders (status);\n"
    dbmate = lint_sql(sql, history=[ORDERS], rules=[R], tool="dbmate", runner_transaction=True)
    assert "-- migrate:up transaction:false (dbmate still sends the section as one query" in (
        dbmate[0].help
    )
    diesel = lint_sql(sql, history=[ORDERS], rules=[R], tool="diesel", runner_transaction=True)
    assert "run_in_transaction = false in that folder's metadata.toml" in diesel[0].help
