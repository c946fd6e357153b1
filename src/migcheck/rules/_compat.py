"""Shared by the compatibility rules: a column type written the way the user would paste it.

The registry skips modules whose name starts with ``_``, so nothing here is a rule.
"""

from __future__ import annotations

from migcheck.context import Context
from migcheck.model import ColumnType
from migcheck.quoting import qname


def type_sql(ctx: Context, ct: ColumnType | None) -> str:
    """A column type as the user would write it: ``varchar(255)``, ``"Plan"``."""
    from migcheck import pgcatalog

    if ct is None:
        return "<type>"
    shown = pgcatalog.display_type(ct)
    base = ct.name
    if base in ctx.schema.types or base in ctx.schema.enums or base != base.lower():
        # A user-defined type: quote it so the help pastes as written.
        return qname(base) + "[]" * ct.array
    return shown
