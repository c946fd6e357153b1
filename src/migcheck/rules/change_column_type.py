"""change-column-type: ALTER COLUMN ... TYPE that the running app may not survive."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck import pgcatalog
from migcheck.context import Context
from migcheck.model import ColumnType, Finding, Op, Statement
from migcheck.quoting import qcol, qname, quote
from migcheck.rules import Rule
from migcheck.rules._alembic import prior_column
from migcheck.rules._compat import type_sql
from migcheck.rules._enum_swap import enum_swap

# Types whose values read back with the same text when the column moves between them.
# pgcatalog's ``widening`` only says every old value fits; integer → numeric(65,30) fits
# but reads back as 5.000000000000000000000000000000 and as a decimal in every driver, so
# only a change inside one of these families (or a typmod change of one type) is silent.
_FAMILIES = (
    frozenset({"varchar", "text"}),
    frozenset({"int2", "int4", "int8"}),
    frozenset({"bit", "varbit"}),
    frozenset({"cidr", "inet"}),
)


def _same_family(old: ColumnType, new: ColumnType) -> bool:
    a, b = pgcatalog.canonical_type(old.name), pgcatalog.canonical_type(new.name)
    if a == b == "numeric" and old.params and new.params:
        # A larger scale keeps every value but prints it differently (1.50 → 1.5000).
        return (old.params[1:] or (0,)) == (new.params[1:] or (0,))
    return a == b or any(a in f and b in f for f in _FAMILIES)


class ChangeColumnType(Rule):
    id = "change-column-type"
    category = "compatibility"
    severity = "error"
    summary = "Changing a column's type breaks the app version still running unless it widens"
    kinds = frozenset({"alter_column_type"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if op.type is None or op.column is None:
            return
        if ctx.is_new_table(op.table) or ctx.is_new_column(op.table, op.column):
            return
        info = ctx.table(op.table)
        if info is not None and info.kind != "table":
            return
        # Prisma's enum swap moves the column to "X_new"; remove-enum-value judges it.
        if enum_swap(op, ctx) is not None:
            return
        column = prior_column(ctx, op.table, op.column)
        old = column.type if column is not None else None
        change = pgcatalog.analyse_type_change(old, op.type, ctx.pg_version, op.using, op.column)
        if old is not None and change.widening and _same_family(old, op.type):
            return  # varchar(n) → varchar(m > n), varchar → text, int → bigint, ...
        col, new = qcol(op.table, op.column), type_sql(ctx, op.type)
        if old is None:
            message = (
                f"Changing {col} to {new}: could not check whether this is a safe widening, "
                "because the column's old type is unknown (the history never showed it "
                "created); unless it is, the app version still running reads and writes "
                f"values of the old type that {new} may reject or convert."
            )
        else:
            o = type_sql(ctx, old)
            if change.widening:
                effect = (
                    f"every value fits, but it reads back as {new}, a different type for its "
                    "driver or ORM"
                )
            else:
                effect = (
                    f"{new} may reject or convert the values it writes, and this ALTER fails "
                    "if an existing value does not convert"
                )
            message = (
                f"Changing {col} from {o} to {new}: the app version still running reads and "
                f"writes it as {o}, and {effect}."
            )
        t = qname(op.table)
        new_col = quote(f"{op.column}_new")
        using = op.using.text.strip() if op.using is not None else f"{quote(op.column)}::{new}"
        prisma = (
            f'With Prisma, add a new field mapped to the new column (`@map("{op.column}_new")`'
            ") and move the code to it before removing the old one.\n"
            if ctx.is_prisma
            else ""
        )
        yield self.finding(
            stmt,
            message,
            f"{prisma}"
            "Change the type with a new column (expand and contract):\n"
            f"1. Add it and keep it in sync (a trigger, or app writes to both):\n"
            f"    ALTER TABLE {t} ADD COLUMN {new_col} {new};\n"
            "2. Backfill it in batches:\n"
            f"    UPDATE {t} SET {new_col} = {using} WHERE {new_col} IS NULL AND <batch range>;\n"
            f"3. Ship app code that reads and writes {new_col} only.\n"
            "4. In a later deploy, drop the old column:\n"
            f"    ALTER TABLE {t} DROP COLUMN {quote(op.column)};"
            + (f"\nPostgres: {change.reason}." if change.reason and old is not None else ""),
            op,
        )
