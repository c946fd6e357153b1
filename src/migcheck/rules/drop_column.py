"""drop-column: dropping a column the running app still reads or writes."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qcol, qname, quote
from migcheck.rules import Rule
from migcheck.rules._compat import type_sql
from migcheck.rules._swap import Swap, column_swap


def _needs_drop_not_null(ctx: Context, op: Op) -> bool:
    """A NOT NULL column without a default (and not a key column) that the new code will
    stop writing."""
    column = ctx.column(op.table, op.column)
    if column is None or not column.not_null or column.default is not None:
        return False
    if column.generated is not None:
        return False
    return not any(
        con.kind == "primary_key" and op.column in con.columns
        for con in ctx.schema.constraints_on(op.table)
    )


class DropColumn(Rule):
    id = "drop-column"
    category = "compatibility"
    severity = "error"
    summary = "Dropping a column breaks the app version still running during the deploy"
    kinds = frozenset({"drop_column"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        table = ctx.table(op.table)
        # ALTER TABLE ... DROP COLUMN only exists for tables; on a view Postgres rejects it.
        if table is not None and table.kind != "table":
            return
        # A column added in this deploy has no reader yet.
        if ctx.is_new_column(op.table, op.column):
            return
        # DROP COLUMN IF EXISTS of a column the table the history created never had is
        # a no-op (idempotent "cleanup" migrations): nothing reads a column that is not there.
        if (
            op.if_exists
            and table is not None
            and table.origin is not None
            and op.column not in table.columns
        ):
            return
        swap = column_swap(op, ctx)
        if swap is not None:
            yield self._swap(op, stmt, ctx, swap)
            return
        t, c = qname(op.table), qcol(op.table, op.column)
        cascade = (
            ", and CASCADE also drops the views, indexes and constraints that use it"
            if op.options.get("cascade")
            else ""
        )
        ship = f"Ship app code that no longer reads or writes {c}"
        if ctx.is_prisma:
            ship += (
                " (remove the field from schema.prisma, create the migration with "
                "`prisma migrate dev --create-only` and empty it)"
            )
        else:
            ship += " (with SQLAlchemy, remove the attribute from the model)"
        steps = [ship + "."]
        if _needs_drop_not_null(ctx, op):
            # New code that no longer writes a NOT NULL column without a default fails on
            # every INSERT, so the column must accept NULL before that code starts.
            steps.insert(
                0,
                "Let the column accept NULL first (the new code's INSERTs omit it), in a "
                "migration that runs before the new code starts:\n"
                f"    ALTER TABLE {t} ALTER COLUMN {quote(op.column)} DROP NOT NULL;",
            )
        steps.append(
            "In a later deploy, once no old instance is left, drop it:\n"
            f"    ALTER TABLE {t} DROP COLUMN {quote(op.column)};"
        )
        numbered = "\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1))
        yield self.finding(
            stmt,
            f"Dropping column {c}: the app version still running selects, inserts or "
            f'updates it and fails with column "{op.column}" does not exist until every '
            f"instance is replaced{cascade}.",
            "Drop the column in two deploys:\n" + numbered,
            op,
        )

    def _swap(self, op: Op, stmt: Statement, ctx: Context, swap: Swap) -> Finding:
        """One finding for the whole swap: the column the old app uses stays, changed."""
        c, src = qcol(op.table, op.column), quote(swap.source)
        column = ctx.column(op.table, op.column)
        old = type_sql(ctx, column.type) if column is not None and column.type else None
        new = type_sql(ctx, swap.source_type) if swap.source_type is not None else None
        if old is not None and new is not None and old != new:
            change = f"now with type {new} instead of {old}"
        elif old is not None and old == new:
            change = f"now the former {src} (same type, {new})"
        else:
            change = f"now with the type of {src}"
        lost = ""
        if swap.copy is not None and not swap.guarded:
            lost = (
                f"; and the rows it inserts or updates between the copy (line "
                f"{swap.copy.span.line}) and the swap keep their value only in the dropped "
                "column, so it is lost"
            )
        message = (
            f"Dropping column {c} and renaming {src} to {quote(op.column)} (line "
            f"{swap.rename.span.line}) swaps the column under the app version still "
            f"running: it keeps reading and writing {c}, {change}{lost}. The DROP and the "
            "RENAME only change the catalog (each takes a brief ACCESS EXCLUSIVE lock, "
            "no rewrite)."
        )
        t = qname(op.table)
        keep = (
            f'With Prisma, map the field to the new column (`@map("{swap.source}")`) '
            "instead of renaming it."
            if ctx.is_prisma
            else f"Keep the new column's name and map it in the ORM instead of renaming it "
            f'(SQLAlchemy: `{op.column} = Column("{swap.source}", ...)`).'
        )
        help_text = (
            "Swap the column over three deploys (expand and contract):\n"
            f"1. Add {src} and keep it in sync with {quote(op.column)} (a trigger, or app "
            "writes to both), then backfill it in batches.\n"
            f"2. Ship app code that reads and writes {src} only. {keep}\n"
            f"3. In a later deploy, once no old instance is left, drop the old column:\n"
            f"    ALTER TABLE {t} DROP COLUMN {quote(op.column)};"
        )
        return self.finding(stmt, message, help_text, op)
