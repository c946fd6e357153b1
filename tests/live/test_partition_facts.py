"""What PostgreSQL really does for the statement families of partition-scan,
replace-view-columns, drop-view, rename-table (schemas), table-rewrite (generated columns,
index storage) and non-concurrent-detach, pinned on the session server (PostgreSQL 18).

Each test runs the statement in an open transaction and reads, from a second session, the
locks it holds (``pg_locks``); a scan shows as the server's ``verifying table`` debug
message (or a row that does not fit making the statement fail), a rewrite as a new
``relfilenode``. The same probes gave the same answers on PostgreSQL 16 (the rule docs say
which facts were measured where).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

psycopg = pytest.importorskip("psycopg", reason="the live extra is not installed")


@contextmanager
def _open(dsn: str, setup: list[str]) -> Iterator[tuple[Any, Any, list[str]]]:
    """(admin connection, migration connection in an open transaction, its notices)."""
    with psycopg.connect(dsn, autocommit=True) as admin:
        for sql in setup:
            admin.execute(sql)
        with psycopg.connect(dsn) as conn:
            notes: list[str] = []
            conn.add_notice_handler(lambda d: notes.append(d.message_primary or ""))
            conn.execute("SET client_min_messages = debug1")
            try:
                yield admin, conn, notes
            finally:
                conn.rollback()


def _locks(admin: Any, conn: Any) -> set[tuple[str, str]]:
    pid = conn.info.backend_pid
    rows = admin.execute(
        "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE l.pid = %s AND c.relnamespace = 'public'::regnamespace",
        (pid,),
    ).fetchall()
    return {(r[0], r[1]) for r in rows}


def _files(admin: Any, name: str) -> int:
    row = admin.execute(
        "SELECT relfilenode FROM pg_class WHERE oid = %s::regclass", (name,)
    ).fetchone()
    return int(row[0])


PARENT = "CREATE TABLE p (id int, k int NOT NULL) PARTITION BY RANGE (k)"
CHILD = "CREATE TABLE c (id int, k int NOT NULL)"


def test_attach_scans_the_child_under_access_exclusive(dsn: str) -> None:
    with _open(dsn, [PARENT, CHILD, "INSERT INTO c VALUES (1, 5)"]) as (admin, conn, notes):
        conn.execute("ALTER TABLE p ATTACH PARTITION c FOR VALUES FROM (0) TO (10)")
        assert _locks(admin, conn) >= {
            ("p", "ShareUpdateExclusiveLock"),
            ("c", "AccessExclusiveLock"),
        }
        assert ("p", "AccessExclusiveLock") not in _locks(admin, conn)
        assert 'verifying table "c"' in notes


def test_a_validated_check_from_the_help_skips_the_scan(dsn: str) -> None:
    check = (
        "ALTER TABLE c ADD CONSTRAINT c_bound CHECK (k IS NOT NULL AND k >= 0 AND k < 10) NOT VALID"
    )
    setup = [PARENT, CHILD, check, "ALTER TABLE c VALIDATE CONSTRAINT c_bound"]
    with _open(dsn, setup) as (_admin, conn, notes):
        conn.execute("ALTER TABLE p ATTACH PARTITION c FOR VALUES FROM (0) TO (10)")
        assert 'partition constraint for table "c" is implied by existing constraints' in notes
        assert not any(n.startswith("verifying") for n in notes)


def test_a_check_that_lets_null_through_does_not(dsn: str) -> None:
    setup = [
        "CREATE TABLE p (id int, k int) PARTITION BY RANGE (k)",
        "CREATE TABLE c (id int, k int)",
        "ALTER TABLE c ADD CONSTRAINT c_bound CHECK (k >= 0 AND k < 10)",
    ]
    with _open(dsn, setup) as (_admin, conn, notes):
        conn.execute("ALTER TABLE p ATTACH PARTITION c FOR VALUES FROM (0) TO (10)")
        assert 'verifying table "c"' in notes


def test_a_new_partition_beside_a_default_one_scans_it_and_locks_the_parent(dsn: str) -> None:
    setup = [PARENT, "CREATE TABLE d PARTITION OF p DEFAULT", "INSERT INTO p VALUES (1, 50)"]
    with _open(dsn, setup) as (admin, conn, _notes):
        conn.execute("CREATE TABLE c2 PARTITION OF p FOR VALUES FROM (0) TO (10)")
        assert _locks(admin, conn) >= {("p", "AccessExclusiveLock"), ("d", "AccessExclusiveLock")}
    # The scan is real: a row of the new range in the default partition fails it.
    with (
        _open(dsn, ["INSERT INTO p VALUES (2, 5)"]) as (_admin, conn, _notes),
        pytest.raises(psycopg.errors.CheckViolation, match="default partition"),
    ):
        conn.execute("CREATE TABLE c3 PARTITION OF p FOR VALUES FROM (0) TO (10)")


def test_an_exclusion_check_on_the_default_partition_skips_its_scan(dsn: str) -> None:
    setup = [
        PARENT,
        "CREATE TABLE d PARTITION OF p DEFAULT",
        "ALTER TABLE d ADD CONSTRAINT d_excl CHECK (NOT (k IS NOT NULL AND k >= 0 AND k < 10))",
        CHILD,
    ]
    with _open(dsn, setup) as (_admin, conn, notes):
        conn.execute("ALTER TABLE p ATTACH PARTITION c FOR VALUES FROM (0) TO (10)")
        assert (
            'updated partition constraint for default partition "d" is implied by existing '
            "constraints"
        ) in notes


def test_concurrent_detach_fails_beside_a_default_partition(dsn: str) -> None:
    setup = [
        PARENT,
        "CREATE TABLE c PARTITION OF p FOR VALUES FROM (0) TO (10)",
        "CREATE TABLE d PARTITION OF p DEFAULT",
    ]
    with psycopg.connect(dsn, autocommit=True) as conn:
        for sql in setup:
            conn.execute(sql)
        with pytest.raises(psycopg.Error, match="default partition exists"):
            conn.execute("ALTER TABLE p DETACH PARTITION c CONCURRENTLY")


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("SELECT a FROM t", "cannot drop columns from view"),
        ("SELECT a, c FROM t", 'cannot change name of view column "b" to "c"'),
        ("SELECT b, a FROM t", 'cannot change name of view column "a" to "b"'),
    ],
)
def test_create_or_replace_view_only_appends(dsn: str, query: str, error: str) -> None:
    setup = ["CREATE TABLE t (a int, b int, c int)", "CREATE VIEW v AS SELECT a, b FROM t"]
    with (
        _open(dsn, setup) as (_admin, conn, _notes),
        pytest.raises(psycopg.Error, match=re.escape(error)),
    ):
        conn.execute(f"CREATE OR REPLACE VIEW v AS {query}")


def test_recreated_view_without_a_column_breaks_its_readers(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (a int, b int)")
        conn.execute("CREATE VIEW v AS SELECT a, b AS amount FROM t")
        conn.execute("BEGIN; DROP VIEW v; CREATE VIEW v AS SELECT a FROM t; COMMIT")
        with pytest.raises(psycopg.Error, match='column "amount" does not exist'):
            conn.execute("SELECT amount FROM v")


def test_schema_rename_breaks_qualified_names_without_locking_tables(dsn: str) -> None:
    with _open(dsn, ["CREATE SCHEMA a", "CREATE TABLE a.t (x int)"]) as (admin, conn, _n):
        conn.execute("ALTER SCHEMA a RENAME TO b")
        pid = conn.info.backend_pid
        held = admin.execute(
            "SELECT count(*) FROM pg_locks WHERE pid = %s AND locktype = 'relation' "
            "AND relation = 'a.t'::regclass",
            (pid,),
        ).fetchone()
        assert held[0] == 0
        conn.commit()
        with pytest.raises(psycopg.Error, match=re.escape('relation "a.t" does not exist')):
            admin.execute("SELECT * FROM a.t")


def test_set_expression_rewrites_stored_but_not_virtual(dsn: str) -> None:
    setup = [
        "CREATE TABLE s (a int, g int GENERATED ALWAYS AS (a * 2) STORED)",
        "CREATE TABLE v (a int, g int GENERATED ALWAYS AS (a * 2))",  # VIRTUAL on 18
        "INSERT INTO s (a) VALUES (1)",
        "INSERT INTO v (a) VALUES (1)",
    ]
    with _open(dsn, setup) as (admin, conn, _notes):
        before = _files(admin, "s"), _files(admin, "v")
        conn.execute("ALTER TABLE s ALTER COLUMN g SET EXPRESSION AS (a * 3)")
        conn.execute("ALTER TABLE v ALTER COLUMN g SET EXPRESSION AS (a * 3)")
        conn.execute("ALTER TABLE s ALTER COLUMN g DROP EXPRESSION")
        assert ("s", "AccessExclusiveLock") in _locks(admin, conn)
        conn.commit()
        after = _files(admin, "s"), _files(admin, "v")
        assert after[0] != before[0] and after[1] == before[1]


def test_index_storage_changes(dsn: str) -> None:
    setup = ["CREATE TABLE t (a int)", "CREATE INDEX i ON t (a)"]
    with _open(dsn, setup) as (admin, conn, _notes):
        conn.execute("ALTER INDEX i SET (fillfactor = 70)")
        conn.execute("ALTER TABLE t SET (fillfactor = 70)")
        assert _locks(admin, conn) == {
            ("i", "ShareUpdateExclusiveLock"),
            ("t", "ShareUpdateExclusiveLock"),
        }
    with _open(dsn, []) as (admin, conn, _notes):
        conn.execute("ALTER INDEX i SET TABLESPACE pg_default")
        assert ("i", "AccessExclusiveLock") in _locks(admin, conn)
        # ... which makes plain reads of the table wait.
        admin.execute("SET lock_timeout = '100ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            admin.execute("SELECT * FROM t WHERE a = 1")
