"""Statements holding template placeholders are reported as not understood, never with a
table named "" (issue 12, point 1), and parser internals never reach a message."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where

U = "unrecognized-statement"
HISTORY = ("create table users (id bigint primary key, bio text);",)


@pytest.mark.parametrize(
    "sql",
    [
        'CREATE INDEX users_id_idx ON {{ index .Options "Namespace" }}.users (id);',  # Go
        "CREATE INDEX users_id_idx ON ${schema}.users (id);",  # Flyway placeholder
        "ALTER TABLE {{.Schema}}.users DROP COLUMN bio;",
        "CREATE INDEX users_id_idx ON :schema.users (id);",  # psql variable
        "CREATE INDEX users_id_idx ON %(schema)s.users (id);",  # Python format
    ],
)
def test_a_templated_name_is_not_understood_rather_than_empty(sql: str) -> None:
    findings = lint_sql("SELECT 1;\n" + sql, history=HISTORY)
    assert where(findings, U) == [(2, 1)]
    assert [f.rule for f in findings] == [U]
    message = findings[0].message
    assert "rendered SQL" in message
    assert '""' not in message


def test_the_same_statement_rendered_is_checked() -> None:
    # The near miss: the rendered name is linted as usual.
    findings = lint_sql("CREATE INDEX users_id_idx ON app.users (id);", history=HISTORY)
    assert "non-concurrent-index" in [f.rule for f in findings]


def test_braces_inside_strings_and_bodies_are_not_placeholders() -> None:
    sql = (
        "UPDATE users SET bio = '{\"a\": 1}' WHERE id = 1;\n"
        "DO $$ BEGIN RAISE NOTICE '{x}'; END $$;\n"
    )
    assert U not in [f.rule for f in lint_sql(sql, history=HISTORY)]


def test_a_parse_error_names_the_text_not_the_token_object() -> None:
    # sqlglot says "Expected table name but got <Token token_type: TokenType.WHERE, ...>".
    findings = lint_sql("DELETE FROM WHERE;", history=HISTORY)
    assert where(findings, U) == [(1, 1)]
    assert "Expected table name but got 'WHERE'" in findings[0].message
    assert "<Token" not in findings[0].message
