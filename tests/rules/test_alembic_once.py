"""One problem, one finding, in Alembic form (issue 12, points 5 and 6): the same
revisions a user writes, read by the static Alembic reader."""

from __future__ import annotations

from pathlib import Path

from helpers import lint_alembic

USERS = """
op.create_table(
    "users",
    sa.Column("id", sa.BigInteger(), primary_key=True),
    sa.Column("full_name", sa.Text(), nullable=True),
)
"""
QUIET = "missing-lock-timeout"


def rules_at(findings: list) -> list[tuple[str, int]]:
    return [(f.rule, f.line) for f in findings if f.rule != QUIET]


def test_add_column_then_backfill_in_one_revision_is_one_finding(tmp_path: Path) -> None:
    body = """
    op.add_column("users", sa.Column("nickname", sa.Text(), nullable=True))
    op.execute("UPDATE users SET nickname = full_name WHERE nickname IS NULL")
    """
    fs = lint_alembic(tmp_path, USERS, body)
    assert rules_at(fs) == [("unbatched-backfill", 10)]
    (f,) = [f for f in fs if f.rule == "unbatched-backfill"]
    assert "its WHERE nickname IS NULL matches every row" in f.message
    assert 'ACCESS EXCLUSIVE lock on "users" is held for the whole backfill' in f.message


def test_backfill_of_a_column_with_a_server_default_is_quiet(tmp_path: Path) -> None:
    body = """
    op.add_column("users", sa.Column("nickname", sa.Text(), server_default="x"))
    op.execute("UPDATE users SET nickname = full_name WHERE nickname IS NULL")
    """
    assert rules_at(lint_alembic(tmp_path, USERS, body)) == []
