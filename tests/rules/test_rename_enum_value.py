"""rename-enum-value: ALTER TYPE ... RENAME VALUE."""

from __future__ import annotations

from helpers import lint_sql, where

R = "rename-enum-value"
ROLE = "CREATE TYPE \"Role\" AS ENUM ('OWNER', 'ADMIN', 'MEMBER');"


def run(sql: str, history: tuple[str, ...] = (ROLE,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_rename_value() -> None:
    findings = run("-- AlterEnum\nALTER TYPE \"Role\" RENAME VALUE 'MEMBER' TO 'USER';")
    assert where(findings, R) == [(2, 1)]
    f = findings[0]
    assert f.severity == "error" and f.category == "compatibility"
    assert "Renaming value 'MEMBER' of enum \"Role\" to 'USER'" in f.message
    assert 'invalid input value for enum "Role": "MEMBER"' in f.message
    assert "ALTER TYPE \"Role\" ADD VALUE IF NOT EXISTS 'USER';" in f.help


def test_unknown_enum_is_flagged() -> None:
    findings = run("alter type mood rename value 'sad' to 'unhappy';", history=())
    assert where(findings, R) == [(1, 1)]
    assert 'enum "mood"' in findings[0].message


def test_silent_on_enum_created_in_same_deploy() -> None:
    sql = "CREATE TYPE priority AS ENUM ('lo', 'hi');\nALTER TYPE priority RENAME VALUE 'lo' TO 'low';"
    assert run(sql, history=()) == []


def test_add_value_is_not_flagged() -> None:
    assert run("ALTER TYPE \"Role\" ADD VALUE 'AUDITOR';") == []


def test_silent_on_value_added_in_same_migration() -> None:
    sql = "ALTER TYPE \"Role\" ADD VALUE 'GUEST';\nALTER TYPE \"Role\" RENAME VALUE 'GUEST' TO 'VISITOR';"
    assert run(sql) == []
    sql = "ALTER TYPE \"Role\" ADD VALUE 'GUEST';\nALTER TYPE \"Role\" RENAME VALUE 'ADMIN' TO 'ADMINISTRATOR';"
    assert where(run(sql), R) == [(2, 1)]


def test_help_add_value_advice_depends_on_pg12() -> None:
    sql = "ALTER TYPE \"Role\" RENAME VALUE 'MEMBER' TO 'USER';"
    assert "usable once its transaction commits" in run(sql, pg=12)[0].help
    assert "refuses ADD VALUE inside one" in run(sql, pg=11)[0].help


def test_silent_on_a_label_the_history_never_gave_the_type() -> None:
    # Langflow c3e7a1b9d2f4: spanstatus was created with lowercase labels; the revision
    # renames UPPERCASE labels that only a drifted database has (each rename guarded by a
    # pg_enum lookup). No app built on this history writes 'OK'.
    history = ("create type spanstatus as enum ('unset', 'ok', 'error');",)
    assert run("ALTER TYPE spanstatus RENAME VALUE 'OK' TO 'ok';", history=history) == []
    # Near miss: a label the history did give the type is flagged (case matters).
    sql = "ALTER TYPE spanstatus RENAME VALUE 'ok' TO 'OK';"
    assert where(run(sql, history=history), R) == [(1, 1)]
    # ... and one the history added later too.
    added = (history[0] + "\nalter type spanstatus add value 'timeout';",)
    assert where(
        run("alter type spanstatus rename value 'timeout' to 'expired';", history=added), R
    ) == [(1, 1)]
