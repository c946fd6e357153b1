"""app-schema-mismatch: the app's schema at HEAD (schema.prisma, SQLAlchemy models)
against what the migrations build. Each case runs migcheck on a project written to a
temporary directory, the way a user's tree is read (convention or --app-schema)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from migcheck.model import Finding, Span
from migcheck.runner import RunRequest, RunResult, run
from migcheck.settings import Settings

RULE = "app-schema-mismatch"
MIG = "prisma/migrations"
HEADER = 'datasource db {\n  provider = "postgresql"\n  url      = env("DATABASE_URL")\n}\n'
INIT = (
    'CREATE TABLE "User" ("id" SERIAL NOT NULL, "email" TEXT NOT NULL, "bio" TEXT,\n'
    '    CONSTRAINT "User_pkey" PRIMARY KEY ("id"));\n'
)
USER = """
model User {
  id    Int     @id @default(autoincrement())
  email String
  bio   String?
}
"""


def prisma_project(root: Path, schema: str, *migrations: str) -> None:
    (root / MIG).mkdir(parents=True)
    (root / MIG / "migration_lock.toml").write_text('provider = "postgresql"\n')
    (root / "prisma" / "schema.prisma").write_text(HEADER + textwrap.dedent(schema))
    for n, sql in enumerate(migrations, start=1):
        folder = root / MIG / f"2024010{n}000000_m{n}"
        folder.mkdir()
        (folder / "migration.sql").write_text(textwrap.dedent(sql))


def lint(root: Path, *paths: str, **settings: object) -> RunResult:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        return run(RunRequest(list(paths) or [MIG], Settings(**settings)))  # type: ignore[arg-type]
    finally:
        os.chdir(cwd)


def drift(root: Path, *paths: str, **settings: object) -> list[Finding]:
    return [f for f in lint(root, *paths, **settings).findings if f.rule == RULE]


def where(findings: list[Finding]) -> list[tuple[str, int, int]]:
    return [(f.path.rsplit("/", 2)[-2], f.line, f.column) for f in findings]


def schema_line(root: Path, text: str) -> int:
    lines = (root / "prisma" / "schema.prisma").read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if text in line)


# -- columns and tables the app maps --------------------------------------------------


def test_a_pr_that_drops_a_column_its_own_schema_still_maps(tmp_path: Path) -> None:
    prisma_project(tmp_path, USER, INIT, 'SELECT 1;\nALTER TABLE "User" DROP COLUMN "bio";\n')
    found = drift(tmp_path)
    assert where(found) == [("20240102000000_m2", 2, 1)]
    assert f"prisma/schema.prisma:{schema_line(tmp_path, 'bio')}" in found[0].message
    assert '"User"."bio"' in found[0].message and "drops the column" in found[0].message
    assert found[0].severity == "error"


def test_the_dropped_column_no_longer_mapped_or_ignored_is_quiet(tmp_path: Path) -> None:
    gone = USER.replace("  bio   String?\n", "")
    prisma_project(tmp_path / "a", gone, INIT, 'ALTER TABLE "User" DROP COLUMN "bio";\n')
    assert drift(tmp_path / "a") == []
    ignored = USER.replace("String?\n", "String? @ignore\n")
    prisma_project(tmp_path / "b", ignored, INIT, 'ALTER TABLE "User" DROP COLUMN "bio";\n')
    assert drift(tmp_path / "b") == []


def test_a_field_added_with_no_migration(tmp_path: Path) -> None:
    schema = USER.replace("  bio   String?\n", "  bio   String?\n  nick  String?\n")
    prisma_project(tmp_path, schema, INIT, "SELECT 1;\n")
    found = drift(tmp_path)
    assert where(found) == [("20240102000000_m2", 1, 1)]
    assert "no migration adds the column" in found[0].message
    assert f"schema.prisma:{schema_line(tmp_path, 'nick')}" in found[0].message


def test_the_field_with_its_migration_is_quiet(tmp_path: Path) -> None:
    schema = USER.replace("  bio   String?\n", "  bio   String?\n  nick  String?\n")
    prisma_project(tmp_path, schema, INIT, 'ALTER TABLE "User" ADD COLUMN "nick" TEXT;\n')
    assert drift(tmp_path) == []


def test_a_model_no_migration_creates(tmp_path: Path) -> None:
    schema = USER + "\nmodel Audit {\n  id Int @id\n}\n"
    prisma_project(tmp_path, schema, INIT)
    found = drift(tmp_path)
    assert where(found) == [("20240101000000_m1", 1, 1)]
    assert 'table "Audit"' in found[0].message and "no migration creates it" in found[0].message


def test_a_history_that_alters_tables_it_never_created_says_nothing_of_others(
    tmp_path: Path,
) -> None:
    schema = USER + "\nmodel Audit {\n  id Int @id\n}\n"
    prisma_project(tmp_path, schema, INIT + 'ALTER TABLE "Legacy" ADD COLUMN "x" INT;\n')
    assert drift(tmp_path) == []


def test_a_table_the_migrations_drop_or_rename(tmp_path: Path) -> None:
    prisma_project(tmp_path / "a", USER, INIT, 'DROP TABLE "User";\n')
    found = drift(tmp_path / "a")
    assert where(found) == [("20240102000000_m2", 1, 1)]
    assert "drops it" in found[0].message
    prisma_project(tmp_path / "b", USER, INIT, '\nALTER TABLE "User" RENAME TO "Person";\n')
    found = drift(tmp_path / "b")
    assert where(found) == [("20240102000000_m2", 2, 1)]
    assert 'renames it to "Person"' in found[0].message


def test_a_renamed_column(tmp_path: Path) -> None:
    prisma_project(tmp_path, USER, INIT, 'ALTER TABLE "User" RENAME COLUMN "bio" TO "about";\n')
    found = drift(tmp_path)
    assert where(found) == [("20240102000000_m2", 1, 1)]
    assert 'renames the column to "about"' in found[0].message


def test_mapped_names_relations_and_lists(tmp_path: Path) -> None:
    schema = """
    model User {
      id    Int    @id @default(autoincrement())
      email String @map("email_address")
      posts Post[]
      @@map("users")
    }
    model Post {
      id     String   @id @default(cuid())
      userId Int      @map("user_id")
      user   User     @relation(fields: [userId], references: [id])
      tags   String[]
      @@map("posts")
    }
    """
    prisma_project(
        tmp_path,
        schema,
        'CREATE TABLE "users" ("id" SERIAL NOT NULL, "email_address" TEXT NOT NULL,\n'
        '    CONSTRAINT "users_pkey" PRIMARY KEY ("id"));\n'
        'CREATE TABLE "posts" ("id" TEXT NOT NULL, "user_id" INTEGER NOT NULL, "tags" TEXT[],\n'
        '    CONSTRAINT "posts_pkey" PRIMARY KEY ("id"));\n',
    )
    assert drift(tmp_path) == []


def test_multiple_schemas(tmp_path: Path) -> None:
    schema = """
    model User {
      id Int @id
      @@schema("auth")
    }
    """
    created = (
        'CREATE SCHEMA "auth";\nCREATE TABLE "auth"."User" ("id" INTEGER NOT NULL PRIMARY KEY);\n'
    )
    prisma_project(tmp_path / "a", schema, created)
    assert drift(tmp_path / "a") == []
    prisma_project(
        tmp_path / "b", schema, 'CREATE TABLE "User" ("id" INTEGER NOT NULL PRIMARY KEY);\n'
    )
    assert "no migration creates it" in drift(tmp_path / "b")[0].message


def test_a_schema_folder_shares_its_models(tmp_path: Path) -> None:
    prisma_project(
        tmp_path,
        "",
        INIT
        + 'CREATE TABLE "Post" ("id" INTEGER NOT NULL PRIMARY KEY, "userId" INTEGER NOT NULL);\n',
    )
    (tmp_path / "prisma" / "schema.prisma").unlink()
    folder = tmp_path / "prisma" / "schema"
    folder.mkdir()
    (folder / "base.prisma").write_text(
        HEADER + USER.replace("bio   String?", "posts Post[]\n  bio   String?")
    )
    post = "model Post {\n  id     Int  @id\n  userId Int\n  user   User @relation(fields: [userId], references: [id])\n  nick   String\n}\n"
    (folder / "post.prisma").write_text(post)
    found = drift(tmp_path)
    # The relation field "user" (its model is in the other file) is no column; "nick" is.
    assert [f.message.split(" maps ")[1].split(",")[0] for f in found] == ['"Post"."nick"']
    assert "prisma/schema/post.prisma:5" in found[0].message


# -- nullability and defaults -----------------------------------------------------------


def test_a_required_field_without_default_on_a_nullable_column(tmp_path: Path) -> None:
    prisma_project(tmp_path, USER.replace("String?", "String"), INIT)
    found = drift(tmp_path)
    assert where(found) == [("20240101000000_m1", 1, 1)]
    assert "required with no default" in found[0].message and "nullable" in found[0].message


def test_a_required_field_with_a_default_on_a_nullable_column_is_quiet(tmp_path: Path) -> None:
    prisma_project(tmp_path, USER.replace("String?", 'String @default("")'), INIT)
    assert drift(tmp_path) == []


def test_the_statement_that_made_the_column_nullable_is_named(tmp_path: Path) -> None:
    init = INIT.replace('"bio" TEXT', '"bio" TEXT NOT NULL')
    prisma_project(
        tmp_path, USER.replace("String?", "String"), init,
        'SELECT 1;\nALTER TABLE "User" ALTER COLUMN "bio" DROP NOT NULL;\n',
    )  # fmt: skip
    assert where(drift(tmp_path)) == [("20240102000000_m2", 2, 1)]


def test_an_optional_field_on_a_not_null_column_without_default(tmp_path: Path) -> None:
    prisma_project(tmp_path, USER, INIT.replace('"bio" TEXT', '"bio" TEXT NOT NULL'))
    found = drift(tmp_path)
    assert where(found) == [("20240101000000_m1", 1, 1)]
    assert (
        "optional" in found[0].message and "an insert that leaves it out fails" in found[0].message
    )


def test_an_optional_field_on_a_not_null_column_with_a_default_is_quiet(tmp_path: Path) -> None:
    prisma_project(tmp_path, USER, INIT.replace('"bio" TEXT', "\"bio\" TEXT NOT NULL DEFAULT ''"))
    assert drift(tmp_path) == []


def test_values_the_client_supplies_are_not_drift(tmp_path: Path) -> None:
    schema = """
    model Token {
      id        String   @id @default(uuid())
      createdAt DateTime @default(now())
      updatedAt DateTime @updatedAt
    }
    """
    prisma_project(
        tmp_path,
        schema,
        'CREATE TABLE "Token" ("id" TEXT NOT NULL, "createdAt" TIMESTAMP(3) NOT NULL,\n'
        '    "updatedAt" TIMESTAMP(3) NOT NULL, CONSTRAINT "Token_pkey" PRIMARY KEY ("id"));\n',
    )
    assert drift(tmp_path) == []


def test_a_database_default_the_column_lacks(tmp_path: Path) -> None:
    prisma_project(
        tmp_path,
        USER,
        INIT.replace('"id" SERIAL NOT NULL', '"id" INTEGER NOT NULL'),
    )
    found = drift(tmp_path)
    assert where(found) == [("20240101000000_m1", 1, 1)]
    assert "@default(autoincrement())" in found[0].message and "no default" in found[0].message


# -- enums and types -----------------------------------------------------------------


ENUM_SCHEMA = """
model User {
  id   Int  @id
  role Role @default(USER)
}
enum Role {
  USER
  ADMIN
  OWNER @map("owner")
  @@map("user_role")
}
"""
ENUM_TABLE = 'CREATE TABLE "User" ("id" INTEGER NOT NULL PRIMARY KEY, "role" "user_role" NOT NULL DEFAULT \'USER\');\n'


def test_an_enum_value_the_database_lacks(tmp_path: Path) -> None:
    prisma_project(
        tmp_path,
        ENUM_SCHEMA,
        "CREATE TYPE \"user_role\" AS ENUM ('USER', 'ADMIN', 'OWNER');\n" + ENUM_TABLE,
        "SELECT 1;\nALTER TYPE \"user_role\" ADD VALUE 'GUEST';\n",
    )
    found = drift(tmp_path)
    # The last migration that changed the type is named; the @map spelling is what is written.
    assert where(found) == [("20240102000000_m2", 2, 1)]
    assert '"owner"' in found[0].message and '"user_role"' in found[0].message
    assert 'writes "owner" to' in found[0].message and "lacks it:" in found[0].message


def test_an_enum_value_added_by_a_migration_is_quiet(tmp_path: Path) -> None:
    prisma_project(
        tmp_path,
        ENUM_SCHEMA,
        "CREATE TYPE \"user_role\" AS ENUM ('USER', 'ADMIN');\n" + ENUM_TABLE,
        "ALTER TYPE \"user_role\" ADD VALUE 'owner';\n",
    )
    assert drift(tmp_path) == []


@pytest.mark.parametrize(
    ("field", "column", "fires"),
    [
        ("String @db.VarChar(200)", "VARCHAR(200)", False),
        ("String @db.VarChar(200)", "TEXT", True),
        ("String @db.VarChar(200)", "VARCHAR(100)", True),
        ("String @db.VarChar(200)", "VARCHAR", False),
        ("String", "TEXT", False),
        ("String", "VARCHAR(20)", True),
        ("Int", "INTEGER", False),
        ("Int", "BIGINT", True),
        ("BigInt", "BIGINT", False),
        ("DateTime", "TIMESTAMP(3)", False),
        ("DateTime", "TIMESTAMPTZ(3)", True),
        ("DateTime @db.Timestamptz(6)", "TIMESTAMPTZ(6)", False),
        ("Decimal", "DECIMAL(65,30)", False),
        ("Decimal @db.Decimal(10, 2)", "DECIMAL(10,2)", False),
        ("Decimal @db.Decimal(10, 2)", "DECIMAL(12,2)", True),
        ("Json", "JSONB", False),
        ("Json", "JSON", True),
        ("Boolean", "BOOLEAN", False),
        ("Float", "DOUBLE PRECISION", False),
        ("Float", "REAL", True),
        ("Bytes", "BYTEA", False),
        ("String[]", "TEXT[]", False),
        ("String[]", "TEXT", True),
        ("String @db.Uuid", "UUID", False),
    ],
)
def test_declared_types(tmp_path: Path, field: str, column: str, fires: bool) -> None:
    schema = f"model T {{\n  id Int @id\n  v  {field}\n}}\n"
    null = "" if field.endswith("[]") else " NOT NULL"
    prisma_project(
        tmp_path,
        schema,
        f'CREATE TABLE "T" ("id" INTEGER NOT NULL PRIMARY KEY, "v" {column}{null});\n',
    )
    found = drift(tmp_path)
    assert [(f.line, "declares" in f.message) for f in found] == ([(1, True)] if fires else [])


def test_a_type_change_is_placed_on_the_alter(tmp_path: Path) -> None:
    schema = "model T {\n  id Int @id\n  v  String @db.VarChar(200)\n}\n"
    prisma_project(
        tmp_path, schema, 'CREATE TABLE "T" ("id" INTEGER NOT NULL PRIMARY KEY, "v" VARCHAR(200) NOT NULL);\n',
        'SELECT 1;\nALTER TABLE "T" ALTER COLUMN "v" TYPE TEXT;\n',
    )  # fmt: skip
    found = drift(tmp_path)
    assert where(found) == [("20240102000000_m2", 2, 1)]
    assert "String @db.VarChar(200)" in found[0].message and "is text" in found[0].message


# -- when it runs ----------------------------------------------------------------------


def test_without_an_app_schema_it_never_fires(tmp_path: Path) -> None:
    prisma_project(tmp_path, USER, INIT, 'ALTER TABLE "User" DROP COLUMN "bio";\n')
    (tmp_path / "prisma" / "schema.prisma").unlink()
    result = lint(tmp_path)
    assert [f.rule for f in result.findings] == ["drop-column"]


def test_ignored_it_does_not_run(tmp_path: Path) -> None:
    prisma_project(tmp_path, USER, INIT, 'ALTER TABLE "User" DROP COLUMN "bio";\n')
    assert drift(tmp_path, ignore=(RULE,)) == []


def test_naming_one_file_still_replays_the_others(tmp_path: Path) -> None:
    prisma_project(tmp_path, USER, INIT, 'ALTER TABLE "User" ADD COLUMN "x" INT;\n')
    assert drift(tmp_path, f"{MIG}/20240102000000_m2/migration.sql") == []
    prisma_project(tmp_path / "b", USER, INIT, 'ALTER TABLE "User" DROP COLUMN "bio";\n')
    found = drift(tmp_path / "b", f"{MIG}/20240102000000_m2/migration.sql")
    assert where(found) == [("20240102000000_m2", 1, 1)]


def test_a_suppression_comment_silences_it(tmp_path: Path) -> None:
    prisma_project(
        tmp_path, USER, INIT,
        "-- migcheck: ignore[app-schema-mismatch] the field goes in the next PR\n"
        'ALTER TABLE "User" DROP COLUMN "bio";\n',
    )  # fmt: skip
    assert drift(tmp_path, ignore=("drop-column",)) == []


def test_an_unreadable_app_schema_is_an_input_error_and_linting_goes_on(tmp_path: Path) -> None:
    prisma_project(tmp_path, USER, INIT, 'ALTER TABLE "User" DROP COLUMN "bio";\n')
    (tmp_path / "prisma" / "schema.prisma").write_bytes(b"model \xff\xfe {\n}\n")
    env = {**os.environ, "MIGCHECK_NO_CACHE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", "--format", "json", MIG],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2
    report = json.loads(proc.stdout)
    assert [f["rule"] for f in report["findings"]] == ["drop-column"]
    assert "Traceback" not in proc.stderr
    errors = json.dumps(report.get("errors"))
    assert "schema.prisma" in errors and "not valid UTF-8" in errors


def test_json_names_both_places(tmp_path: Path) -> None:
    prisma_project(tmp_path, USER, INIT, 'ALTER TABLE "User" DROP COLUMN "bio";\n')
    env = {**os.environ, "MIGCHECK_NO_CACHE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", "--format", "json", MIG],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 1
    found = [f for f in json.loads(proc.stdout)["findings"] if f["rule"] == RULE]
    assert len(found) == 1
    assert found[0]["path"].endswith("20240102000000_m2/migration.sql")
    assert found[0]["line"] == 1
    assert "prisma/schema.prisma:" in found[0]["message"]


# -- SQLAlchemy models ---------------------------------------------------------------

MODELS = """
import enum
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Status(enum.Enum):
    active = "a"
    archived = "b"


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(200))
    bio: Mapped[Optional[str]] = mapped_column(sa.Text)
    status = sa.Column(sa.Enum(Status, name="user_status"), nullable=False, default=Status.active)
"""
SQL_INIT = (
    "CREATE TYPE user_status AS ENUM ('active', 'archived');\n"
    "CREATE TABLE users (id SERIAL PRIMARY KEY, email VARCHAR(200) NOT NULL, bio TEXT,\n"
    "    status user_status NOT NULL);\n"
)


def sqlalchemy_project(root: Path, models: str, *migrations: str) -> None:
    (root / "migrations").mkdir(parents=True)
    (root / "app").mkdir()
    (root / "app" / "models.py").write_text(textwrap.dedent(models))
    for n, sql in enumerate(migrations, start=1):
        (root / "migrations" / f"{n:03d}_m.sql").write_text(textwrap.dedent(sql))


def model_line(root: Path, text: str) -> int:
    lines = (root / "app" / "models.py").read_text().splitlines()
    return next(n for n, line in enumerate(lines, start=1) if text in line)


def sa_drift(root: Path, **settings: object) -> list[Finding]:
    return drift(root, "migrations", app_schema=("app/**/*.py",), **settings)


def test_sqlalchemy_models_that_agree_are_quiet(tmp_path: Path) -> None:
    sqlalchemy_project(tmp_path, MODELS, SQL_INIT)
    assert sa_drift(tmp_path) == []


def test_sqlalchemy_a_dropped_column_still_mapped(tmp_path: Path) -> None:
    sqlalchemy_project(tmp_path, MODELS, SQL_INIT, "ALTER TABLE users DROP COLUMN bio;\n")
    found = sa_drift(tmp_path)
    assert [(f.path, f.line, f.column) for f in found] == [("migrations/002_m.sql", 1, 1)]
    assert f"app/models.py:{model_line(tmp_path, 'bio:')}" in found[0].message


def test_sqlalchemy_an_attribute_with_no_migration(tmp_path: Path) -> None:
    models = MODELS + "    nick: Mapped[Optional[str]]\n"
    sqlalchemy_project(tmp_path, models, SQL_INIT)
    found = sa_drift(tmp_path)
    assert [(f.line, "no migration adds" in f.message) for f in found] == [(1, True)]
    assert f"app/models.py:{model_line(tmp_path, 'nick:')}" in found[0].message


def test_sqlalchemy_nullability(tmp_path: Path) -> None:
    # Mapped[Optional[...]] on a NOT NULL column without default: inserts that omit it fail.
    sqlalchemy_project(tmp_path / "a", MODELS, SQL_INIT.replace("bio TEXT", "bio TEXT NOT NULL"))
    assert ["optional" in f.message for f in sa_drift(tmp_path / "a")] == [True]
    # A server_default makes the database fill it.
    sqlalchemy_project(
        tmp_path / "b", MODELS, SQL_INIT.replace("bio TEXT", "bio TEXT NOT NULL DEFAULT ''")
    )
    assert sa_drift(tmp_path / "b") == []
    # Mapped[str] is required: on a nullable column it fires; with default= it is supplied.
    sqlalchemy_project(
        tmp_path / "c", MODELS, SQL_INIT.replace("VARCHAR(200) NOT NULL", "VARCHAR(200)")
    )
    assert ["required" in f.message for f in sa_drift(tmp_path / "c")] == [True]
    supplied = MODELS.replace("sa.String(200))", 'sa.String(200), default="")')
    sqlalchemy_project(
        tmp_path / "d", supplied, SQL_INIT.replace("VARCHAR(200) NOT NULL", "VARCHAR(200)")
    )
    assert sa_drift(tmp_path / "d") == []


def test_sqlalchemy_server_default_the_column_lacks(tmp_path: Path) -> None:
    models = MODELS.replace(
        "nullable=False, default=Status.active", 'nullable=False, server_default="active"'
    )
    sqlalchemy_project(tmp_path, models, SQL_INIT)
    assert ["server_default=" in f.message for f in sa_drift(tmp_path)] == [True]


def test_sqlalchemy_enum_values(tmp_path: Path) -> None:
    sqlalchemy_project(tmp_path, MODELS, SQL_INIT.replace(", 'archived'", ""))
    found = sa_drift(tmp_path)
    assert [(f.line, '"archived"' in f.message) for f in found] == [(1, True)]
    literal = MODELS.replace("sa.Enum(Status,", 'sa.Enum("active", "archived", "gone",')
    sqlalchemy_project(tmp_path / "b", literal, SQL_INIT)
    assert ['"gone"' in f.message for f in sa_drift(tmp_path / "b")] == [True]


def test_sqlalchemy_types(tmp_path: Path) -> None:
    sqlalchemy_project(tmp_path, MODELS, SQL_INIT.replace("VARCHAR(200)", "VARCHAR(100)"))
    found = sa_drift(tmp_path)
    assert [("sa.String(200)" in f.message and "varchar(100)" in f.message) for f in found] == [
        True
    ]
    unbounded = MODELS.replace("sa.String(200)", "sa.String()")
    sqlalchemy_project(tmp_path / "b", unbounded, SQL_INIT.replace("VARCHAR(200)", "TEXT"))
    assert sa_drift(tmp_path / "b") == []


def test_sqlalchemy_keys_in_table_args_and_abstract_bases(tmp_path: Path) -> None:
    models = MODELS + textwrap.dedent(
        """
        class Stamped(Base):
            __abstract__ = True
            __tablename__ = "never"

        class Tag(Base):
            __tablename__ = "tags"
            __table_args__ = (sa.PrimaryKeyConstraint("name"),)
            name = sa.Column(sa.String(50))
        """
    )
    sqlalchemy_project(
        tmp_path, models, SQL_INIT + "CREATE TABLE tags (name VARCHAR(50) PRIMARY KEY);\n"
    )
    assert sa_drift(tmp_path) == []
    keyless = models.replace('__table_args__ = (sa.PrimaryKeyConstraint("name"),)', "")
    sqlalchemy_project(
        tmp_path / "b", keyless, SQL_INIT + "CREATE TABLE tags (name VARCHAR(50) PRIMARY KEY);\n"
    )
    assert ["optional" in f.message for f in sa_drift(tmp_path / "b")] == [True]


def test_alembic_revisions_against_models(tmp_path: Path) -> None:
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (tmp_path / "migrations" / "env.py").write_text("from alembic import context\n")
    head = 'revision = "{r}"\ndown_revision = {d}\nfrom alembic import op\nimport sqlalchemy as sa\ndef upgrade():\n'
    (versions / "r1.py").write_text(
        head.format(r="r1", d="None")
        + '    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True),\n'
        + '        sa.Column("email", sa.String(200), nullable=False),\n'
        + '        sa.Column("bio", sa.Text(), nullable=True))\n'
    )
    (versions / "r2.py").write_text(
        head.format(r="r2", d='"r1"') + '    op.drop_column("users", "bio")\n'
    )
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "models.py").write_text(textwrap.dedent(MODELS).replace(
        '    status = sa.Column(sa.Enum(Status, name="user_status"), nullable=False, default=Status.active)\n', ""
    ))  # fmt: skip
    found = drift(tmp_path, str(tmp_path), app_schema=("app/models.py",))
    assert [(Path(f.path).name, f.line, f.column) for f in found] == [("r2.py", 6, 1)]
    assert "drops the column" in found[0].message
    assert "alembic revision --autogenerate" in found[0].help


@pytest.mark.parametrize(
    ("annotation", "required"),
    [
        ("Mapped[str | None]", False),
        ('Mapped["Optional[str]"]', False),
        ("Mapped[Union[str, None]]", False),
        ("Mapped[str]", True),
        ('Mapped["str"]', True),
    ],
)
def test_sqlalchemy_mapped_annotations(tmp_path: Path, annotation: str, required: bool) -> None:
    models = f'class T(Base):\n    __tablename__ = "t"\n    id = sa.Column(sa.Integer, primary_key=True)\n    v: {annotation} = mapped_column(sa.Text)\n'
    null = "" if required else " NOT NULL"
    sqlalchemy_project(tmp_path, models, f"CREATE TABLE t (id SERIAL PRIMARY KEY, v TEXT{null});\n")
    expected = "required" if required else "optional"
    assert [expected in f.message for f in sa_drift(tmp_path)] == [True]


def test_sqlalchemy_a_computed_nullable_is_not_compared(tmp_path: Path) -> None:
    models = 'class T(Base):\n    __tablename__ = "t"\n    id = sa.Column(sa.Integer, primary_key=True)\n    v = sa.Column(sa.Text, nullable=FLAG)\n'
    sqlalchemy_project(
        tmp_path, models, "CREATE TABLE t (id SERIAL PRIMARY KEY, v TEXT NOT NULL);\n"
    )
    assert sa_drift(tmp_path) == []
    literal = models.replace("nullable=FLAG", "nullable=True")
    sqlalchemy_project(
        tmp_path / "b", literal, "CREATE TABLE t (id SERIAL PRIMARY KEY, v TEXT NOT NULL);\n"
    )
    assert len(sa_drift(tmp_path / "b")) == 1


def test_an_identity_column_is_filled_by_the_database(tmp_path: Path) -> None:
    identity = INIT.replace('"id" SERIAL NOT NULL', '"id" INTEGER GENERATED ALWAYS AS IDENTITY')
    prisma_project(tmp_path / "a", USER, identity)
    assert drift(tmp_path / "a") == []
    # The same key without the identity: nothing fills it.
    plain = INIT.replace('"id" SERIAL NOT NULL', '"id" INTEGER')
    prisma_project(tmp_path / "b", USER, plain)
    assert ["@default(autoincrement())" in f.message for f in drift(tmp_path / "b")] == [True]


def test_the_help_speaks_the_users_tool(tmp_path: Path) -> None:
    prisma_project(tmp_path / "p", USER, INIT, 'ALTER TABLE "User" DROP COLUMN "bio";\n')
    [prisma] = drift(tmp_path / "p")
    assert "prisma migrate dev" in prisma.help and "alembic" not in prisma.help
    sqlalchemy_project(tmp_path / "s", MODELS, SQL_INIT, "ALTER TABLE users DROP COLUMN bio;\n")
    [sql] = sa_drift(tmp_path / "s")
    assert sql.help == (
        "Make the app's schema and the migrations agree: write the migration it needs."
    )


def test_a_column_type_the_migrations_never_show_is_not_compared(tmp_path: Path) -> None:
    # geometry comes from an extension: migcheck cannot tell what it is, so it says nothing.
    schema = "model T {\n  id Int @id\n  v  String\n}\n"
    table = 'CREATE TABLE "T" ("id" INTEGER NOT NULL PRIMARY KEY, "v" geometry NOT NULL);\n'
    prisma_project(tmp_path / "a", schema, table)
    assert drift(tmp_path / "a") == []
    prisma_project(tmp_path / "b", schema, table.replace("geometry", "INTEGER"))
    assert ["is integer" in f.message for f in drift(tmp_path / "b")] == [True]


def test_an_enum_type_that_is_not_an_enum_in_the_database(tmp_path: Path) -> None:
    composite = 'CREATE TYPE "user_role" AS ("a" INTEGER);\n' + ENUM_TABLE
    prisma_project(tmp_path, ENUM_SCHEMA, composite)
    assert drift(tmp_path) == []


def test_ignored_models_and_views(tmp_path: Path) -> None:
    schema = USER + "\nmodel Old {\n  id Int @id\n  @@ignore\n}\n"
    prisma_project(tmp_path / "a", schema, INIT)
    assert drift(tmp_path / "a") == []
    view = USER + "\nview UserInfo {\n  id    Int @unique\n  email Int\n}\n"
    created = INIT + 'CREATE VIEW "UserInfo" AS SELECT "id", "email" FROM "User";\n'
    prisma_project(tmp_path / "b", view, created)
    assert drift(tmp_path / "b") == []
    # A model (not a view) mapped onto a database view: its columns are the query's.
    as_model = USER + "\nmodel UserInfo {\n  id    Int @unique\n  email Int\n}\n"
    prisma_project(tmp_path / "c", as_model, created)
    assert drift(tmp_path / "c") == []
    prisma_project(tmp_path / "d", view, INIT)
    assert ["no migration creates it" in f.message for f in drift(tmp_path / "d")] == [True]


def test_a_renamed_table_keeps_its_history(tmp_path: Path) -> None:
    schema = USER.replace("model User {", "model Person {") + "\nmodel Audit {\n  id Int @id\n}\n"
    prisma_project(
        tmp_path, schema, INIT,
        'ALTER TABLE "User" DROP COLUMN "bio";\nALTER TABLE "User" RENAME TO "Person";\n',
    )  # fmt: skip
    found = drift(tmp_path)
    # The drop happened under the old name; the history is still complete, so the model
    # no migration creates is reported too.
    assert sorted((f.line, f.message.split(",")[1].strip()) for f in found) == [
        (1, "but no migration creates it: the app's queries of it fail on a database built from the migrations."),
        (1, "but this migration drops the column: every query of it fails."),
    ]  # fmt: skip


def test_an_altered_table_does_not_make_the_history_incomplete(tmp_path: Path) -> None:
    schema = USER + "\nmodel Audit {\n  id Int @id\n}\n"
    prisma_project(
        tmp_path, schema, INIT, 'ALTER TABLE "User" ALTER COLUMN "bio" SET DEFAULT \'\';\n'
    )
    assert ["no migration creates it" in f.message for f in drift(tmp_path)] == [True]


def test_messages_name_the_schema_and_the_model(tmp_path: Path) -> None:
    schema = 'model User {\n  id Int @id\n  @@schema("auth")\n  @@map("users")\n}\n'
    prisma_project(
        tmp_path / "p", schema, 'CREATE TABLE "users" ("id" INTEGER NOT NULL PRIMARY KEY);\n'
    )
    [found] = drift(tmp_path / "p")
    assert 'maps table "auth"."users" (model User),' in found.message
    sqlalchemy_project(tmp_path / "s", MODELS, SQL_INIT, "DROP TABLE users;\n")
    [found] = sa_drift(tmp_path / "s")
    assert 'maps table "users" (model User), but this migration drops it' in found.message


def alembic_project(root: Path, second: str, models: str) -> None:
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (root / "migrations" / "env.py").write_text("from alembic import context\n")
    head = (
        'revision = "{r}"\ndown_revision = {d}\nfrom alembic import op\nimport sqlalchemy as sa\n'
        "from app.base import NICK\ndef upgrade():\n"
    )
    (versions / "r1.py").write_text(
        head.format(r="r1", d="None")
        + '    op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True))\n'
    )
    (versions / "r2.py").write_text(head.format(r="r2", d='"r1"') + second)
    (root / "app").mkdir()
    (root / "app" / "models.py").write_text(textwrap.dedent(models))


def test_a_revision_the_reader_could_not_evaluate_may_add_the_column(tmp_path: Path) -> None:
    models = (
        "class User(Base):\n    __tablename__ = 'users'\n"
        "    id = sa.Column(sa.Integer, primary_key=True)\n    nick = sa.Column(sa.String(20))\n"
    )
    opaque = '    op.add_column("users", NICK)\n'
    alembic_project(tmp_path / "a", opaque, models)
    assert drift(tmp_path / "a", str(tmp_path / "a"), app_schema=("app/models.py",)) == []
    alembic_project(tmp_path / "b", "    pass\n", models)
    found = drift(tmp_path / "b", str(tmp_path / "b"), app_schema=("app/models.py",))
    assert [(Path(f.path).name, "no migration adds" in f.message) for f in found] == [
        ("r2.py", True)
    ]


def test_enum_values_lacking_are_listed(tmp_path: Path) -> None:
    prisma_project(
        tmp_path,
        ENUM_SCHEMA,
        "CREATE TYPE \"user_role\" AS ENUM ('USER');\n" + ENUM_TABLE,
    )
    [found] = drift(tmp_path)
    assert '"ADMIN", "owner" to "User"."role"' in found.message and "lacks them" in found.message
    assert found.span == Span(1, 1, 1, 1)


def test_the_last_nullability_change_is_named(tmp_path: Path) -> None:
    alter = 'ALTER TABLE "User" ALTER COLUMN "bio" {} NOT NULL;\n'
    prisma_project(
        tmp_path, USER.replace("String?", "String"), INIT,
        alter.format("SET"), "SELECT 1;\n" + alter.format("DROP"),
    )  # fmt: skip
    assert where(drift(tmp_path)) == [("20240103000000_m3", 2, 1)]


def test_a_column_dropped_before_two_renames_of_its_table(tmp_path: Path) -> None:
    schema = USER.replace("model User {", 'model Person {\n  @@map("people")')
    prisma_project(
        tmp_path, schema, INIT,
        'ALTER TABLE "User" DROP COLUMN "bio";\nALTER TABLE "User" RENAME TO "Member";\n'
        'ALTER TABLE "Member" RENAME TO "people";\n',
    )  # fmt: skip
    found = drift(tmp_path)
    assert [(f.line, "drops the column" in f.message) for f in found] == [(1, True)]
