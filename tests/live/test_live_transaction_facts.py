"""What PostgreSQL does with transaction control, multi-statement scripts, DO blocks and
retried concurrent index builds: the facts the runner model (``transactions``) and the
rules concurrent-in-transaction, begin-without-commit, commit-in-runner-transaction,
non-concurrent-index and enum-value-in-transaction state, checked on a real server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

psycopg = pytest.importorskip("psycopg")

SETUP = (
    "CREATE TABLE orders (id bigint PRIMARY KEY, status text);"
    "INSERT INTO orders SELECT g, 's' || (g % 3) FROM generate_series(1, 50) g;"
    "CREATE TYPE mood AS ENUM ('ok');"
)


@pytest.fixture
def conn(dsn: str) -> Iterator[object]:
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(SETUP)
        yield c


def _error(c: object, sql: str) -> str:
    # No parameters: psycopg sends the text with the simple query protocol, as lib/pq
    # (golang-migrate, dbmate), tokio-postgres simple_query (Prisma) and PQexec (Diesel) do.
    with pytest.raises(psycopg.Error) as info:
        c.execute(sql)  # type: ignore[attr-defined]
    return str(info.value)


def _notices(c: object) -> list[str]:
    seen: list[str] = []
    c.add_notice_handler(lambda d: seen.append(d.message_primary or ""))  # type: ignore[attr-defined]
    return seen


def _indexes(c: object) -> list[tuple[str, bool]]:
    rows = c.execute(  # type: ignore[attr-defined]
        "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname LIKE 'orders_status%' ORDER BY 1"
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def test_multi_statement_script_is_one_implicit_transaction(conn: object) -> None:
    message = _error(
        conn,
        "SELECT 1; CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);",
    )
    assert "CREATE INDEX CONCURRENTLY cannot run inside a transaction block" in message
    message = _error(conn, "SELECT 1; VACUUM orders;")
    assert "VACUUM cannot run inside a transaction block" in message
    # Alone in the script, it runs.
    conn.execute("CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);")  # type: ignore[attr-defined]
    assert _indexes(conn) == [("orders_status_idx", True)]


def test_nested_begin_warns_and_commit_ends_the_outer_transaction(dsn: str) -> None:
    with psycopg.connect(dsn) as c:  # autocommit off: the driver opens the transaction
        seen = _notices(c)
        c.execute("CREATE TABLE a (x int)")
        c.execute("BEGIN")
        assert seen == ["there is already a transaction in progress"]
        c.execute("COMMIT")  # the file's COMMIT commits the runner's transaction
        c.execute("CREATE TABLE b (x int)")
        c.rollback()  # the runner rolls back after a later failure: only b goes
    with psycopg.connect(dsn, autocommit=True) as c:
        tables = {
            r[0] for r in c.execute("SELECT relname FROM pg_class WHERE relname IN ('a', 'b')")
        }
    assert tables == {"a"}


def test_begin_without_commit_is_rolled_back_when_the_session_ends(dsn: str) -> None:
    # Not a ``with`` block: psycopg commits an open transaction when that block ends; a
    # session that simply ends (psql at the end of a file) does not.
    c = psycopg.connect(dsn, autocommit=True)
    c.execute("BEGIN; CREATE TABLE never_applied (x int);")
    assert c.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    c.close()
    with psycopg.connect(dsn, autocommit=True) as c:
        found = c.execute("SELECT to_regclass('never_applied')").fetchone()
    assert found == (None,)


def test_do_block_cannot_run_concurrently_or_vacuum(conn: object) -> None:
    message = _error(
        conn,
        "DO $$ BEGIN CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status); END $$;",
    )
    assert "CREATE INDEX CONCURRENTLY cannot be executed from a function" in message
    message = _error(conn, "DO $$ BEGIN EXECUTE 'VACUUM orders'; END $$;")
    assert "VACUUM cannot be executed from a function" in message


def test_do_block_cannot_use_an_enum_value_it_added(conn: object) -> None:
    message = _error(
        conn,
        "DO $$ BEGIN ALTER TYPE mood ADD VALUE 'sad'; PERFORM 'sad'::mood; END $$;",
    )
    assert 'unsafe use of new value "sad" of enum type mood' in message
    # Adding it alone in a DO outside a transaction block works.
    conn.execute("DO $$ BEGIN ALTER TYPE mood ADD VALUE 'sad'; END $$;")  # type: ignore[attr-defined]


def test_commit_inside_do_only_outside_a_transaction_block(conn: object) -> None:
    message = _error(conn, "BEGIN; DO $$ BEGIN COMMIT; END $$; COMMIT;")
    assert "invalid transaction termination" in message
    conn.execute("ROLLBACK")  # type: ignore[attr-defined]
    # A multi-statement script is a transaction block too.
    message = _error(conn, "SELECT 1; DO $$ BEGIN COMMIT; END $$;")
    assert "invalid transaction termination" in message
    conn.execute("DO $$ BEGIN COMMIT; END $$;")  # type: ignore[attr-defined]


def test_if_not_exists_keeps_an_invalid_index_on_retry(conn: object) -> None:
    message = _error(conn, "CREATE UNIQUE INDEX CONCURRENTLY orders_status_key ON orders (status);")
    assert "could not create unique index" in message
    assert _indexes(conn) == [("orders_status_key", False)]
    seen = _notices(conn)
    conn.execute(  # type: ignore[attr-defined]
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_status_key ON orders (status);"
    )
    assert seen == ['relation "orders_status_key" already exists, skipping']
    assert _indexes(conn) == [("orders_status_key", False)]


def test_no_concurrent_index_on_a_partitioned_table(conn: object) -> None:
    conn.execute(  # type: ignore[attr-defined]
        "CREATE TABLE events (id bigint, at date) PARTITION BY RANGE (at);"
        "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');"
    )
    message = _error(conn, "CREATE INDEX CONCURRENTLY events_at_idx ON events (at);")
    assert "cannot create index on partitioned table" in message
    # The documented way: the parent ONLY (invalid until attached), each partition
    # concurrently, then ATTACH PARTITION, after which the parent index is valid.
    conn.execute("CREATE INDEX events_at_idx ON ONLY events (at);")  # type: ignore[attr-defined]
    conn.execute("CREATE INDEX CONCURRENTLY events_2024_at_idx ON events_2024 (at);")  # type: ignore[attr-defined]
    conn.execute("ALTER INDEX events_at_idx ATTACH PARTITION events_2024_at_idx;")  # type: ignore[attr-defined]
    valid = conn.execute(  # type: ignore[attr-defined]
        "SELECT indisvalid FROM pg_index WHERE indexrelid = 'events_at_idx'::regclass"
    ).fetchone()
    assert valid == (True,)
