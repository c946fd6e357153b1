"""Inputs the fuzz campaign found, each pinned as an ordinary test of what a user sees."""

from __future__ import annotations

from test_fuzz_alembic import lint_project, revision

from helpers import lint_sql, where


def test_finding_inside_a_statement_counts_a_lone_carriage_return_as_a_line_break() -> None:
    # The splitter counts \r (old Mac line endings) as a line break; the finding's column
    # inside the statement was computed counting \n only: line 1, column 17 of a 13-column
    # line. The action ADD COLUMN is on line 2, column 3.
    sql = 'ALTER TABLE "\r" ADD COLUMN t int DEFAULT 1;'
    findings = lint_sql(
        sql, history=['CREATE TABLE "\r" (a int);'], pg=10, rules=["volatile-default"]
    )
    assert where(findings, "volatile-default") == [(2, 3)]
    sql = "ALTER TABLE t\r\rADD COLUMN c int DEFAULT 1;"
    findings = lint_sql(sql, history=["CREATE TABLE t (a int);"], pg=10, rules=["volatile-default"])
    assert where(findings, "volatile-default") == [(3, 1)]


def test_alembic_reader_iterating_a_sqlalchemy_column_is_not_a_crash() -> None:
    # Found by the long run: the static reader iterated a real sa.Column, whose
    # __getitem__ raised NotImplementedError out of the whole run.
    body = "[v for v in sa.Column() if v]"
    lint_project(
        revision([f"op.add_column('t', sa.Column('c', sa.Integer(), server_default={body}))"])
    )
