"""Live check with queries derived from models at two commits of a git repository."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from migcheck.live import run_live
from migcheck.sources import History, Migration

SCHEMA_V1 = """
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id        Int      @id @default(autoincrement())
  email     String   @unique
  name      String?
  createdAt DateTime @default(now()) @map("created_at")

  @@map("users")
}
"""

SCHEMA_V2 = """
datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}

model User {
  id        Int      @id @default(autoincrement())
  email     String   @unique
  role      String
  createdAt DateTime @default(now()) @map("created_at")

  @@map("users")
}
"""

INIT = """CREATE TABLE "users" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");
"""

CHANGE = """ALTER TABLE "users" DROP COLUMN "name";
ALTER TABLE "users" ADD COLUMN "role" TEXT NOT NULL;
"""


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def _commit(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "app"
    repo.mkdir()
    _git(repo, "init", "-q")
    return repo


def _prisma_history(repo: Path) -> History:
    root = repo / "prisma" / "migrations"
    history = History(root=str(root), tool="prisma")
    for folder, selected in (("20240101000000_init", False), ("20240201000000_role", True)):
        path = root / folder / "migration.sql"
        history.migrations.append(
            Migration(
                path=str(path),
                key=folder,
                tool="prisma",
                selected=selected,
                text=path.read_text(),
                notes={"implicit_transaction": True},
            )
        )
    return history


def test_prisma_schema_queries_between_two_commits(repo: Path, dsn: str):
    old = _commit(
        repo,
        {
            "prisma/schema.prisma": SCHEMA_V1,
            "prisma/migrations/20240101000000_init/migration.sql": INIT,
        },
        "init",
    )
    new = _commit(
        repo,
        {
            "prisma/schema.prisma": SCHEMA_V2,
            "prisma/migrations/20240201000000_role/migration.sql": CHANGE,
        },
        "role",
    )
    result = run_live([_prisma_history(repo)], prisma_ref=(old, new), dsn=dsn)

    assert result.input_errors == []
    broken = {p.query.origin.rsplit(" (", 1)[0]: p for p in result.broken_queries}
    assert set(broken) == {
        "prisma User.findMany",
        "prisma User.create (required fields)",
        "prisma User.create (all fields)",
        "prisma User.update name",
    }
    assert all(p.query.version == "old" for p in broken.values())
    # Everything reading "name" (the creates too: they RETURN every field) breaks at the
    # DROP COLUMN on line 1.
    assert {p.broken_by.line for p in broken.values() if p.broken_by} == {1}
    assert broken["prisma User.findMany"].error.sqlstate == "42703"
    # The new client reads "role": it needs the migration first.
    assert {p.query.origin.rsplit(" (", 1)[0] for p in result.needs_migration} >= {
        "prisma User.findMany",
        "prisma User.update role",
    }
    assert all(p.query.version == "new" for p in result.needs_migration)


def test_prisma_ref_errors_are_input_errors(repo: Path, dsn: str):
    _commit(
        repo,
        {
            "prisma/schema.prisma": SCHEMA_V1,
            "prisma/migrations/20240101000000_init/migration.sql": INIT,
            "prisma/migrations/20240201000000_role/migration.sql": CHANGE,
        },
        "all",
    )
    result = run_live([_prisma_history(repo)], prisma_ref=("no-such-ref", ""), dsn=dsn)
    assert [e.message for e in result.input_errors] == [
        "prisma/schema.prisma does not exist at no-such-ref"
    ]
    # The working tree's schema (the second ref, "") still gave the new app's queries.
    assert result.queries_checked > 0


MODELS_V1 = """
from sqlalchemy import Column, Integer, MetaData, String, Table

metadata = MetaData()
accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String, nullable=False),
    Column("nickname", String),
)
"""

MODELS_V2 = MODELS_V1.replace('    Column("nickname", String),\n', "")


@pytest.mark.parametrize("target", ["app.models:metadata", "app/models.py", "app/**/*.py"])
def test_sqlalchemy_models_between_two_commits(
    repo: Path, make_history, dsn: str, target: str
) -> None:
    # The models are read statically at each ref: nothing is imported, so a model module
    # that would fail (or do harm) on import changes nothing.
    trap = "raise SystemExit('imported')\n"
    old = _commit(repo, {"app/__init__.py": trap, "app/models.py": trap + MODELS_V1}, "v1")
    new = _commit(repo, {"app/models.py": trap + MODELS_V2}, "v2")
    hist = make_history(
        ["CREATE TABLE accounts (id serial PRIMARY KEY, email text NOT NULL, nickname text);"],
        ["ALTER TABLE accounts DROP COLUMN nickname;"],
        tool="sql",
    )
    result = run_live(
        [hist],
        sqlalchemy_metadata=target,
        sqlalchemy_ref=(old, new),
        repo_dir=str(repo),
        dsn=dsn,
    )
    assert result.input_errors == []
    [problem] = result.broken_queries
    assert problem.query.source == "sqlalchemy"
    assert problem.query.origin.startswith("sqlalchemy public.accounts select")
    assert problem.error.sqlstate == "42703"
    # No worktree is checked out to read them.
    assert _git(repo, "worktree", "list").count("\n") == 0


def test_sqlalchemy_module_without_a_file_is_a_clear_input_error(
    repo: Path, make_history, dsn: str
) -> None:
    old = _commit(repo, {"app/models.py": MODELS_V1}, "v1")
    hist = make_history(
        ["CREATE TABLE accounts (id serial PRIMARY KEY);"], ["SELECT 1;"], tool="sql"
    )
    result = run_live(
        [hist],
        sqlalchemy_metadata="app.orm:metadata",
        sqlalchemy_ref=(old, ""),
        repo_dir=str(repo),
        dsn=dsn,
    )
    assert [e.message for e in result.input_errors] == [
        "--sqlalchemy-metadata app.orm:metadata: module app.orm has no file app/orm.py or "
        f"app/orm/__init__.py (nor under src/) at {old}; pass the model files' path or glob",
        "--sqlalchemy-metadata app.orm:metadata: module app.orm has no file app/orm.py or "
        "app/orm/__init__.py (nor under src/) in the working tree; pass the model files' "
        "path or glob",
    ]


def test_app_schema_takes_sqlalchemy_models_too(repo: Path, make_history, dsn: str) -> None:
    old = _commit(repo, {"app/models.py": MODELS_V1}, "v1")
    new = _commit(repo, {"app/models.py": MODELS_V2}, "v2")
    hist = make_history(
        ["CREATE TABLE accounts (id serial PRIMARY KEY, email text NOT NULL, nickname text);"],
        ["ALTER TABLE accounts DROP COLUMN nickname;"],
        tool="sql",
    )
    cwd = os.getcwd()
    os.chdir(repo)
    try:
        result = run_live([hist], prisma_schema="app/models.py", prisma_ref=(old, new), dsn=dsn)
    finally:
        os.chdir(cwd)
    assert result.input_errors == []
    assert [p.query.origin.split(" (")[0] for p in result.broken_queries] == [
        "sqlalchemy public.accounts select"
    ]
