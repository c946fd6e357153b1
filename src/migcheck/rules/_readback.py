"""Shared by change-column-type and type-change-rewrite: what the app version still
running reads back differently after a column's type changes.

The registry skips modules whose name starts with ``_``, so nothing here is a rule.
"""

from __future__ import annotations

from migcheck import pgcatalog
from migcheck.context import Context
from migcheck.model import ColumnType, Op
from migcheck.rules._compat import type_sql


def running_app_effects(
    op: Op, ctx: Context, old: ColumnType, change: pgcatalog.TypeChange
) -> list[str] | None:
    """One sentence per thing the running app reads back differently when the new type
    holds every old value (an empty list: nothing at all), else None (values convert)."""
    assert op.type is not None
    if change.widening and pgcatalog.reads_back_unchanged(old, op.type):
        return []  # varchar(n) → varchar(m > n), varchar → text, int → bigint, ...
    known = pgcatalog.readback(old, op.type) if op.using is None else None
    if known is not None:
        return known.effects(ctx.is_prisma)
    if change.widening:
        # Every value fits (a cast chain in USING, float4 → float8) but the client type
        # differs in a way migcheck has not observed per driver.
        return [f"its driver or ORM gets {type_sql(ctx, op.type)} values"]
    return None
