"""rename-column: renaming a column (of a table or a view) the running app still uses."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qcol, quote
from migcheck.rules import Rule
from migcheck.rules._expand import expand_contract
from migcheck.rules._opcalls import paste
from migcheck.rules._swap import column_swap, describe


class RenameColumn(Rule):
    id = "rename-column"
    category = "compatibility"
    severity = "error"
    summary = "Renaming a column breaks the app version still running that uses the old name"
    kinds = frozenset({"rename_column"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        # Both ``RENAME COLUMN a TO b`` and ``RENAME a TO b`` arrive here as rename_column;
        # ``ALTER VIEW v RENAME COLUMN`` too, with relkind "view".
        if ctx.is_new_table(op.table) or ctx.is_new_column(op.table, op.column):
            return
        swap = column_swap(op, ctx)
        if swap is not None:
            yield self.finding(stmt, *describe(op, ctx, swap), op)
            return
        info = ctx.table(op.table)
        is_view = op.options.get("relkind") == "view" or (info is not None and info.kind != "table")
        old, new = quote(op.column), quote(op.new_name)
        col = qcol(op.table, op.column)
        message = (
            f"Renaming column {col} to {new}: the app version still running selects, "
            f'inserts or updates {old} and fails with column "{op.column}" does not exist '
            "until every instance is replaced."
        )
        if is_view:
            help_text = (
                "Rename a view's column in two deploys: create a second view with the new "
                "column name, ship app code that queries it, then drop the old view in a "
                "later deploy:\n"
                + paste(ctx, f"CREATE VIEW <new view> AS SELECT ..., {old} AS {new} FROM ...;")
            )
        else:
            column = ctx.column(op.table, op.column)
            if ctx.tool == "prisma":
                keep = (
                    f"With Prisma, rename only the field and keep the column: "
                    f'`{op.new_name} ... @map("{op.column}")` needs no migration at all.'
                )
            elif ctx.tool == "alembic":
                keep = (
                    "If only the code's name matters, keep the column and map it in the model "
                    f'instead: `{op.new_name} = Column("{op.column}", ...)`.'
                )
            else:
                keep = (
                    "If only the code's name matters, keep the column and alias it where the "
                    f"app reads it (`SELECT {old} AS {new}`) instead of renaming it."
                )
            help_text = (
                f"{keep}\n"
                "To rename the column itself, expand and contract:\n"
                + expand_contract(
                    ctx,
                    op.table,
                    op.column,
                    op.new_name,
                    column.type if column else None,
                    using=old,
                )
            )
        yield self.finding(stmt, message, help_text, op)
