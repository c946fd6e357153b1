"""Contract gating: the deployed app's schema, read from git, tells the contract step of
expand/contract from a mistake (Prisma and SQLAlchemy, each in a temporary git repo)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from migcheck.appschema import from_prisma
from migcheck.appschema.sqlalchemy_ast import from_sqlalchemy

ENV = {
    **os.environ,
    "MIGCHECK_NO_CACHE": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@e",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@e",
}
MIG = "prisma/migrations"
INIT = (
    'CREATE TABLE "User" ("id" SERIAL NOT NULL, "email" TEXT NOT NULL, "bio" TEXT,\n'
    '    CONSTRAINT "User_pkey" PRIMARY KEY ("id"));\n'
)
SCHEMA = """datasource db {{
  provider = "postgresql"
  url      = env("DATABASE_URL")
}}

model User {{
  id    Int     @id @default(autoincrement())
  email String
{bio}}}
"""


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env=ENV, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def repo(tmp_path: Path, base: dict[str, str], pr: dict[str, str]) -> Path:
    root = tmp_path / "app"
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    write(root, base)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "deployed")
    git(root, "checkout", "-q", "-b", "pr")
    write(root, pr)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "pr")
    return root


def lint(root: Path, *args: str) -> list[dict[str, object]]:
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", "--format", "json", *args],
        cwd=root,
        env=ENV,
        capture_output=True,
        text=True,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["findings"]


DROP = {f"{MIG}/20240601000000_drop_bio/migration.sql": 'ALTER TABLE "User" DROP COLUMN "bio";\n'}
BASE = {
    f"{MIG}/20240101000000_init/migration.sql": INIT,
    f"{MIG}/migration_lock.toml": 'provider = "postgresql"\n',
}


def test_prisma_field_already_ignored_on_the_deployed_schema_clears_the_drop(
    tmp_path: Path,
) -> None:
    root = repo(
        tmp_path,
        {**BASE, "prisma/schema.prisma": SCHEMA.format(bio="  bio   String? @ignore\n")},
        {**DROP, "prisma/schema.prisma": SCHEMA.format(bio="")},
    )
    [f] = lint(root, "--diff", "main", "prisma")
    assert (f["rule"], f["severity"], f["original_severity"]) == ("drop-column", "info", "error")
    assert f["evidence"] == (
        'verified safe: main:prisma/schema.prisma marks "User"."bio" @ignore (line 9)'
    )
    assert "Verified safe" in str(f["message"])


def test_field_removed_in_the_same_change_keeps_the_error(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {**BASE, "prisma/schema.prisma": SCHEMA.format(bio="  bio   String?\n")},
        {**DROP, "prisma/schema.prisma": SCHEMA.format(bio="")},
    )
    [f] = lint(root, "--diff", "main", "prisma")
    assert (f["rule"], f["severity"]) == ("drop-column", "error")
    assert "evidence" not in f


def test_a_shallow_clone_reads_the_deployed_schema(tmp_path: Path) -> None:
    origin = repo(
        tmp_path,
        {**BASE, "prisma/schema.prisma": SCHEMA.format(bio="  bio   String? @ignore\n")},
        {**DROP, "prisma/schema.prisma": SCHEMA.format(bio="")},
    )
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "pr", f"file://{origin}", str(clone))
    [f] = lint(clone, "--diff", "origin/main", "prisma")
    assert f["severity"] == "info" and "origin/main:prisma/schema.prisma" in str(f["evidence"])


def test_sqlalchemy_model_without_the_column_clears_the_drop(tmp_path: Path) -> None:
    models = (
        "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n"
        "import sqlalchemy as sa\n\n"
        "class Base(DeclarativeBase):\n    pass\n\n"
        "class User(Base):\n"
        "    __tablename__ = 'users'\n"
        "    id: Mapped[int] = mapped_column(primary_key=True)\n"
        "    email: Mapped[str]\n{bio}"
    )
    base = {
        "db/migrations/0001_init.sql": (
            "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, bio text);\n"
        ),
        "app/models.py": models.format(bio=""),
    }
    root = repo(
        tmp_path, base, {"db/migrations/0002_drop.sql": "ALTER TABLE users DROP COLUMN bio;\n"}
    )
    [f] = lint(root, "--diff", "main", "--app-schema", "app/models.py", "db")
    assert f["severity"] == "info"
    assert f["evidence"] == 'verified safe: main:app/models.py no longer maps "users"."bio"'
    # Still mapped on the deployed version: the drop is the mistake it looks like.
    root2 = repo(
        tmp_path / "second",
        {**base, "app/models.py": models.format(bio="    bio = sa.Column(sa.Text)\n")},
        {"db/migrations/0002_drop.sql": "ALTER TABLE users DROP COLUMN bio;\n"},
    )
    found = lint(root2, "--diff", "main", "--app-schema", "app/models.py", "db")
    # HEAD's models still map it too: app-schema-mismatch says so beside the drop.
    assert sorted(str(x["rule"]) for x in found) == ["app-schema-mismatch", "drop-column"]
    [f] = [x for x in found if x["rule"] == "drop-column"]
    assert f["severity"] == "error"


def test_without_a_deployed_version_or_schema_nothing_changes(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {**BASE, "prisma/schema.prisma": SCHEMA.format(bio="  bio   String? @ignore\n")},
        DROP,
    )
    [f] = lint(root, "prisma")  # no --diff, no --app-ref
    assert f["severity"] == "error" and "evidence" not in f


def test_readers_map_names_as_the_database_sees_them() -> None:
    prisma = from_prisma(
        'model Post {\n  id Int @id\n  authorId Int @map("author_id")\n'
        "  author User @relation(fields: [authorId], references: [id])\n"
        '  @@map("posts")\n}\nmodel User {\n  id Int @id\n  posts Post[]\n  @@ignore\n}\n',
        "schema.prisma",
        "main:schema.prisma",
    )
    assert prisma.uses_column("posts", "author_id") and not prisma.uses_column("posts", "authorId")
    assert not prisma.uses_column("posts", "author")  # a relation field has no column
    assert not prisma.uses_table("User") and prisma.table("User") is not None
    models = from_sqlalchemy(
        "class A(Base):\n    __tablename__ = 'a'\n    __table_args__ = {'schema': 'app'}\n"
        "    x = Column('x_col', Integer)\n    y = db.Column(db.Text)\n"
        "    rel = relationship('B')\n"
        "t = Table('legacy', metadata, Column('k', Integer), schema='old')\n",
        "models.py",
        "main:models.py",
    )
    assert models.uses_column("app.a", "x_col") and models.uses_column("a", "y")
    assert not models.uses_column("a", "x") and not models.uses_column("a", "rel")
    assert models.uses_column("old.legacy", "k")
    broken = from_sqlalchemy("class (:\n", "models.py", "main:models.py")
    assert broken.errors and broken.errors[0].startswith("models.py:1: cannot read the models")
