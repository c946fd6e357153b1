"""Column-level Alembic ``op.`` calls for help, built on the shared renderer ``_opcalls``.

Rules that tell an Alembic user to add, drop or relax a column, or to build a unique index
concurrently, render those calls here so each reads the same way and is valid Python
(a type with a note keeps its ``# note`` at the end of the line, after the closing
parentheses, instead of commenting them out).
"""

from __future__ import annotations

from collections.abc import Sequence

from migcheck.model import ColumnType
from migcheck.rules._opcalls import _bare, _py, sa_type, table_args


def name(identifier: str | None) -> str:
    """A column or index name as a Python string literal."""
    return _py(_bare(identifier)) if identifier else '"<name>"'


def _type(ctype: ColumnType | None) -> tuple[str, str]:
    """(SQLAlchemy type expression, trailing ``  # note`` or "")."""
    if ctype is None:
        return "sa.types.NullType()", "  # the column's type in your model"
    expr, sep, note = sa_type(ctype).partition("  # ")
    return expr, (f"  # {note}" if sep else "")


def add_column(
    table: str | None, column: str | None, ctype: ColumnType | None, extra: str = ""
) -> str:
    """``op.add_column(T, sa.Column(C, TYPE, extra))``; ``extra`` is more Column arguments."""
    t, schema = table_args(table)
    expr, note = _type(ctype)
    more = f", {extra}" if extra else ""
    return f"op.add_column({t}, sa.Column({name(column)}, {expr}{more}){schema}){note}"


def drop_column(table: str | None, column: str | None) -> str:
    t, schema = table_args(table)
    return f"op.drop_column({t}, {name(column)}{schema})"


def allow_null(table: str | None, column: str | None) -> str:
    t, schema = table_args(table)
    return f"op.alter_column({t}, {name(column)}, nullable=True{schema})"


def unique_index(index: str, table: str | None, columns: Sequence[str]) -> str:
    """``op.create_index(..., unique=True, postgresql_concurrently=True)``: the caller puts
    it in an autocommit block, since CONCURRENTLY cannot run in a transaction."""
    t, schema = table_args(table)
    cols = ", ".join(name(c) for c in columns)
    return (
        f"op.create_index({name(index)}, {t}, [{cols}], unique=True{schema}, "
        "postgresql_concurrently=True)"
    )
