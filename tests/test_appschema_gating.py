"""Contract gating: the deployed app's schema, read from git, tells the contract step of
expand/contract from a mistake (Prisma and SQLAlchemy, each in a temporary git repo).

Each test builds the deployed history on ``main`` (one commit per dict) and a pull request
on ``pr``, and runs ``migcheck`` as a user does, reading the JSON report and exit code.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import cli
from migcheck.appschema import from_prisma
from migcheck.appschema.sqlalchemy_ast import from_sqlalchemy

ROOT = Path(__file__).resolve().parents[1]
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
    'CREATE TABLE "Invite" ("id" SERIAL NOT NULL, "code" TEXT NOT NULL);\n'
)
DATASOURCE = 'datasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}\n'
USER = """
model User {{
  id    Int     @id @default(autoincrement())
  email String
{bio}}}
"""
INVITE = (
    "\nmodel Invite {{\n  id   Int    @id @default(autoincrement())\n  code String\n{extra}}}\n"
)
BIO = "  bio   String?\n"
BIO_IGNORED = "  bio   String? @ignore\n"


def schema(bio: str = BIO, invite: str | None = "") -> str:
    """``schema.prisma`` with ``bio`` as given and the Invite model (None: no Invite)."""
    text = DATASOURCE + USER.format(bio=bio)
    return text + (INVITE.format(extra=invite) if invite is not None else "")


BASE = {
    f"{MIG}/20240101000000_init/migration.sql": INIT,
    f"{MIG}/migration_lock.toml": 'provider = "postgresql"\n',
}
DROP_BIO = {
    f"{MIG}/20240601000000_drop_bio/migration.sql": 'ALTER TABLE "User" DROP COLUMN "bio";\n'
}
DROP_INVITE = {f"{MIG}/20240601000000_drop_invite/migration.sql": 'DROP TABLE "Invite";\n'}
MODELS = (
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n"
    "import sqlalchemy as sa\n\n"
    "class Base(DeclarativeBase):\n    pass\n\n"
    "class User(Base):\n"
    "    __tablename__ = 'users'\n"
    "    id: Mapped[int] = mapped_column(primary_key=True)\n"
    "    email: Mapped[str]\n{bio}"
)
SA_BIO = "    bio = sa.Column(sa.Text)\n"
SA_BASE = {
    "db/migrations/0001_init.sql": (
        "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, bio text);\n"
    ),
    "app/models.py": MODELS.format(bio=SA_BIO),
}
SA_DROP = {"db/migrations/0002_drop.sql": "ALTER TABLE users DROP COLUMN bio;\n"}


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env=ENV, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def write(root: Path, files: dict[str, str | None]) -> None:
    for name, text in files.items():
        path = root / name
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def repo(tmp_path: Path, *deployed: dict[str, str | None], pr: dict[str, str | None]) -> Path:
    """A repository whose ``main`` has one commit per ``deployed`` dict, and a ``pr``
    branch checked out with ``pr``'s files on top."""
    root = tmp_path / "app"
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    for number, files in enumerate(deployed):
        write(root, files)
        git(root, "add", "-A")
        git(root, "commit", "-q", "--allow-empty", "-m", f"deployed {number}")
    git(root, "checkout", "-q", "-b", "pr")
    write(root, pr)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "pr")
    return root


def commit_of(root: Path, rev: str) -> str:
    return git(root, "rev-parse", "--short=7", rev)


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli("--format", "json", *args, cwd=root, env=ENV)


def lint(root: Path, *args: str) -> list[dict[str, object]]:
    proc = run(root, *args)
    assert proc.returncode in (0, 1), proc.stderr
    findings: list[dict[str, object]] = json.loads(proc.stdout)["findings"]
    return findings


# --- Prisma ---------------------------------------------------------------------------


def test_a_field_removed_in_the_same_change_keeps_the_drop_an_error(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {**BASE, "prisma/schema.prisma": schema(bio=BIO)},
        pr={**DROP_BIO, "prisma/schema.prisma": schema(bio="")},
    )
    proc = run(root, "--diff", "main", "prisma")
    [f] = json.loads(proc.stdout)["findings"]
    assert (f["rule"], f["line"], f["severity"]) == ("drop-column", 1, "error")
    assert "evidence" not in f and "original_severity" not in f
    assert proc.returncode == 1


def test_a_field_ignored_on_the_deployed_schema_clears_the_drop_since_that_commit(
    tmp_path: Path,
) -> None:
    root = repo(
        tmp_path,
        {**BASE, "prisma/schema.prisma": schema(bio=BIO)},
        {"prisma/schema.prisma": schema(bio=BIO_IGNORED)},  # the expand step
        {"README.md": "unrelated\n"},
        pr={**DROP_BIO, "prisma/schema.prisma": schema(bio="")},
    )
    ignored_in = commit_of(root, "main~1")
    proc = run(root, "--diff", "main", "prisma")
    assert proc.returncode == 0, proc.stderr  # the contract step passes
    [f] = json.loads(proc.stdout)["findings"]
    assert (f["rule"], f["severity"], f["original_severity"]) == ("drop-column", "info", "error")
    assert f["evidence"] == (
        'verified safe: main:prisma/schema.prisma no longer maps "User"."bio" '
        f"(the field is @ignore since {ignored_in}, line 9)"
    )
    assert str(f["message"]).endswith(
        f"Verified safe: {str(f['evidence']).removeprefix('verified safe: ')}, "
        "so the deployed app does not use it."
    )
    # The text report says it too, on the finding's line.
    text = cli("--diff", "main", "prisma", cwd=root, env=ENV).stdout
    assert "info[drop-column]" in text and f"@ignore since {ignored_in}" in text


def test_a_field_removed_a_release_ago_clears_the_drop_since_the_removal(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {**BASE, "prisma/schema.prisma": schema(bio=BIO)},
        {"prisma/schema.prisma": schema(bio="")},
        pr=DROP_BIO,
    )
    [f] = lint(root, "--diff", "main", "prisma")
    assert f["severity"] == "info"
    assert f["evidence"] == (
        'verified safe: main:prisma/schema.prisma no longer maps "User"."bio" '
        f"(since {commit_of(root, 'main')})"
    )


def test_the_app_ref_names_the_deployed_version_without_diff(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {**BASE, "prisma/schema.prisma": schema(bio=BIO_IGNORED)},
        pr={**DROP_BIO, "prisma/schema.prisma": schema(bio="")},
    )
    [f] = lint(root, "--app-ref", "main", "prisma")
    assert f["severity"] == "info" and str(f["evidence"]).startswith(
        'verified safe: main:prisma/schema.prisma no longer maps "User"."bio" (the field is '
        "@ignore since the file was added in "
    )
    # Still mapped at the ref named: the error stays.
    git(root, "branch", "older", "main")
    git(root, "checkout", "-q", "older")
    write(root, {"prisma/schema.prisma": schema(bio=BIO)})
    git(root, "commit", "-q", "-am", "mapped again")
    git(root, "checkout", "-q", "pr")
    [f] = lint(root, "--app-ref", "older", "prisma")
    assert f["severity"] == "error"


def test_an_ignored_model_clears_its_drop_table_and_a_mapped_one_does_not(
    tmp_path: Path,
) -> None:
    root = repo(
        tmp_path,
        {**BASE, "prisma/schema.prisma": schema(invite="")},
        {"prisma/schema.prisma": schema(invite="  @@ignore\n")},
        pr={**DROP_INVITE, "prisma/schema.prisma": schema(invite=None)},
    )
    [f] = lint(root, "--diff", "main", "prisma")
    assert (f["rule"], f["severity"], f["original_severity"]) == ("drop-table", "info", "error")
    assert f["evidence"] == (
        'verified safe: main:prisma/schema.prisma no longer maps table "Invite" '
        f"(the model is @@ignore since {commit_of(root, 'main')}, line 12)"
    )
    near_miss = repo(
        tmp_path / "near",
        {**BASE, "prisma/schema.prisma": schema(invite="")},
        pr={**DROP_INVITE, "prisma/schema.prisma": schema(invite=None)},
    )
    [f] = lint(near_miss, "--diff", "main", "prisma")
    assert (f["rule"], f["severity"]) == ("drop-table", "error")


def test_a_multi_file_schema_folder_is_read_by_convention(tmp_path: Path) -> None:
    folder = "prisma/schema"
    root = repo(
        tmp_path,
        {
            **BASE,
            f"{folder}/main.prisma": DATASOURCE,
            f"{folder}/user.prisma": USER.format(bio=BIO_IGNORED),
            f"{folder}/invite.prisma": INVITE.format(extra=""),
        },
        {f"{folder}/invite.prisma": None},
        pr={
            **DROP_BIO,
            **DROP_INVITE,
            f"{folder}/user.prisma": USER.format(bio=""),
        },
    )
    findings = lint(root, "--diff", "main", "prisma")
    assert {(f["rule"], f["severity"]) for f in findings} == {
        ("drop-column", "info"),
        ("drop-table", "info"),
    }
    evidence = {f["rule"]: f["evidence"] for f in findings}
    assert evidence["drop-column"] == (
        f'verified safe: main:{folder}/user.prisma no longer maps "User"."bio" '
        f"(the field is @ignore since the file was added in {commit_of(root, 'main~1')}, line 5)"
    )
    assert evidence["drop-table"] == (
        f'verified safe: main:{folder}/ no longer maps table "Invite" '
        f"(since {commit_of(root, 'main')})"
    )


def test_a_shallow_clone_reads_the_deployed_schema(tmp_path: Path) -> None:
    origin = repo(
        tmp_path,
        {**BASE, "prisma/schema.prisma": schema(bio=BIO)},
        {"prisma/schema.prisma": schema(bio=BIO_IGNORED)},
        pr={**DROP_BIO, "prisma/schema.prisma": schema(bio="")},
    )
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "pr", f"file://{origin}", str(clone))
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"
    [f] = lint(clone, "--diff", "origin/main", "prisma")
    assert f["severity"] == "info"
    assert str(f["evidence"]).startswith(
        'verified safe: origin/main:prisma/schema.prisma no longer maps "User"."bio" '
        "(the field is @ignore since "
    )
    # Whatever the fetch brought, the commit named is one where the field became @ignore,
    # or the evidence says the history it read stops there: never a wrong commit.
    since = str(f["evidence"]).split("@ignore since ", 1)[1]
    assert since.startswith((f"{commit_of(origin, 'main')}, line", "at least "))


def test_a_shallow_history_is_named_as_such_not_guessed(tmp_path: Path) -> None:
    origin = repo(
        tmp_path,
        {**BASE, "prisma/schema.prisma": schema(bio=BIO)},
        {"prisma/schema.prisma": schema(bio=BIO_IGNORED)},
        {"README.md": "later\n"},
        pr={**DROP_BIO, "prisma/schema.prisma": schema(bio="")},
    )
    clone = tmp_path / "clone"
    # Only main's tip: its history is cut below it, where bio became @ignore.
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "main", f"file://{origin}", str(clone))
    write(clone, {**DROP_BIO, "prisma/schema.prisma": schema(bio="")})
    [f] = lint(clone, "--app-ref", "HEAD", "prisma")
    tip = commit_of(clone, "HEAD")
    assert f["evidence"] == (
        'verified safe: HEAD:prisma/schema.prisma no longer maps "User"."bio" (the field is '
        f"@ignore since at least {tip}, where this shallow clone's history stops, line 9)"
    )


def test_a_long_history_is_read_only_so_far(tmp_path: Path) -> None:
    commits: list[dict[str, str | None]] = [{**BASE, "prisma/schema.prisma": schema(bio=BIO)}]
    commits.append({"prisma/schema.prisma": schema(bio=BIO_IGNORED)})
    # 25 later edits of the schema: the search for "since" stops after 20 commits.
    commits += [
        {"prisma/schema.prisma": schema(bio=BIO_IGNORED) + f"// edit {n}\n"} for n in range(25)
    ]
    root = repo(tmp_path, *commits, pr=DROP_BIO)
    [f] = lint(root, "--diff", "main", "prisma")
    assert f"@ignore since at least {commit_of(root, 'main~19')}, line 9)" in str(f["evidence"])


# --- SQLAlchemy ---------------------------------------------------------------------


def test_sqlalchemy_attribute_removed_at_the_base_clears_the_drop(tmp_path: Path) -> None:
    root = repo(tmp_path, SA_BASE, {"app/models.py": MODELS.format(bio="")}, pr=SA_DROP)
    [f] = lint(root, "--diff", "main", "--app-schema", "app/models.py", "db")
    assert (f["rule"], f["severity"], f["original_severity"]) == ("drop-column", "info", "error")
    assert f["evidence"] == (
        'verified safe: main:app/models.py no longer maps "users"."bio" '
        f"(since {commit_of(root, 'main')})"
    )


def test_sqlalchemy_attribute_removed_in_the_same_change_keeps_the_error(tmp_path: Path) -> None:
    root = repo(tmp_path, SA_BASE, pr={**SA_DROP, "app/models.py": MODELS.format(bio="")})
    [f] = lint(root, "--diff", "main", "--app-schema", "app/models.py", "db")
    assert (f["rule"], f["severity"]) == ("drop-column", "error")
    assert "evidence" not in f


def test_renames_and_type_changes_of_what_the_app_no_longer_maps_are_cleared(
    tmp_path: Path,
) -> None:
    keep = "\nclass Keep(Base):\n    __tablename__ = 'keep'\n    id = sa.Column(sa.Integer)\n"
    audit = (
        "\nclass Audit(Base):\n    __tablename__ = 'old_audit'\n    id = sa.Column(sa.Integer)\n"
    )
    base = {
        "db/migrations/0001_init.sql": (
            "CREATE TABLE users (id int PRIMARY KEY, email text, legacy_name text, code int);\n"
            "CREATE TABLE old_audit (id int);\nCREATE TABLE keep (id int);\n"
            "CREATE TABLE reports (id int);\n"
        ),
        "app/models.py": MODELS.format(bio="") + keep + audit,
    }
    pr = {
        "db/migrations/0002_x.sql": (
            "ALTER TABLE users RENAME COLUMN legacy_name TO old_name;\n"
            "ALTER TABLE old_audit RENAME TO audit_archive;\n"
            "ALTER TABLE users ALTER COLUMN code TYPE text;\n"
            # Near misses, still mapped on the deployed version:
            "ALTER TABLE users RENAME COLUMN email TO mail;\n"
            "ALTER TABLE keep RENAME TO kept;\n"
            "ALTER TABLE users ALTER COLUMN email TYPE int USING 0;\n"
            # A table no version of the models ever knew: no evidence either way.
            "ALTER TABLE reports RENAME TO report;\n"
        )
    }
    root = repo(tmp_path, base, {"app/models.py": MODELS.format(bio="") + keep}, pr=pr)
    got = {
        (f["line"], f["rule"]): (f["severity"], f.get("evidence", ""))
        for f in lint(root, "--diff", "main", "--app-schema", "app/models.py", "db")
        if f["rule"] in ("rename-column", "rename-table", "change-column-type")
    }
    never = f"(nor did any version since the file was added in {commit_of(root, 'main~1')})"
    assert got == {
        (1, "rename-column"): (
            "info",
            f'verified safe: main:app/models.py does not map "users"."legacy_name" {never}',
        ),
        (2, "rename-table"): (
            "info",
            'verified safe: main:app/models.py no longer maps table "old_audit" '
            f"(since {commit_of(root, 'main')})",
        ),
        (3, "change-column-type"): (
            "info",
            f'verified safe: main:app/models.py does not map "users"."code" {never}',
        ),
        (4, "rename-column"): ("error", ""),
        (5, "rename-table"): ("error", ""),
        (6, "change-column-type"): ("warning", ""),
        (7, "rename-table"): ("error", ""),
    }


def test_a_schema_that_never_knew_the_table_clears_nothing(tmp_path: Path) -> None:
    """A Prisma schema named for a plain-SQL history of another database: its tables are
    not the schema's, so their drops keep their severity."""
    root = repo(
        tmp_path,
        {
            "prisma/schema.prisma": schema(),
            "db/migrations/0001_init.sql": "CREATE TABLE users (id int, fax text);\n",
        },
        pr={
            "db/migrations/0002_drop.sql": "ALTER TABLE users DROP COLUMN fax;\nDROP TABLE users;\n"
        },
    )
    findings = lint(root, "--diff", "main", "--app-schema", "prisma/schema.prisma", "db")
    # (app-schema-mismatch also says the migrations never create the schema's models.)
    assert {(f["rule"], f["severity"]) for f in findings if f["rule"] != "app-schema-mismatch"} == {
        ("drop-column", "error"),
        ("drop-table", "error"),
    }


def test_without_a_deployed_version_nothing_changes(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {**BASE, "prisma/schema.prisma": schema(bio=BIO_IGNORED)},
        pr=DROP_BIO,
    )
    [f] = lint(root, "prisma")  # no --diff, no --app-ref
    assert f["severity"] == "error" and "evidence" not in f


# --- input that cannot be read, or must not be ----------------------------------------


def errors_of(proc: subprocess.CompletedProcess[str]) -> list[tuple[str, str]]:
    return [(e["path"], e["message"]) for e in json.loads(proc.stdout)["errors"]]


def test_a_deployed_schema_that_cannot_be_parsed_is_one_error_and_gates_nothing(
    tmp_path: Path,
) -> None:
    broken = schema(bio=BIO_IGNORED).replace("  email String\n", "  email String (\n  x\n  y\n")
    root = repo(tmp_path, {**BASE, "prisma/schema.prisma": broken}, pr=DROP_BIO)
    proc = run(root, "--diff", "main", "prisma")
    assert proc.returncode == 2
    [(path, message)] = errors_of(proc)
    assert path == "main:prisma/schema.prisma"
    assert message.startswith("cannot read the app schema: line 8: ")
    # Linting went on, without the schema: the drop keeps its severity.
    [f] = json.loads(proc.stdout)["findings"]
    assert (f["rule"], f["severity"]) == ("drop-column", "error")


def test_a_deployed_schema_that_is_not_utf8_is_one_error(tmp_path: Path) -> None:
    root = repo(tmp_path, {**BASE, "app/models.py": "x = 1\n"}, pr=SA_DROP)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=root, env=ENV, check=True)
    (root / "app/models.py").write_bytes(b"# \xff\xfe\n")
    git(root, "commit", "-q", "-am", "latin-1")
    git(root, "checkout", "-q", "pr")
    git(root, "rebase", "-q", "main")
    proc = run(root, "--diff", "main", "--app-schema", "app/models.py", "db", "prisma")
    assert proc.returncode == 2
    assert errors_of(proc) == [("main:app/models.py", "cannot read the app schema: not UTF-8")]


def test_a_deployed_schema_above_the_size_limit_is_one_error(tmp_path: Path) -> None:
    padded = schema(bio=BIO_IGNORED) + "// " + "x" * 20_000 + "\n"
    root = repo(tmp_path, {**BASE, "prisma/schema.prisma": padded}, pr=DROP_BIO)
    proc = run(root, "--diff", "main", "--max-file-size", "0.01", "prisma")
    assert proc.returncode == 2
    assert errors_of(proc) == [
        (
            "main:prisma/schema.prisma",
            "file is 20.3 kB, above the 10 kB limit; raise it with --max-file-size",
        )
    ]
    [f] = json.loads(proc.stdout)["findings"]
    assert f["severity"] == "error"


def test_an_app_schema_that_does_not_exist_is_one_error_and_linting_goes_on(
    tmp_path: Path,
) -> None:
    root = repo(tmp_path, {**BASE, "prisma/schema.prisma": schema(bio=BIO_IGNORED)}, pr=DROP_BIO)
    proc = run(root, "--diff", "main", "--app-schema", "prisma/missing.prisma", "prisma")
    assert proc.returncode == 2
    assert errors_of(proc) == [
        ("prisma/missing.prisma", "cannot read the app schema: no such file")
    ]
    [f] = json.loads(proc.stdout)["findings"]
    assert f["severity"] == "error"
    # Without --diff too: the name is checked whether or not a deployed version is known.
    proc = run(root, "--app-schema", "app/models/**/*.py", "prisma")
    assert proc.returncode == 2
    assert errors_of(proc) == [("app/models/**/*.py", "the app schema pattern matches no file")]


def test_a_symbolic_link_out_of_the_repository_is_refused_unread(tmp_path: Path) -> None:
    secret = tmp_path / "secret.prisma"
    secret.write_text("model Secret {\n  token String @id\n  SECRET-CONTENT\n}\n")
    root = repo(tmp_path, {**BASE, "prisma/schema.prisma": schema(bio=BIO_IGNORED)}, pr=DROP_BIO)
    (root / "prisma/schema.prisma").unlink()
    (root / "prisma/schema.prisma").symlink_to(secret)
    proc = run(root, "--diff", "main", "prisma")
    assert proc.returncode == 2
    [(path, message)] = errors_of(proc)
    assert path == "prisma/schema.prisma"
    assert message == f"symbolic link to {secret.resolve()}, outside the linted tree; not read"
    assert "SECRET-CONTENT" not in proc.stdout + proc.stderr
    [f] = json.loads(proc.stdout)["findings"]
    assert f["severity"] == "error"


def test_a_path_above_the_repository_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside.prisma").write_text(schema(bio=BIO_IGNORED))
    root = repo(tmp_path, {**BASE, "prisma/schema.prisma": schema(bio=BIO)}, pr=DROP_BIO)
    proc = run(root, "--diff", "main", "--app-schema", "../outside.prisma", "prisma")
    assert proc.returncode == 2
    [(path, message)] = errors_of(proc)
    assert message == "outside the repository; the app schema is not read"
    assert path == str((tmp_path / "outside.prisma").resolve())
    [f] = json.loads(proc.stdout)["findings"]
    assert f["severity"] == "error"


def test_a_config_file_cannot_name_a_schema_above_its_directory(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {**BASE, "prisma/schema.prisma": schema(bio=BIO_IGNORED)},
        pr={**DROP_BIO, ".migcheck.toml": 'app-schema = ["../outside.prisma"]\n'},
    )
    proc = run(root, "--diff", "main", "prisma")
    assert proc.returncode == 2
    assert "app-schema" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_a_schema_that_is_a_symbolic_link_on_the_deployed_version_is_refused(
    tmp_path: Path,
) -> None:
    root = repo(tmp_path, {**BASE, "prisma/real.prisma": schema(bio=BIO_IGNORED)}, pr=DROP_BIO)
    git(root, "checkout", "-q", "main")
    (root / "prisma/schema.prisma").symlink_to("real.prisma")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "link")
    git(root, "checkout", "-q", "pr")
    git(root, "rebase", "-q", "main")
    (root / "prisma/schema.prisma").unlink()
    write(root, {"prisma/schema.prisma": schema(bio="")})
    proc = run(root, "--diff", "main", "prisma")
    assert proc.returncode == 2
    assert errors_of(proc) == [
        ("main:prisma/schema.prisma", "a symbolic link at this commit; the app schema is not read")
    ]


# --- the spellings --------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        ("--app-schema", "app/models.py", "--app-ref", "main"),
        ("--prisma-schema", "app/models.py", "--old-ref", "main"),
    ],
)
def test_check_takes_the_live_spellings_as_aliases(
    tmp_path: Path, spelling: tuple[str, ...]
) -> None:
    root = repo(tmp_path, {**SA_BASE, "app/models.py": MODELS.format(bio="")}, pr=SA_DROP)
    [f] = lint(root, *spelling, "db")
    assert f["severity"] == "info" and str(f["evidence"]).startswith(
        'verified safe: main:app/models.py does not map "users"."bio"'
    )


def test_the_config_file_names_the_app_schema(tmp_path: Path) -> None:
    root = repo(
        tmp_path,
        {**SA_BASE, "app/models.py": MODELS.format(bio="")},
        pr={**SA_DROP, "pyproject.toml": '[tool.migcheck]\napp-schema = ["app/**/*.py"]\n'},
    )
    [f] = lint(root, "--diff", "main", "db")
    assert f["severity"] == "info" and "main:app/models.py" in str(f["evidence"])


def live(
    root: Path, monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, dict[str, object], str]:
    """``migcheck live ARGS`` in ``root`` up to the server: (exit code, what the live check
    was asked to derive queries from, stderr). No server starts: the run stops there."""
    from click.testing import CliRunner

    from migcheck.cli import main
    from migcheck.live import LiveError

    asked: dict[str, object] = {}

    def run_live(histories: object, **kwargs: object) -> None:
        asked.update(kwargs)
        raise LiveError("stopped before the server")

    monkeypatch.setattr("migcheck.live.runner.run_live", run_live)
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["live", *args])
    derive = {k: asked.get(k) for k in ("prisma_schema", "prisma_ref")} if asked else {}
    return result.exit_code, derive, result.stderr


@pytest.mark.parametrize(
    "spelling",
    [
        ("--app-schema", "prisma/schema.prisma", "--app-ref", "main"),
        ("--prisma-schema", "prisma/schema.prisma", "--old-ref", "main"),
    ],
)
def test_live_takes_both_spellings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: tuple[str, ...]
) -> None:
    root = repo(tmp_path, {**BASE, "prisma/schema.prisma": schema()}, pr=DROP_BIO)
    code, derive, _ = live(root, monkeypatch, *spelling, "prisma")
    assert code == 2  # the stub stopped the run
    assert derive == {
        "prisma_schema": str((root / "prisma/schema.prisma").resolve()),
        "prisma_ref": ("main", ""),
    }


def test_live_reads_the_app_schema_from_the_config_file_and_the_diff_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(
        tmp_path,
        {**BASE, "app/schema.prisma": schema(), ".migcheck.toml": 'app-schema = ["app"]\n'},
        pr=DROP_BIO,
    )
    (root / "app/schema.prisma").rename(root / "app/user.prisma")
    code, derive, _ = live(root, monkeypatch, "--diff", "main", "prisma")
    assert code == 2
    # The folder named by the config, at the merge base (as check's deployed version).
    assert derive == {
        "prisma_schema": str((root / "app").resolve()),
        "prisma_ref": (git(root, "rev-parse", "main"), ""),
    }


def test_live_refuses_an_app_schema_outside_the_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "secret.prisma"
    secret.write_text("SECRET-CONTENT\n")
    root = repo(tmp_path, {**BASE, "prisma/schema.prisma": schema()}, pr=DROP_BIO)
    (root / "prisma/link.prisma").symlink_to(secret)
    code, derive, err = live(
        root, monkeypatch, "--app-schema", "prisma/link.prisma", "--app-ref", "main", "prisma"
    )
    assert code == 2 and derive == {}  # refused before anything runs
    assert err == (
        f"migcheck live: prisma/link.prisma: symbolic link to {secret.resolve()}, "
        "outside the linted tree; not read\n"
    )


def test_live_takes_a_folder_named_file_by_file_and_notes_model_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repo(
        tmp_path,
        {
            **BASE,
            "prisma/schema/main.prisma": DATASOURCE,
            "prisma/schema/user.prisma": USER.format(bio=BIO),
            "app/models.py": MODELS.format(bio=SA_BIO),
        },
        pr={
            "pyproject.toml": '[tool.migcheck]\napp-schema = ["prisma/schema/*.prisma", "app/*.py"]\n'
        },
    )
    code, derive, err = live(root, monkeypatch, "--app-ref", "main", "prisma")
    assert code == 2  # the stub stopped the run, after the schema was chosen
    assert derive == {
        "prisma_schema": str((root / "prisma/schema").resolve()),
        "prisma_ref": ("main", ""),
    }
    assert err.startswith(
        "migcheck live: note: app/models.py: not a Prisma schema; "
        "live derives Prisma queries only from one\n"
    )


# --- nothing changes for users who give neither a schema nor stats ---------------------


def test_the_fixtures_without_an_app_schema_report_exactly_the_golden_findings(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "work"
    copy.mkdir()
    shutil.copytree(ROOT / "fixtures", copy / "fixtures")
    (copy / "fixtures/prisma/prisma/schema.prisma").unlink()
    git(copy, "init", "-q", "-b", "main")
    git(copy, "add", "-A")
    git(copy, "commit", "-q", "-m", "fixtures")
    # A deployed version is known (--app-ref), but no schema: nothing may change.
    proc = run(copy, "--pg-version", "16", "--app-ref", "main", "fixtures/")
    golden = json.loads((ROOT / "tests/golden/fixtures.json").read_text(encoding="utf-8"))
    assert json.loads(proc.stdout)["findings"] == golden["findings"]
    assert proc.returncode == 1


# --- the readers, as gating sees them ---------------------------------------------------


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
