"""``migcheck stats`` on a real server, as a user runs it.

Row counts and sizes of tables whose contents the test knows (after ANALYZE), a
partitioned parent counting its partitions, the file read back by ``check
--table-stats`` (its exit code changes because of it), a role with no privilege at all,
no wait behind a table locked by a migration, pg_stat_statements absent (the session
server does not preload it) and present (a cluster of the system's PostgreSQL started
with it preloaded, skipped where there is none), and DSNs whose password must never be
printed.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migcheck.tablestats import load_table_stats

psycopg = pytest.importorskip("psycopg")

SECRET = "Sup3rSecretPw"


def migcheck(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "migcheck", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "MIGCHECK_NO_CACHE": "1"},
        timeout=120,
    )


def _poll(conn: Any, sql: str, want: object, seconds: float = 20.0) -> None:
    """Statistics reach the views asynchronously (a backend flushes them when idle)."""
    deadline = time.monotonic() + seconds
    while True:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        got = conn.execute(sql).fetchone()[0]
        if got == want or time.monotonic() > deadline:
            assert got == want, sql
            return
        time.sleep(0.05)


@pytest.fixture
def reader(dsn: str) -> Iterator[str]:
    """A DSN for a login role with no privilege on anything, on a database the test
    filled as the superuser."""
    role = f"reader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE orders (id bigint PRIMARY KEY, note text, qty int);"
            "INSERT INTO orders SELECT g, md5(g::text), g % 7 FROM generate_series(1, 5000) g;"
            "CREATE TABLE lookups (id int PRIMARY KEY);"
            "INSERT INTO lookups SELECT generate_series(1, 40);"
            "CREATE TABLE events (id int, at date NOT NULL) PARTITION BY RANGE (at);"
            "CREATE TABLE events_2025 PARTITION OF events"
            "  FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');"
            "CREATE TABLE events_2026 PARTITION OF events"
            "  FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');"
            "INSERT INTO events SELECT g, date '2025-06-01' + (g % 400) FROM generate_series(1, 300) g;"
            "UPDATE orders SET qty = 0 WHERE id <= 10;"
            "DELETE FROM lookups WHERE id > 30;"
        )
        conn.execute("ANALYZE")
        conn.execute(f"CREATE ROLE {role} LOGIN")
        _poll(conn, "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'orders'", 10)
        _poll(conn, "SELECT n_tup_del FROM pg_stat_user_tables WHERE relname = 'lookups'", 10)
    try:
        yield f"{dsn} user={role}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP ROLE {role}")


def test_known_tables_as_a_role_without_privileges_while_a_migration_holds_a_lock(
    dsn: str, reader: str, tmp_path: Path
) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        orders_main = conn.execute("SELECT pg_relation_size('orders')").fetchone()[0]
        orders_index = conn.execute("SELECT pg_relation_size('orders_pkey')").fetchone()[0]
    # A migration in progress: stats must not queue behind its ACCESS EXCLUSIVE lock
    # (lock_timeout is 1 s: a lock request would fail, not wait).
    blocker = psycopg.connect(dsn)
    blocker.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
    try:
        proc = migcheck("stats", "--dsn", reader, "-o", str(tmp_path / "stats.json"))
    finally:
        blocker.rollback()
        blocker.close()
    assert proc.returncode == 0, proc.stderr
    assert "wrote 5 tables and 0 queries" in proc.stderr
    assert "pg_stat_statements is not installed in this database" in proc.stderr
    doc = json.loads((tmp_path / "stats.json").read_text())
    assert doc["version"] == 1 and doc["queries"] == []
    tables = {(t["schema"], t["name"]): t for t in doc["tables"]}
    assert set(tables) == {
        ("public", n) for n in ("orders", "lookups", "events", "events_2025", "events_2026")
    }
    orders = tables[("public", "orders")]
    assert orders == {
        "schema": "public",
        "name": "orders",
        "rows": 5000,
        "bytes": orders_main,
        "index_bytes": orders_index,
        "n_tup_ins": 5000,
        "n_tup_upd": 10,
        "n_tup_del": 0,
    }
    assert tables[("public", "lookups")]["rows"] == 30
    assert tables[("public", "lookups")]["n_tup_del"] == 10
    # The parent counts its partitions (ALTER TABLE on it works on all of them).
    parts = [tables[("public", f"events_{y}")] for y in (2025, 2026)]
    assert sum(p["rows"] for p in parts) == 300 and all(p["rows"] > 0 for p in parts)
    assert tables[("public", "events")]["rows"] == 300
    assert tables[("public", "events")]["bytes"] == sum(p["bytes"] for p in parts) > 0
    assert tables[("public", "events")]["n_tup_ins"] == 300
    # The reader D's loader uses accepts it.
    assert load_table_stats(str(tmp_path / "stats.json")).find("orders") is not None


def test_check_table_stats_reads_the_file(dsn: str, reader: str, tmp_path: Path) -> None:
    migrations = tmp_path / "db" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "0001_init.sql").write_text("CREATE TABLE orders (id bigint, note text);\n")
    (migrations / "0002_index.sql").write_text("CREATE INDEX orders_note_idx ON orders (note);\n")
    proc = migcheck("stats", "--dsn", reader, "-o", "stats.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # Without sizes the index build is an error; with the measured 5,000 rows it is a
    # small table's brief lock.
    without = migcheck("--format", "json", "db/migrations", cwd=tmp_path)
    assert without.returncode == 1, without.stdout
    with_stats = migcheck(
        "--format", "json", "--table-stats", "stats.json", "db/migrations", cwd=tmp_path
    )
    assert with_stats.returncode == 0, with_stats.stdout + with_stats.stderr
    found = [
        f for f in json.loads(with_stats.stdout)["findings"] if f["rule"] == "non-concurrent-index"
    ]
    assert found and found[0]["severity"] == "info"
    assert "5,000 rows" in found[0]["evidence"]


def test_output_to_stdout_and_unwritable_output(reader: str, tmp_path: Path) -> None:
    proc = migcheck("stats", "--dsn", reader, "-o", "-")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["version"] == 1
    bad = migcheck("stats", "--dsn", reader, "-o", str(tmp_path / "missing" / "s.json"))
    assert bad.returncode == 2
    assert bad.stderr.startswith("migcheck stats: cannot write ")
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize(
    "bad_dsn",
    [
        f"postgresql://app:{SECRET}@localhost:notaport/db",
        f"postgresql://app:{SECRET}%zz@localhost/db",
        f"postgresql://app@localhost/db?password={SECRET}&bogus=1",
        f"host=/nonexistent-migcheck-dir password={SECRET} user=app",
        f"host=/tmp password='{SECRET}",
        f"host=/tmp password={SECRET} nosuchoption=1",
    ],
)
def test_the_password_is_never_printed(bad_dsn: str) -> None:
    proc = migcheck("stats", "--dsn", bad_dsn, "-o", "-")
    assert proc.returncode == 2
    assert SECRET not in proc.stdout + proc.stderr
    assert proc.stderr.startswith("migcheck stats: ")
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stdout == ""


def test_wrong_password_is_not_echoed(pg_session: Any) -> None:
    # The session server trusts its socket; over TCP with a password a wrong one fails
    # with the server's message, which must not carry it either.
    proc = migcheck(
        "stats", "--dsn", f"postgresql://nobody_here:{SECRET}@127.0.0.1:1/postgres", "-o", "-"
    )
    assert proc.returncode == 2
    assert SECRET not in proc.stderr and "cannot connect" in proc.stderr


def test_show_sql_is_what_runs() -> None:
    from migcheck.stats_collect import TABLES_SQL, queries_sql

    proc = migcheck("stats", "--show-sql", "--top", "7")
    assert proc.returncode == 0
    assert TABLES_SQL in proc.stdout
    assert queries_sql(7) in proc.stdout and "LIMIT 7" in proc.stdout
    assert "BEGIN TRANSACTION READ ONLY;" in proc.stdout


def _system_pg_with_pgss() -> Path | None:
    for lib in sorted(glob.glob("/usr/lib/postgresql/*/lib/pg_stat_statements.so")):
        bin_dir = Path(lib).parent.parent / "bin"
        if (bin_dir / "postgres").exists():
            return bin_dir
    return None


@pytest.mark.parametrize("case", ["preloaded", "not preloaded", "no usage on its schema"])
def test_pg_stat_statements_present(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = _system_pg_with_pgss()
    if bin_dir is None:
        pytest.skip("no system PostgreSQL with pg_stat_statements (apt-get install postgresql)")
    from migcheck.live import cluster

    if case != "not preloaded":
        monkeypatch.setitem(
            cluster._SERVER_SETTINGS, "shared_preload_libraries", "pg_stat_statements"
        )
    server = cluster.ClusterServer(bin_dir, kind="pg_bin", statement_timeout_s=60, persistent=False)
    try:
        name = server.new_name("stats")
        server.create_database(name)
        with server.connect(name) as admin:
            # Not in public: where the extension lives is looked up, not assumed.
            admin.execute("CREATE SCHEMA ext")
            admin.execute("CREATE EXTENSION pg_stat_statements SCHEMA ext")
            if case != "no usage on its schema":
                admin.execute(f"GRANT USAGE ON SCHEMA ext TO {server.runner_role}")
            admin.execute("SELECT 'the admin role ran this' FROM pg_class LIMIT 1")
        with server.connect_runner(name) as app:
            app.execute("CREATE TABLE orders (id int PRIMARY KEY, qty int)")
            app.execute("INSERT INTO orders SELECT generate_series(1, 100), 1")
            for i in range(30):
                app.execute("SELECT qty FROM orders WHERE id = %s", (i,))
            for i in range(12):
                app.execute("/* app:v2 */ UPDATE orders SET qty = qty WHERE id = %s", (i,))
            app.execute("COMMENT ON TABLE orders IS 'hunter2 is a literal'")
        runner = server.runner_conninfo(name)
        password = server._runner_password
        assert password and password in runner
        proc = migcheck("stats", "--dsn", runner, "--top", "2", "-o", "-")
        if case == "preloaded":
            # What --show-sql prints (and docs/stats.md shows) runs as pasted, by hand.
            from migcheck.stats_collect import show_sql

            by_hand = show_sql(2).replace("public.pg_stat_statements", "ext.pg_stat_statements")
            with psycopg.connect(runner, autocommit=True) as dba:
                cur = dba.execute(by_hand)
                results = []
                while True:
                    if cur.description is not None:
                        results.append(cur.fetchall())
                    if not cur.nextset():
                        break
    finally:
        server.close()
    assert proc.returncode == 0, proc.stderr
    assert password not in proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert [t["name"] for t in doc["tables"]] == ["orders"]
    if case == "not preloaded":
        # Installed but not loaded: the view raises; the tables are still written.
        assert doc["queries"] == []
        assert "pg_stat_statements cannot be read" in proc.stderr
        assert "shared_preload_libraries" in proc.stderr
        return
    if case == "no usage on its schema":
        assert doc["queries"] == []
        assert "pg_stat_statements cannot be read" in proc.stderr
        assert "permission denied for schema ext" in proc.stderr
        return
    assert [(q["query"], q["calls"]) for q in doc["queries"]] == [
        ("SELECT qty FROM orders WHERE id = $1", 30),
        ("/* app:v2 */ UPDATE orders SET qty = qty WHERE id = $1", 12),
    ]
    assert all(isinstance(q["mean_ms"], float) and q["mean_ms"] >= 0 for q in doc["queries"])
    assert "hunter2" not in proc.stdout  # utility statements are left out
    tables, found, top, hidden = results
    assert [row[:2] for row in tables] == [("public", "orders")] and found == [("ext", True)]
    assert [row[:2] for row in top] == [(q["query"], q["calls"]) for q in doc["queries"]]
    assert hidden[0][0] > 0
    # The admin role's statements are hidden from the runner: said, not guessed at.
    assert "query texts of other roles are hidden" in proc.stderr


def test_the_docs_show_exactly_the_sql_that_runs() -> None:
    from migcheck.stats_collect import show_sql

    page = (Path(__file__).resolve().parents[2] / "docs" / "stats.md").read_text()
    assert f"```sql\n{show_sql()}```" in page


def test_the_cli_start_up_does_not_import_psycopg() -> None:
    code = "import sys, migcheck.cli; print('psycopg' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
