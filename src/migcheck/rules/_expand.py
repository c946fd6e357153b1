"""The expand/contract steps that replace a column in place: a new column, a batched
backfill, the switch, the drop. One renderer for every rule that advises them (a type
change, a rename, a rewrite), in the user's tool: SQL, Prisma schema fields, or Alembic
``op.`` calls."""

from __future__ import annotations

from migcheck.context import Context
from migcheck.model import ColumnType
from migcheck.quoting import qname, quote
from migcheck.rules._compat import type_sql
from migcheck.rules._opcalls import add_column, drop_column, execute


def expand_contract(
    ctx: Context,
    table: str | None,
    old: str | None,
    new: str | None,
    ctype: ColumnType | None,
    *,
    using: str,
) -> str:
    """The four numbered steps that move ``old``'s data to a new column ``new`` of type
    ``ctype`` (None: unknown), ``using`` being the SQL expression of each new value."""
    t, old_q, new_q = qname(table), quote(old), quote(new)
    backfill = f"UPDATE {t} SET {new_q} = {using} WHERE {new_q} IS NULL AND <batch range>;"
    first = "1. Add the new column and keep it in sync (a trigger, or app writes to both):"
    fill = "2. Backfill it in batches:"
    last = "4. In a later deploy, drop the old column:"
    if ctx.tool == "alembic":
        add = add_column(table, new, ctype)
        backfill = execute(backfill)
        drop = drop_column(table, old)
        last = "4. In a later deploy, drop the old column in a new revision:"
    else:
        add = f"    ALTER TABLE {t} ADD COLUMN {new_q} {type_sql(ctx, ctype)};"
        backfill = f"    {backfill}"
        drop = f"    ALTER TABLE {t} DROP COLUMN {old_q};"
    if ctx.tool == "prisma":
        first = (
            "1. Add an optional field mapped to the new column "
            f'(`<field> <Type>? @map("{new}")`) and keep it in sync (app writes to both); '
            "`prisma migrate dev` writes:"
        )
        fill = (
            "2. Backfill it in batches, in a migration created with "
            "`prisma migrate dev --create-only` (or from a script):"
        )
        last = (
            "4. In a later migration, remove the old field from schema.prisma; "
            "`prisma migrate dev` then drops the old column:"
        )
    return (
        f"{first}\n{add}\n"
        f"{fill}\n{backfill}\n"
        f"3. Ship app code that reads and writes {new_q} only.\n"
        f"{last}\n{drop}"
    )
