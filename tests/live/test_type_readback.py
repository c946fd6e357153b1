"""What PostgreSQL and psycopg really do for the type changes change-column-type calls
safe or warns about (issue 12): the ALTER succeeds on the old type's extreme values, the
Python type psycopg returns before and after, and whether the table is rewritten. Also the
column swap's lost write, which drop-column reports."""

from __future__ import annotations

import datetime
import decimal

import pytest

from migcheck import pgcatalog
from migcheck.pgcatalog.typechange import is_utc

psycopg = pytest.importorskip("psycopg")

# old type, new type, extreme values of the old type, Python type before, after.
PAIRS = [
    ("varchar(10)", "varchar(20)", ["'xxxxxxxxxx'"], str, str),
    ("varchar(10)", "text", ["'xxxxxxxxxx'"], str, str),
    ("smallint", "integer", ["-32768", "32767"], int, int),
    ("integer", "bigint", ["-2147483648", "2147483647"], int, int),
    ("integer", "numeric", ["-2147483648", "2147483647"], int, decimal.Decimal),
    (
        "bigint",
        "numeric(19,0)",
        ["-9223372036854775808", "9223372036854775807"],
        int,
        decimal.Decimal,
    ),
    ("integer", "double precision", ["-2147483648", "2147483647"], int, float),
    ("smallint", "real", ["-32768", "32767"], int, float),
    (
        "numeric(10,2)",
        "numeric(14,4)",
        ["-99999999.99", "99999999.99"],
        decimal.Decimal,
        decimal.Decimal,
    ),
    ("char(5)", "text", ["'ab   '"], str, str),
    (
        "timestamp(3)",
        "timestamptz(3)",
        ["'2024-01-01 10:00:00.123'"],
        datetime.datetime,
        datetime.datetime,
    ),
]


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{p[0]}->{p[1]}" for p in PAIRS])
def test_every_old_value_converts_and_reads_back_as_stated(dsn: str, pair: tuple) -> None:
    old, new, values, before_type, after_type = pair
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute(f"CREATE TABLE t (x {old})")
        for value in values:
            conn.execute(f"INSERT INTO t VALUES ({value})")
        before = [row[0] for row in conn.execute("SELECT x FROM t")]
        conn.execute(f"ALTER TABLE t ALTER COLUMN x TYPE {new}")  # never fails on them
        after = [row[0] for row in conn.execute("SELECT x FROM t")]
    assert {type(v) for v in before} == {before_type}
    assert {type(v) for v in after} == {after_type}
    old_t, new_t = pgcatalog.parse_type(old), pgcatalog.parse_type(new)
    assert old_t is not None and new_t is not None
    known = pgcatalog.readback(old_t, new_t)
    if [str(v) for v in before] == [str(v) for v in after] and before_type is after_type:
        # Same text, same type: quiet for every client.
        assert known is None or not (known.psycopg or known.everyone)
    else:
        assert known is not None and (known.psycopg or known.everyone)  # 1.50 → 1.5000, 'ab'
    if before_type is not after_type:
        assert known is not None
        assert after_type.__name__ in known.psycopg or "aware datetimes" in known.psycopg
    if old.startswith("timestamp"):
        assert before[0].tzinfo is None and after[0].tzinfo is not None
        with pytest.raises(TypeError):
            _ = before[0] < after[0]  # Python refuses to compare naive and aware


def test_timestamp_p_to_timestamptz_p_rewrites_even_in_utc(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        for name, old, new, rewrites in (
            ("a", "timestamp(3)", "timestamptz(3)", True),
            ("b", "timestamp(3)", "timestamptz", False),
        ):
            conn.execute(f"CREATE TABLE {name} (x {old})")
            conn.execute(f"INSERT INTO {name} VALUES ('2024-01-01 10:00:00')")
            node = f"SELECT pg_relation_filenode('{name}')"
            first = conn.execute(node).fetchone()
            conn.execute(f"ALTER TABLE {name} ALTER COLUMN x TYPE {new}")
            assert (conn.execute(node).fetchone() != first) is rewrites


def test_timestamptz_reads_old_values_in_the_session_time_zone(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET TimeZone = 'America/New_York'")
        conn.execute("CREATE TABLE t (x timestamp)")
        conn.execute("INSERT INTO t VALUES ('2024-01-01 10:00:00')")
        conn.execute("ALTER TABLE t ALTER COLUMN x TYPE timestamptz")
        conn.execute("SET TimeZone = 'UTC'")
        row = conn.execute("SELECT x FROM t").fetchone()
    assert row is not None
    assert row[0] == datetime.datetime(2024, 1, 1, 15, 0, tzinfo=datetime.UTC)  # shifted


def test_column_swap_loses_a_write_made_between_the_copy_and_the_swap(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as mig, psycopg.connect(dsn, autocommit=True) as app:
        mig.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance integer)")
        mig.execute("INSERT INTO accounts VALUES (1, 10)")
        mig.execute("ALTER TABLE accounts ADD COLUMN balance_new numeric(12,2)")
        mig.execute("UPDATE accounts SET balance_new = balance")
        app.execute("INSERT INTO accounts (id, balance) VALUES (2, 20)")  # the old app
        mig.execute("ALTER TABLE accounts DROP COLUMN balance")
        mig.execute("ALTER TABLE accounts RENAME COLUMN balance_new TO balance")
        rows = dict(app.execute("SELECT id, balance FROM accounts").fetchall())
    assert rows == {1: decimal.Decimal("10.00"), 2: None}  # the old app's 20 is gone


@pytest.mark.parametrize("zone", ["UTC", "Etc/UTC", "GMT", "Zulu", "Europe/Paris"])
def test_which_session_zones_skip_the_timestamptz_rewrite(dsn: str, zone: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"SET TimeZone = '{zone}'")
        conn.execute("CREATE TABLE t (x timestamp)")
        conn.execute("INSERT INTO t VALUES ('2024-01-01 10:00:00')")
        first = conn.execute("SELECT pg_relation_filenode('t')").fetchone()
        conn.execute("ALTER TABLE t ALTER COLUMN x TYPE timestamptz")
        rewritten = conn.execute("SELECT pg_relation_filenode('t')").fetchone() != first
    assert rewritten is not is_utc(zone)
