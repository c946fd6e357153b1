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
from typing import Any


def measure(conn: Any, table: str, rows: int, *, text_col: str, int_col: str) -> dict[str, float]:
    """The three figures of ``tablestats.THROUGHPUT`` (plus SET NOT NULL) measured on
    ``table`` (``rows`` rows, analysed), in the units THROUGHPUT uses. Alters the table:
    an index on ``text_col``, ``int_col`` rewritten to bigint, a CHECK on it validated,
    ``text_col`` set NOT NULL. ``bench_rehearse.py`` runs it on its 8-column table."""
    size = conn.execute("SELECT pg_table_size(%s::regclass)", (table,)).fetchone()[0]

    def timed(sql: str) -> float:
        started = time.perf_counter()
        conn.execute(sql)
        return time.perf_counter() - started

    index_s = timed(f"CREATE INDEX {table}_{text_col}_idx ON {table} ({text_col})")
    rewrite_s = timed(f"ALTER TABLE {table} ALTER COLUMN {int_col} TYPE bigint")
    conn.execute(
        f"ALTER TABLE {table} ADD CONSTRAINT {table}_{int_col}_check "
        f"CHECK ({int_col} >= 0) NOT VALID"
    )
    validate_s = timed(f"ALTER TABLE {table} VALIDATE CONSTRAINT {table}_{int_col}_check")
    not_null_s = timed(f"ALTER TABLE {table} ALTER COLUMN {text_col} SET NOT NULL")
    return {
        "bytes": float(size),
        "rewrite_bytes_s": size / rewrite_s,
        "index_rows_s": rows / index_s,
        "scan_rows_s": rows / validate_s,
        "not_null_rows_s": rows / not_null_s,
    }


def report(figures: dict[str, float]) -> None:
    """The figures next to the ones migcheck's messages assume."""
    from migcheck.tablestats import THROUGHPUT

    lines = (
        ("rewrite (ALTER COLUMN TYPE, indexes rebuilt)", "rewrite_bytes_s", 1e6, "MB/s"),
        ("btree index build", "index_rows_s", 1.0, "rows/s"),
        ("validation scan (VALIDATE CHECK)", "scan_rows_s", 1.0, "rows/s"),
        ("SET NOT NULL scan", "not_null_rows_s", 1.0, "rows/s"),
    )
    for label, key, unit, name in lines:
        assumed = THROUGHPUT.get(key)
        vs = f"  (tablestats.THROUGHPUT: {assumed / unit:,.0f})" if assumed else ""
        print(f"{label + ':':48s}{figures[key] / unit:12,.0f} {name}{vs}")


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
            figures = measure(conn, "t", args.rows, text_col="a", int_col="n")
            version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        finally:
            server.close()
    print(f"PostgreSQL {version}, {args.rows:,} rows, {figures['bytes'] / 1e6:,.0f} MB")
    report(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
