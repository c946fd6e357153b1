"""The PostgreSQL facts hold-exclusive-lock, set-not-null and unbatched-backfill state,
checked on a real server: which locks a transaction still holds (pg_locks) when its slow
statement runs, and which statements scan the table (pg_stat_get_xact_numscans)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

SCHEMA = (
    "create table users (id bigint primary key, email text);"
    "insert into users select g, 'e' || g from generate_series(1, 100) g;"
    "create table orders (id bigint primary key, user_id bigint, status text);"
    "insert into orders select g, g, 's' from generate_series(1, 100) g;"
)


@pytest.fixture
def conn(dsn: str) -> Iterator[Any]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as setup:
        setup.execute(SCHEMA)
    with psycopg.connect(dsn) as c:
        yield c
        c.rollback()


def held(conn: Any) -> set[tuple[str, str]]:
    rows = conn.execute(
        "select c.relname, l.mode from pg_locks l join pg_class c on c.oid = l.relation "
        "where l.pid = pg_backend_pid() and c.relname in ('users', 'orders')"
    ).fetchall()
    return {(r[0], r[1]) for r in rows}


def scans(conn: Any) -> int:
    return int(conn.execute("select pg_stat_get_xact_numscans('users'::regclass)").fetchone()[0])


def test_foreign_key_not_valid_keeps_share_row_exclusive_on_both_tables(conn: Any) -> None:
    conn.execute(
        "alter table orders add constraint orders_user_fk foreign key (user_id) "
        "references users (id) not valid"
    )
    conn.execute("update orders set status = 'x'")
    locks = held(conn)
    assert ("orders", "ShareRowExclusiveLock") in locks
    assert ("users", "ShareRowExclusiveLock") in locks


def test_add_column_keeps_access_exclusive_through_the_backfill(conn: Any) -> None:
    conn.execute("alter table users add column c text")
    conn.execute("update users set c = email where c is null")
    assert ("users", "AccessExclusiveLock") in held(conn)


def test_lock_table_exclusive_and_index_build_share(conn: Any) -> None:
    conn.execute("lock table orders in exclusive mode")
    conn.execute("create index on orders (status)")
    assert {("orders", "ExclusiveLock"), ("orders", "ShareLock")} <= held(conn)


def test_set_not_null_scans_and_add_column_not_null_default_does_not(conn: Any) -> None:
    before = scans(conn)
    conn.execute("alter table users add column plan text not null default 'free'")
    assert scans(conn) == before  # neither scans nor rewrites (PostgreSQL 11+)
    conn.execute("alter table users alter column email set not null")
    assert scans(conn) == before + 1
