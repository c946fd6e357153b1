"""app-schema-mismatch in a pull-request check (``--diff``), in a temporary git repository:
the app's schema at HEAD is compared with the migrations even when the PR changes only
the schema, and a PR that drops a column its own schema still maps gets both findings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
SCHEMA = (
    'datasource db {{\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}}\n\n'
    "model User {{\n  id    Int     @id @default(autoincrement())\n  email String\n"
    "  bio   String?\n{extra}}}\n"
)
MODELS = (
    "import sqlalchemy as sa\nfrom sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n"
    "class Base(DeclarativeBase):\n    pass\n\n"
    "class User(Base):\n    __tablename__ = 'users'\n"
    "    id: Mapped[int] = mapped_column(primary_key=True)\n"
    "    email: Mapped[str]\n    bio: Mapped[str | None]\n{extra}"
)
SQL_INIT = "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, bio text);\n"


def git(cwd: Path, *args: str) -> None:
    proc = subprocess.run(["git", *args], cwd=cwd, env=ENV, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def repo(root: Path, base: dict[str, str], pr: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    for files, message in ((base, "deployed"), (pr, "pr")):
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
        git(root, "add", "-A")
        git(root, "commit", "-q", "--allow-empty", "-m", message)
        if message == "deployed":
            git(root, "checkout", "-q", "-b", "pr")
    return root


def lint(root: Path, *args: str) -> tuple[int, list[dict[str, object]]]:
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", "--format", "json", *args],
        cwd=root, env=ENV, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)["findings"]


PRISMA_BASE = {
    f"{MIG}/migration_lock.toml": 'provider = "postgresql"\n',
    f"{MIG}/20240101000000_init/migration.sql": INIT,
    "prisma/schema.prisma": SCHEMA.format(extra=""),
}


def test_a_pr_that_only_adds_a_field_to_schema_prisma(tmp_path: Path) -> None:
    root = repo(
        tmp_path / "a",
        PRISMA_BASE,
        {"prisma/schema.prisma": SCHEMA.format(extra="  nick  String?\n")},
    )
    code, found = lint(root, "--diff", "main", "prisma")
    assert code == 1
    assert [(f["rule"], f["path"], f["line"]) for f in found] == [
        ("app-schema-mismatch", f"{MIG}/20240101000000_init/migration.sql", 1)
    ]
    assert "prisma/schema.prisma:10" in str(found[0]["message"])


def test_a_pr_that_changes_nothing_the_schema_disagrees_with_is_clean(tmp_path: Path) -> None:
    root = repo(tmp_path / "a", PRISMA_BASE, {"README.md": "docs\n"})
    assert lint(root, "--diff", "main", "prisma") == (0, [])


def test_a_pr_that_drops_a_column_its_head_schema_still_maps(tmp_path: Path) -> None:
    drop = {
        f"{MIG}/20240601000000_drop_bio/migration.sql": 'ALTER TABLE "User" DROP COLUMN "bio";\n'
    }
    root = repo(tmp_path / "a", PRISMA_BASE, drop)
    code, found = lint(root, "--diff", "main", "prisma")
    assert code == 1
    rows = sorted((str(f["rule"]), int(str(f["line"])), int(str(f["column"]))) for f in found)
    assert rows == [("app-schema-mismatch", 1, 1), ("drop-column", 1, 20)]
    drift = next(f for f in found if f["rule"] == "app-schema-mismatch")
    assert str(drift["path"]).endswith("20240601000000_drop_bio/migration.sql")
    assert "prisma/schema.prisma:9" in str(drift["message"])


SA_BASE = {"db/migrations/0001_init.sql": SQL_INIT, "app/models.py": MODELS.format(extra="")}


def test_sqlalchemy_an_attribute_added_with_no_migration(tmp_path: Path) -> None:
    pr = {"app/models.py": MODELS.format(extra="    nick: Mapped[str | None]\n")}
    root = repo(tmp_path / "a", SA_BASE, pr)
    code, found = lint(root, "--diff", "main", "--app-schema", "app/models.py", "db")
    assert code == 1
    assert [(f["rule"], f["line"]) for f in found] == [("app-schema-mismatch", 1)]
    assert "app/models.py:12" in str(found[0]["message"])


def test_sqlalchemy_a_pr_that_drops_a_still_mapped_column(tmp_path: Path) -> None:
    root = repo(
        tmp_path / "a",
        SA_BASE,
        {"db/migrations/0002_drop.sql": "ALTER TABLE users DROP COLUMN bio;\n"},
    )
    code, found = lint(root, "--diff", "main", "--app-schema", "app/models.py", "db")
    assert code == 1
    assert sorted(str(f["rule"]) for f in found) == ["app-schema-mismatch", "drop-column"]
    drift = next(f for f in found if f["rule"] == "app-schema-mismatch")
    assert str(drift["path"]) == "db/migrations/0002_drop.sql" and drift["line"] == 1
    assert "app/models.py:11" in str(drift["message"])


def test_sqlalchemy_models_that_agree_are_clean(tmp_path: Path) -> None:
    root = repo(
        tmp_path / "a",
        SA_BASE,
        {"db/migrations/0002_add.sql": "ALTER TABLE users ADD COLUMN nick text;\n"},
    )
    (root / "app" / "models.py").write_text(MODELS.format(extra="    nick: Mapped[str | None]\n"))
    git(root, "commit", "-qam", "model")
    assert lint(root, "--diff", "main", "--app-schema", "app/models.py", "db") == (0, [])


def run_cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "migcheck", *args],
        cwd=root, env=ENV, capture_output=True, text=True,
    )  # fmt: skip


def test_a_schema_prisma_linking_out_of_the_tree_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "secret.prisma"
    outside.write_text(SCHEMA.format(extra="  nick  String?\n"))
    root = tmp_path / "app"
    for name, text in PRISMA_BASE.items():
        if name != "prisma/schema.prisma":
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text)
    (root / MIG / "20240601000000_drop_bio").mkdir()
    (root / MIG / "20240601000000_drop_bio" / "migration.sql").write_text(
        'ALTER TABLE "User" DROP COLUMN "bio";\n'
    )
    (root / "prisma" / "schema.prisma").symlink_to(outside)
    proc = run_cli(root, MIG)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    # The other findings are still reported; nothing of the linked file is read.
    assert "error[drop-column]" in proc.stdout and "app-schema-mismatch" not in proc.stdout
    assert "schema.prisma" in proc.stdout + proc.stderr and "nick" not in proc.stdout + proc.stderr


def test_models_nested_too_deeply_are_a_note_not_a_traceback(tmp_path: Path) -> None:
    root = tmp_path / "app"
    (root / "db").mkdir(parents=True)
    (root / "db" / "0001_init.sql").write_text(SQL_INIT)
    (root / "models.py").write_text("x: Mapped[" + "|".join(["a"] * 50000) + "]\n")
    proc = run_cli(root, "--app-schema", "models.py", "db")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "models.py" in proc.stdout + proc.stderr
    assert "nested too deeply" in proc.stdout + proc.stderr
