"""drop-column: dropping a column the running app still reads or writes."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qcol, qname, quote
from migcheck.rules import Rule
from migcheck.rules._swap import column_swap, describe, renamed_away_in_swap


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
            yield self.finding(stmt, *describe(op, ctx, swap), op)
            return
        if renamed_away_in_swap(op, ctx):
            return  # the rename that started the swap reports it
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
