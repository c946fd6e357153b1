"""Shared by change-column-type and type-change-rewrite: what the app version still
running reads back differently after a column's type changes.

The registry skips modules whose name starts with ``_``, so nothing here is a rule.
"""

from __future__ import annotations

from migcheck import pgcatalog
from migcheck.context import Context
from migcheck.model import ColumnType, Op
from migcheck.rules._compat import type_sql
from migcheck.rules._opcalls import paste


def session_timezone(ctx: Context) -> str | None:
    """The TimeZone this migration set before the statement (``SET TimeZone = 'UTC'`` or
    ``SET TIME ZONE 'UTC'``), None when it set none or deferred to the server's default."""
    zone = ctx.settings.get("timezone")
    if zone is None:
        spelled = ctx.settings.get("time", "")
        zone = spelled[5:] if spelled[:5].lower() == "zone " else None
    if zone is None or zone.strip().strip("'").lower() in ("local", "default"):
        return None
    return zone.strip().strip("'")


def analyse(op: Op, ctx: Context, old: ColumnType | None) -> pgcatalog.TypeChange:
    """``analyse_type_change`` for this statement, with the TimeZone the migration set."""
    assert op.type is not None
    return pgcatalog.analyse_type_change(
        old, op.type, ctx.pg_version, op.using, op.column, session_timezone(ctx)
    )


def advice(op: Op, ctx: Context, old: ColumnType) -> str:
    """What to do first about what the running app reads back (empty when nothing)."""
    assert op.type is not None
    zone_set = session_timezone(ctx) is not None
    known = pgcatalog.readback(old, op.type, zone_set) if op.using is None else None
    if known is None or not known.advice:
        return ""
    # pgcatalog writes the SQL to run as indented lines; a revision runs it with op calls.
    return "\n".join(
        paste(ctx, line.strip()) if line.startswith("    ") else line
        for line in known.advice.split("\n")
    )


def running_app_effects(
    op: Op, ctx: Context, old: ColumnType, change: pgcatalog.TypeChange
) -> list[str] | None:
    """One sentence per thing the running app reads back differently when the new type
    holds every old value (an empty list: nothing at all), else None (values convert)."""
    assert op.type is not None
    if change.widening and pgcatalog.reads_back_unchanged(old, op.type):
        return []  # varchar(n) → varchar(m > n), varchar → text, int → bigint, ...
    zone_set = session_timezone(ctx) is not None
    known = pgcatalog.readback(old, op.type, zone_set) if op.using is None else None
    if known is not None:
        return known.effects(ctx.is_prisma)
    if change.widening:
        # Every value fits (a cast chain in USING, float4 → float8) but the client type
        # differs in a way migcheck has not observed per driver.
        return [f"its driver or ORM gets {type_sql(ctx, op.type)} values"]
    return None
