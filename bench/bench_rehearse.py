"""Benchmark of the rehearsal (issue 15) on the embedded PostgreSQL.

Prints figures and ratios against the issue's goals; asserts nothing about time:

* seeding: a 1,000,000-row, 8-column table filled with one set-based
  ``INSERT ... SELECT ... FROM generate_series`` (primary key in place, as the base
  migrations leave it), in rows/s, then its ANALYZE (goal: 1M rows under 15 s);
* sampling overhead: the app's throughput (K clients in a closed loop of primary-key
  SELECTs) with and without the lock sampler polling every 15 ms, in alternated
  windows so drift hits both alike, with the spread between the windows without it as
  the noise to read it against (goal: under 5%). It uses ``migcheck.rehearse.sampler.Sampler`` when
  that exists, else the same query in a loop of its own (said in the output);
* throughput: the figures ``tablestats.THROUGHPUT`` assumes for its duration estimates
  (rewrite MB/s, index build rows/s, validation scan rows/s), measured on this table
  with ``bench_throughput.measure`` next to the constants;
* the rehearsal: ``migcheck rehearse --format json`` of a 3-statement changeset (an
  instant ADD COLUMN, CREATE INDEX CONCURRENTLY, a rewriting type change) on the same
  table and volume under K clients: its total time and each statement's figures. Skipped
  with a message where the command does not exist (goal: the whole bench under 90 s).

    python bench/bench_rehearse.py [--rows 1000000] [--clients 4] [--seconds 2]
                                   [--pg-version 18] [--skip-rehearse]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_throughput import measure, report

GOALS = {"seed_s_per_1m": 15.0, "overhead_pct": 5.0, "bench_s": 90.0}

SCHEMA = """\
CREATE TABLE bench (
    id bigint PRIMARY KEY,
    account_id integer NOT NULL,
    status text NOT NULL,
    amount numeric(12, 2) NOT NULL,
    qty integer NOT NULL,
    note text,
    created_at timestamptz NOT NULL,
    payload jsonb
);
"""
SEED = """\
INSERT INTO bench
SELECT g,
       (g %% 5000) + 1,
       (ARRAY['new', 'paid', 'shipped', 'void'])[(g %% 4) + 1],
       ((g %% 100000) / 100.0)::numeric(12, 2),
       g %% 50,
       'note ' || (g %% 977),
       timestamptz '2025-01-01' + (g %% 31536000) * interval '1 second',
       jsonb_build_object('v', g %% 10)
FROM generate_series(1, %s) AS g
"""
CHANGESET = """\
ALTER TABLE bench ADD COLUMN shipped_at timestamptz;
CREATE INDEX CONCURRENTLY bench_status_idx ON bench (status);
ALTER TABLE bench ALTER COLUMN qty TYPE bigint;
"""
OLD_APP = """\
-- name: findOrder
SELECT id, account_id, status, amount, qty, note, created_at FROM bench WHERE id = $1;

-- name: listAccountOrders
SELECT id, status, amount FROM bench WHERE account_id = $1 ORDER BY id LIMIT 20;

-- name: touchOrder
UPDATE bench SET note = $1 WHERE id = $2;
"""
_WAITING_FALLBACK = """
SELECT pid, pg_catalog.pg_blocking_pids(pid) FROM pg_catalog.pg_stat_activity
WHERE pid = ANY(%s) AND wait_event_type = 'Lock'
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=2.0, help="per throughput window")
    ap.add_argument("--pg-version", type=int, default=None)
    ap.add_argument("--skip-rehearse", action="store_true")
    args = ap.parse_args()
    started = time.perf_counter()

    from migcheck.live.cluster import ClusterServer
    from migcheck.live.server import choose_embedded

    with tempfile.TemporaryDirectory(prefix="migcheck-bench-rehearse-") as cache:
        os.chmod(cache, 0o711)  # the server's own user must reach it when we are root
        server = ClusterServer(
            choose_embedded(args.pg_version), kind="embedded", statement_timeout_s=600,
            root=Path(cache), persistent=False,
        )  # fmt: skip
        try:
            name = server.new_name("bench")
            server.create_database(name)
            conn = server.connect(name)
            conn.execute("SET statement_timeout = 0")
            conn.execute("SET search_path = public")  # admin connections pin pg_catalog
            version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
            print(f"PostgreSQL {version} (embedded), {os.cpu_count()} CPUs")
            conn.execute(SCHEMA)
            t0 = time.perf_counter()
            conn.execute(SEED, (args.rows,))
            seed_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            conn.execute("ANALYZE bench")
            analyze_s = time.perf_counter() - t0
            per_1m = (seed_s + analyze_s) * 1_000_000 / args.rows
            print(
                f"seeding: {args.rows:,} rows x 8 columns in {seed_s:.1f} s "
                f"({args.rows / seed_s:,.0f} rows/s), ANALYZE {analyze_s:.1f} s; "
                f"{per_1m:.1f} s per million rows (goal < {GOALS['seed_s_per_1m']:.0f} s)"
            )
            overhead(server, name, args)
            figures = measure(conn, "bench", args.rows, text_col="note", int_col="qty")
            print(f"throughput on this table ({figures['bytes'] / 1e6:,.0f} MB):")
            report(figures)
            conn.close()
        finally:
            server.close()
    if not args.skip_rehearse:
        rehearse(args)
    total = time.perf_counter() - started
    print(f"whole bench: {total:.0f} s (goal < {GOALS['bench_s']:.0f} s)")
    return 0


def overhead(server: Any, dbname: str, args: argparse.Namespace) -> None:
    """App throughput with and without the sampler, in windows ordered ABBA ABBA (so a
    linear drift of the machine's load hits both alike), after a warm-up window."""
    import psycopg

    info = server.conninfo(dbname)
    conns = [psycopg.connect(info, autocommit=True) for _ in range(args.clients)]
    pids = [c.info.backend_pid for c in conns]
    admin = psycopg.connect(info, autocommit=True)
    rates: dict[bool, list[float]] = {False: [], True: []}
    windows: list[str] = []
    label = "migcheck.rehearse.sampler.Sampler"
    try:
        _closed_loop(conns, args.rows, 1.0)  # caches and prepared statements warm
        for sampled in (False, True, True, False) * 2:
            sampler: Any = None
            if sampled:
                sampler, label = _sampler(admin, pids, args.seconds)
            done = _closed_loop(conns, args.rows, args.seconds)
            if sampler is not None:
                sampler.stop()
            rates[sampled].append(done / args.seconds)
            windows.append(f"{'with' if sampled else 'without'} {done / args.seconds:,.0f}")
    finally:
        for c in [*conns, admin]:
            c.close()
    off, on = (sum(rates[k]) / len(rates[k]) for k in (False, True))
    cost = (off - on) / off * 100 if off else 0.0
    spread = (max(rates[False]) - min(rates[False])) / off * 100 if off else 0.0
    print(
        f"sampling overhead ({label}, every 15 ms, {args.clients} clients): "
        f"{off:,.0f} queries/s without, {on:,.0f} with: {cost:+.1f}% "
        f"(goal < {GOALS['overhead_pct']:.0f}%; windows without it alone vary by "
        f"{spread:.0f}% on this machine)"
    )
    print(f"  windows in order (queries/s): {', '.join(windows)}")


def _sampler(admin: Any, pids: list[int], seconds: float) -> tuple[Any, str]:
    deadline = time.perf_counter() + seconds + 5
    try:
        from migcheck.rehearse.sampler import Sampler

        sampler = Sampler(admin, pids, 0.015, deadline)
        sampler.start()
        return sampler, "migcheck.rehearse.sampler.Sampler"
    except (ImportError, TypeError, AttributeError):
        return _LocalSampler(admin, pids, deadline), "a local loop of the same query"


class _LocalSampler:
    def __init__(self, conn: Any, pids: list[int], deadline: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(conn, pids, deadline))
        self._thread.start()

    def _run(self, conn: Any, pids: list[int], deadline: float) -> None:
        while not self._stop.is_set() and time.perf_counter() < deadline:
            conn.execute(_WAITING_FALLBACK, (pids,)).fetchall()
            self._stop.wait(0.015)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _closed_loop(conns: list[Any], rows: int, seconds: float) -> int:
    """Queries completed by the clients in ``seconds``, each in a closed loop."""
    done = [0] * len(conns)
    end = time.perf_counter() + seconds

    def client(i: int) -> None:
        rng = random.Random(i)
        conn = conns[i]
        while time.perf_counter() < end:
            conn.execute(
                "SELECT id, status, amount FROM public.bench WHERE id = %s",
                (rng.randint(1, rows),),
                prepare=True,
            ).fetchone()
            done[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(conns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done)


def rehearse(args: argparse.Namespace) -> None:
    probe = subprocess.run(
        [sys.executable, "-m", "migcheck", "rehearse", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    # Without the command, ``migcheck rehearse`` would mean ``migcheck check rehearse``.
    if probe.returncode != 0 or "--max-stall" not in probe.stdout:
        print("rehearsal: skipped (this migcheck has no `rehearse` command)")
        return
    with tempfile.TemporaryDirectory(prefix="migcheck-bench-changeset-") as tmp:
        root = Path(tmp)
        migrations = root / "migrations"
        migrations.mkdir()
        (migrations / "0001_bench.sql").write_text(SCHEMA)
        (migrations / "0002_changeset.sql").write_text(CHANGESET)
        (root / "old_app.sql").write_text(OLD_APP)
        cmd = [
            sys.executable, "-m", "migcheck", "rehearse", str(migrations),
            "--old-queries", str(root / "old_app.sql"), "--rows", str(args.rows),
            "--clients", str(args.clients), "--format", "json", "--fail-on", "never",
            "--no-cache",
        ]  # fmt: skip
        if args.pg_version:
            cmd += ["--pg-version", str(args.pg_version)]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=root)
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        print(f"rehearsal: exit {proc.returncode} after {wall:.0f} s: {' | '.join(tail)}")
        return
    try:
        data = json.loads(proc.stdout)["rehearsal"]
    except (ValueError, KeyError, TypeError):
        print(f"rehearsal: {wall:.0f} s, but its JSON has no rehearsal object")
        return
    base = data.get("baseline") or {}
    print(
        f"rehearsal of a 3-statement changeset on {args.rows:,} rows under "
        f"{args.clients} clients: {wall:.1f} s in all (seeding, server and cleanup included); "
        f"baseline p99 {_fmt(base.get('p99_ms'))} over {base.get('queries', '?')} queries"
    )
    for s in data.get("statements") or []:
        sql = " ".join(str(s.get("sql", "")).split())[:60]
        print(
            f"  line {s.get('line')}: {sql}: {_fmt(s.get('duration_ms'))}, "
            f"{s.get('lock_mode') or 'no lock'} held {_fmt(s.get('lock_held_ms'))}, "
            f"rewrote {s.get('rewrote')}, {s.get('waiting_queries')} app queries waited "
            f"(longest {_fmt(s.get('max_wait_ms'))}), app p99 {_fmt(s.get('p99_ms'))}"
        )


def _fmt(ms: object) -> str:
    if not isinstance(ms, (int, float)):
        return "?"
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.1f} ms"


if __name__ == "__main__":
    raise SystemExit(main())
