"""change-column-type on Alembic's op.alter_column (issue 12): the verdict depends on
what the Python app (psycopg) reads back, and an unknown old type is one warning."""

from __future__ import annotations

from alembic_helpers import Tree

from migcheck.engine import Options, lint
from migcheck.sources.alembic import load_alembic

RULES = ["change-column-type", "type-change-rewrite"]


def _findings(tree: Tree, body: str) -> list[tuple[str, str, str]]:
    tree.revision(
        "base",
        None,
        'op.create_table("t", sa.Column("n", sa.Integer()), '
        'sa.Column("at", sa.DateTime()), sa.Column("name", sa.String(50)))',
    )
    tree.revision("rev002", "base", body)
    histories, errors, _ = load_alembic(str(tree.root))
    assert errors == []
    found = lint(histories, Options(rules=RULES)).findings
    return [(f.rule, f.severity, f.message) for f in found]


def test_integer_to_numeric_warns_about_decimal(tree: Tree) -> None:
    found = _findings(tree, 'op.alter_column("t", "n", type_=sa.Numeric())')
    assert [(r, s) for r, s, _ in found] == [
        ("change-column-type", "warning"),
        ("type-change-rewrite", "warning"),
    ]
    assert "psycopg returns Decimal instead of int" in found[0][2]


def test_timestamp_to_timestamptz_warns_about_aware_datetimes(tree: Tree) -> None:
    body = 'op.alter_column("t", "at", type_=sa.DateTime(timezone=True))'
    found = _findings(tree, body)
    assert found[0][:2] == ("change-column-type", "warning")
    assert "psycopg returns aware datetimes" in found[0][2]


def test_pure_widenings_are_quiet_but_the_rewrite_is_reported(tree: Tree) -> None:
    body = (
        'op.alter_column("t", "name", type_=sa.String(200))\n'
        'op.alter_column("t", "n", type_=sa.BigInteger())'
    )
    assert [(r, s) for r, s, _ in _findings(tree, body)] == [("type-change-rewrite", "warning")]


def test_narrowing_stays_an_error(tree: Tree) -> None:
    found = _findings(tree, 'op.alter_column("t", "name", type_=sa.String(20))')
    assert found[0][:2] == ("change-column-type", "error")


def test_unknown_old_type_is_one_warning(tree: Tree) -> None:
    found = _findings(tree, 'op.alter_column("legacy", "code", type_=sa.BigInteger())')
    assert [(r, s) for r, s, _ in found] == [("change-column-type", "warning")]
    assert "cannot tell the column's old type" in found[0][2]
