"""rename-column: RENAME COLUMN (with and without COLUMN) on tables and views."""

from __future__ import annotations

from pathlib import Path

from alembic_help import upgrade_code
from helpers import lint_alembic, lint_sql, where

R = "rename-column"
USERS_APP = (
    'op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True), '
    'sa.Column("email", sa.String(100), nullable=False), sa.Column("bio", sa.Text()), '
    'schema="app")'
)
USERS = "create table users (id bigint primary key, name varchar(100), email text);"


def run(sql: str, history: tuple[str, ...] = (USERS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_rename_column_keyword() -> None:
    findings = run("alter table users rename column name to full_name;")
    assert where(findings, R) == [(1, 19)]
    f = findings[0]
    assert f.severity == "error"
    assert '"users"."name"' in f.message and '"full_name"' in f.message
    assert 'column "name" does not exist' in f.message
    # The expand step uses the column's real type from the history.
    assert 'ALTER TABLE "users" ADD COLUMN "full_name" varchar(100);' in f.help
    assert 'ALTER TABLE "users" DROP COLUMN "name";' in f.help


def test_rename_without_column_keyword() -> None:
    assert where(run("ALTER TABLE users RENAME email TO email_address;"), R) == [(1, 19)]


def test_prisma_help_suggests_map() -> None:
    sql = 'ALTER TABLE "User" RENAME COLUMN "fullName" TO "displayName";'
    findings = run(sql, history=(), tool="prisma")
    assert where(findings, R) == [(1, 20)]
    assert '@map("fullName")' in findings[0].help


def test_multi_action_alter_points_at_the_rename() -> None:
    sql = "ALTER TABLE users\n    ADD COLUMN nick text,\n    RENAME COLUMN email TO mail;"
    # Postgres rejects RENAME combined with other actions, but whoever fixes the syntax
    # keeps the rename: the finding points at it, not at the statement start.
    assert where(run(sql), R) == [(3, 5)]


def test_view_column_rename() -> None:
    history = (USERS, "CREATE VIEW user_names AS SELECT id, name FROM users;")
    findings = run("ALTER VIEW user_names RENAME COLUMN name TO full_name;", history=history)
    assert where(findings, R) == [(1, 1)]
    assert "second view" in findings[0].help
    findings = run("ALTER TABLE user_names RENAME name TO full_name;", history=history)
    assert where(findings, R) == [(1, 24)]
    assert "second view" in findings[0].help


def test_silent_on_new_table_and_new_column() -> None:
    assert run("CREATE TABLE t (id int, nm text);\nALTER TABLE t RENAME nm TO name;") == []
    sql = (
        "ALTER TABLE users ADD COLUMN nick text;\nALTER TABLE users RENAME COLUMN nick TO nickname;"
    )
    assert run(sql) == []


def test_unknown_table_is_flagged() -> None:
    assert where(run("ALTER TABLE accounts RENAME a TO b;", history=()), R) == [(1, 22)]


def test_alembic_help_is_op_calls_and_keeps_the_orm_mapping(tmp_path: Path) -> None:
    body = 'op.alter_column("users", "email", new_column_name="mail", schema="app")'
    (f,) = [f for f in lint_alembic(tmp_path, USERS_APP, body) if f.rule == R]
    assert (f.line, f.column) == (9, 5)
    assert 'mail = Column("email", ...)' in f.help
    code = upgrade_code(f.help)
    assert 'op.add_column("users", sa.Column("mail", sa.String(100)), schema="app")' in code
    assert """op.execute('UPDATE "app"."users" SET "mail" = "email" WHERE""" in code
    assert 'op.drop_column("users", "email", schema="app")' in code
    (sql,) = run("alter table users rename column name to full_name;")
    assert "op." not in sql.help


def test_alembic_help_for_a_column_of_unknown_type_is_still_python(tmp_path: Path) -> None:
    found = lint_alembic(
        tmp_path, "pass", 'op.alter_column("users", "email", new_column_name="mail")'
    )
    (f,) = [f for f in found if f.rule == R]
    code = upgrade_code(f.help)
    assert (
        'op.add_column("users", sa.Column("mail", sa.types.NullType()))'
        "  # the column's type in your model"
    ) in code
