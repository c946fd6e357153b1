"""drop-schema: DROP SCHEMA."""

from __future__ import annotations

from helpers import lint_sql, where

R = "drop-schema"


def run(sql: str, history: tuple[str, ...] = (), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_drop_schema_cascade_says_so() -> None:
    findings = run("-- bye\nDROP SCHEMA billing CASCADE;")
    assert where(findings, R) == [(2, 1)]
    f = findings[0]
    assert f.severity == "error"
    assert '"billing"' in f.message and "CASCADE drops every table" in f.message


def test_names_known_tables_of_the_schema() -> None:
    history = ("CREATE SCHEMA audit;\nCREATE TABLE audit.events (id bigint);",)
    findings = run("DROP SCHEMA IF EXISTS audit;", history=history)
    assert where(findings, R) == [(1, 1)]
    assert '"events"' in findings[0].message
    assert "fails without CASCADE" in findings[0].message
    assert "CASCADE drops" not in findings[0].message


def test_silent_on_schema_created_in_same_migration() -> None:
    sql = "CREATE SCHEMA scratch;\nCREATE TABLE scratch.t (id int);\nDROP SCHEMA scratch CASCADE;"
    assert run(sql) == []


def test_schema_created_in_earlier_migration_is_flagged() -> None:
    assert where(run("drop schema scratch;", history=("create schema scratch;",)), R) == [(1, 1)]


def test_names_three_tables_and_counts_the_rest() -> None:
    tables = "\n".join(f"CREATE TABLE billing.t{i} (id bigint);" for i in range(1, 5))
    findings = run("DROP SCHEMA billing CASCADE;", history=("CREATE SCHEMA billing;\n" + tables,))
    assert where(findings, R) == [(1, 1)]
    assert findings[0].message == (
        'Dropping schema "billing": CASCADE drops every table, view, type and function in it '
        'with all their data ("t1", "t2", "t3" and 1 more), and the app version still running '
        "fails on every query that uses them."
    )
    three = "\n".join(f"CREATE TABLE billing.t{i} (id bigint);" for i in range(1, 4))
    findings = run("DROP SCHEMA billing CASCADE;", history=("CREATE SCHEMA billing;\n" + three,))
    assert '("t1", "t2", "t3"), and the app' in findings[0].message


def test_cascade_on_a_schema_of_unknown_content_names_nothing() -> None:
    findings = run("DROP SCHEMA billing CASCADE;")
    assert findings[0].message == (
        'Dropping schema "billing": CASCADE drops every table, view, type and function in it '
        "with all their data, and the app version still running fails on every query that "
        "uses them."
    )


def test_another_schema_created_in_the_migration_does_not_excuse_the_drop() -> None:
    sql = "CREATE SCHEMA billing_v2;\nDROP SCHEMA billing CASCADE;"
    assert where(run(sql, history=("create schema billing;",)), R) == [(2, 1)]
