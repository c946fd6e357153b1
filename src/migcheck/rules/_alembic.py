"""A column's state before an Alembic revision changes it, as the revision itself says.

Alembic's ``alter_column`` takes ``existing_type=``, ``existing_nullable=`` (autogenerate
writes them from the reflected database, and MySQL needs them), so a revision states what
the column was even when the replayed history never showed it created: histories whose
first tables came from ``metadata.create_all()`` (MLflow), squashed or partial
histories. The Alembic source passes them in ``Migration.notes``; ``prior_column`` uses
them only where the schema model knows nothing of the column, so replayed DDL always
wins over what a revision claims.
"""

from __future__ import annotations

from migcheck import pgcatalog
from migcheck.context import Context
from migcheck.schema import ColumnInfo
from migcheck.sources.alembic.notes import EXISTING_COLUMNS


def prior_column(ctx: Context, table: str | None, column: str | None) -> ColumnInfo | None:
    """The column as the statement finds it: the schema model's, else what the Alembic
    revision declares about it (type and nullability; None when neither knows)."""
    known = ctx.column(table, column)
    if known is not None or table is None or column is None:
        return known
    facts = ctx.migration.notes.get(EXISTING_COLUMNS)
    if not isinstance(facts, dict):
        return None
    # ``batch_alter_table("t", schema="s")`` names "s.t"; SQL may name it either way.
    candidates = [table, table.rsplit(".", 1)[-1]] if "." in table else [table]
    info = next(
        (
            facts[t][column]
            for t in candidates
            if isinstance(facts.get(t), dict) and column in facts[t]
        ),
        None,
    )
    if not isinstance(info, dict):
        return None
    declared = info.get("type")
    nullable = info.get("nullable")
    return ColumnInfo(
        name=column,
        type=pgcatalog.parse_type(declared) if isinstance(declared, str) else None,
        not_null=nullable is False,
    )
