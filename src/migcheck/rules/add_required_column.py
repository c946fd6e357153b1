"""add-required-column: ADD COLUMN ... NOT NULL without a default on an existing table."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck import pgcatalog
from migcheck.context import Context
from migcheck.model import Expression, Finding, Op, Statement
from migcheck.quoting import qcol, qname, quote
from migcheck.rules import Rule
from migcheck.rules._compat import type_sql
from migcheck.rules._opcalls import add_column, string, table_args


def _supplies_value(default: Expression | None) -> bool:
    """Whether a DEFAULT gives inserts that omit the column a non-null value."""
    return default is not None and not default.is_null


class AddRequiredColumn(Rule):
    id = "add-required-column"
    category = "compatibility"
    severity = "error"
    summary = "A new NOT NULL column without a default breaks the running app's INSERTs"
    kinds = frozenset({"add_column", "drop_default"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if op.kind == "drop_default":
            yield from self._default_dropped(op, stmt, ctx)
            return
        cd = op.column_def
        if cd is None or not cd.not_null:
            return
        # Identity and generated columns, and serial types, fill themselves in.
        if cd.generated is not None:
            return
        if cd.type is not None and pgcatalog.is_serial(cd.type.text or cd.type.name):
            return
        if _supplies_value(cd.default):
            return
        if ctx.is_new_table(op.table):
            # No running code knows a table this deploy creates; rows put in it earlier in
            # this migration still make the ALTER itself fail.
            yield from self._filled_new_table(op, stmt, ctx)
            return
        existing = ctx.column(op.table, cd.name)
        if op.options.get("if_not_exists") and existing is not None:
            return  # ADD COLUMN IF NOT EXISTS of a column that is there: a no-op
        col, t, c = qcol(op.table, cd.name), qname(op.table), quote(cd.name)
        ctype = type_sql(ctx, cd.type)
        prisma = (
            "With Prisma, give the field a @default(...) in schema.prisma, or make it "
            "optional (`?`) first.\n"
            if ctx.is_prisma
            else ""
        )
        # After a TRUNCATE or an unfiltered DELETE earlier in the migration the table is
        # empty when the ALTER runs (airflow's 0047 deletes every row first).
        emptied = any(
            o.table == op.table
            and (o.kind == "truncate" or (o.kind == "delete" and not o.has_where))
            for o in ctx.ops_before()
        )
        fails = "" if emptied else f", and this ALTER fails if {t} has any row"
        if ctx.tool == "alembic":
            required = add_column(
                op.table, cd.name, cd.type, nullable=False, server_default="<value>"
            )
            nullable = add_column(op.table, cd.name, cd.type, nullable=True)
        else:
            required = f"    ALTER TABLE {t} ADD COLUMN {c} {ctype} NOT NULL DEFAULT <value>;"
            nullable = f"    ALTER TABLE {t} ADD COLUMN {c} {ctype};"
        yield self.finding(
            stmt,
            f"Adding {col} as NOT NULL without a default: the app version still running "
            f'inserts rows without it and fails with null value in column "{cd.name}" '
            f"violates not-null constraint{fails}.",
            f"{prisma}"
            "Either give it a default (a constant default adds no rewrite on PostgreSQL 11+):\n"
            f"{required}\n"
            "or add it nullable, ship app code that always writes it, backfill, and make it "
            "NOT NULL in a later deploy (see set-not-null):\n"
            f"{nullable}",
            op,
        )

    def _filled_new_table(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        cd = op.column_def
        assert cd is not None
        filler = next(
            (
                earlier
                for earlier in ctx.earlier_statements()
                if any(o.kind in ("insert", "copy") and o.table == op.table for o in earlier.ops)
            ),
            None,
        )
        if filler is None:
            return
        t, c = qname(op.table), quote(cd.name)
        ctype = type_sql(ctx, cd.type)
        yield self.finding(
            stmt,
            f"Adding {qcol(op.table, cd.name)} as NOT NULL without a default to {t}, which "
            f"line {filler.span.line} of this migration fills with rows: PostgreSQL cannot "
            f'leave the new column empty in them, so this ALTER fails (column "{cd.name}" '
            f'of relation "{op.table}" contains null values) and the migration stops.',
            "Give the column its value when it is added (the table is new, so no running app "
            "reads it yet):\n"
            f"    ALTER TABLE {t} ADD COLUMN {c} {ctype} NOT NULL DEFAULT <value>;\n"
            "or add the column before the rows are inserted, or add it nullable, fill it, "
            "then SET NOT NULL.",
            op,
        )

    def _default_dropped(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        """``ADD COLUMN c … NOT NULL DEFAULT x`` then ``ALTER COLUMN c DROP DEFAULT`` in one
        deploy (Prisma writes this for a required field without @default): the default only
        filled the existing rows, and the app still running inserts without c."""
        if ctx.is_new_table(op.table):
            return
        # Prisma adds and un-defaults the column in one ALTER TABLE: the schema before the
        # statement does not have it yet, the statement's own ADD COLUMN does.
        added = next(
            (
                o.column_def
                for o in stmt.ops
                if o.kind == "add_column"
                and o.table == op.table
                and o.column_def is not None
                and o.column_def.name == op.column
            ),
            None,
        )
        col = ctx.column(op.table, op.column)
        if added is not None:
            not_null, generated, ctype = added.not_null, added.generated, added.type
        elif col is not None and ctx.is_new(col.origin):
            not_null, generated, ctype = col.not_null, col.generated, col.type
        else:
            return  # a column the running app already knows: its inserts may supply it
        # A serial column is NOT NULL whose default is the sequence: dropping that default
        # leaves it required like any other.
        serial = ctype is not None and pgcatalog.is_serial(ctype.text or ctype.name)
        if not (not_null or serial) or generated is not None:
            return
        if any(
            later.kind == "set_default" and later.table == op.table and later.column == op.column
            for later in ctx.ops_after()
        ):
            return
        c, t = quote(op.column), qname(op.table)
        prisma = (
            "With Prisma, keep a @default(...) on the field in schema.prisma for this "
            "deploy; remove it in a later one.\n"
            if ctx.is_prisma
            else ""
        )
        if ctx.tool == "alembic":
            name, schema = table_args(op.table)
            drop = f"    op.alter_column({name}, {string(op.column or '')}, server_default=None{schema})"
        else:
            drop = f"    ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT;"
        yield self.finding(
            stmt,
            f"Dropping the default of {qcol(op.table, op.column)}, a NOT NULL column this "
            "deploy adds, makes it a required column: the app version still running "
            f'inserts rows without it and fails with null value in column "{op.column}" '
            "violates not-null constraint.",
            f"{prisma}"
            "Keep the default until every running instance writes the column, and drop it "
            "in a later deploy:\n"
            f"{drop}",
            op,
        )
