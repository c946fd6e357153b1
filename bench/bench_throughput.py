"""Throughput of the slow operations migcheck warns about, on the embedded PostgreSQL.

migcheck's size-aware messages (``--table-stats``) estimate how long a table rewrite, an
index build or a validation scan holds its lock from a table's bytes and rows. The
figures they use are ``tablestats.THROUGHPUT``; this script measures them, so the
assumption in every message can be checked and updated on other hardware.

    python bench/bench_throughput.py [--rows 2000000] [--pg-version 18]

Prints MB/s for a rewrite (ALTER COLUMN TYPE), rows/s for a btree index build and for a
validation scan (VALIDATE CONSTRAINT of a CHECK, SET NOT NULL), for a table of ``--rows``
rows of about 100 bytes each (an id, a timestamp, two short texts, an integer).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--pg-version", type=int, default=None)
    args = ap.parse_args()

    from migcheck.live.cluster import ClusterServer
    from migcheck.live.server import choose_embedded

    with tempfile.TemporaryDirectory(prefix="migcheck-throughput-") as cache:
        server = ClusterServer(
            choose_embedded(args.pg_version), kind="embedded", statement_timeout_s=600,
            root=Path(cache),
        )  # fmt: skip
        try:
            conn = server.admin()
            conn.execute("SET statement_timeout = 0")
            conn.execute("SET search_path = public")  # the admin connection pins pg_catalog
            conn.execute("DROP TABLE IF EXISTS t")
            conn.execute(
                "CREATE TABLE t AS SELECT g AS id, now() - g * interval '1 second' AS at, "
                "md5(g::text) AS a, left(md5((g * 7)::text), 16) AS b, (g %% 1000)::int AS n "
                "FROM generate_series(1, %s) g",
                (args.rows,),
            )
            conn.execute("VACUUM ANALYZE t")
            size = conn.execute("SELECT pg_table_size('t')").fetchone()[0]  # type: ignore[index]
            mb = size / 1e6

            def timed(sql: str) -> float:
                started = time.perf_counter()
                conn.execute(sql)
                return time.perf_counter() - started

            index_s = timed("CREATE INDEX t_a_idx ON t (a)")
            rewrite_s = timed("ALTER TABLE t ALTER COLUMN n TYPE bigint")
            conn.execute("ALTER TABLE t ADD CONSTRAINT t_n_check CHECK (n >= 0) NOT VALID")
            validate_s = timed("ALTER TABLE t VALIDATE CONSTRAINT t_n_check")
            not_null_s = timed("ALTER TABLE t ALTER COLUMN b SET NOT NULL")
            version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        finally:
            server.close()
    print(f"PostgreSQL {version}, {args.rows:,} rows, {mb:,.0f} MB")
    print(f"rewrite (ALTER COLUMN TYPE, indexes rebuilt): {mb / rewrite_s:8.0f} MB/s")
    print(f"btree index build:                            {args.rows / index_s:8.0f} rows/s")
    print(f"validation scan (VALIDATE CHECK):             {args.rows / validate_s:8.0f} rows/s")
    print(f"SET NOT NULL scan:                            {args.rows / not_null_s:8.0f} rows/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
