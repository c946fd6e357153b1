"""change-column-type: ALTER COLUMN ... TYPE that the running app may not survive.

Three verdicts. A change whose values read back the same for every client is quiet. A
change whose new type holds every old value cannot fail, so it is a warning naming what
the running code reads back differently (``pgcatalog.readback``). Any other change (or
one whose USING computes new values) converts what the running app writes: an error. How
long Postgres holds its lock is ``type-change-rewrite``'s, so nothing here repeats it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qcol, qname, quote
from migcheck.rules import Rule
from migcheck.rules._alembic import prior_column
from migcheck.rules._compat import type_sql
from migcheck.rules._enum_swap import enum_swap
from migcheck.rules._expand import expand_contract
from migcheck.rules._readback import advice, analyse, running_app_effects


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class ChangeColumnType(Rule):
    id = "change-column-type"
    category = "compatibility"
    severity = "error"
    summary = "Changing a column's type breaks the app version still running unless it widens"
    kinds = frozenset({"alter_column_type"})
    help_covers = frozenset({"type-change-rewrite"})

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
        col, new = qcol(op.table, op.column), type_sql(ctx, op.type)
        steps = self._steps(op, ctx, new)
        if old is None:
            yield self._unknown(op, stmt, ctx, col, new, steps)
            return
        change = analyse(op, ctx, old)
        effects = running_app_effects(op, ctx, old, change)
        if effects == []:
            return
        o = type_sql(ctx, old)
        if effects is not None:
            finding = self.finding(
                stmt,
                f"Changing {col} from {o} to {new}: {new} holds every {o} value, but the app "
                f"version still running reads it back differently: {'; '.join(effects)}.",
                "".join(f"{a}\n" for a in (advice(op, ctx, old),) if a)
                + "Check that the code still running copes with that before this deploy; if it "
                "does not, change the type with a new column (expand and contract):\n" + steps,
                op,
            )
            yield dataclasses.replace(finding, severity="warning")
            return
        effect = change.caveat or f"{new} may reject or convert the values it writes"
        yield self.finding(
            stmt,
            f"Changing {col} from {o} to {new}: the app version still running reads and "
            f"writes it as {o}, and {effect}.",
            "Change the type with a new column (expand and contract):\n" + steps,
            op,
        )

    def _unknown(
        self, op: Op, stmt: Statement, ctx: Context, col: str, new: str, steps: str
    ) -> Finding:
        """The one finding when the history never created the column: what could not be
        known, and the query that tells."""
        t = qname(op.table)
        finding = self.finding(
            stmt,
            f"Changing {col} to {new}: migcheck cannot tell the column's old type, because "
            "the migration history never creates it, so it cannot say whether the app "
            f"version still running can read and write {new} values or whether Postgres "
            f"rewrites {t}.",
            "Look up the old type on the production database"
            + _lookup(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                f"{_literal(t)}::regclass AND attname = {_literal(op.column or '')};",
                ctx,
            )
            + "Raising a varchar limit or going from varchar to text is safe and instant; "
            "for any other change, use a new column (expand and contract):\n" + steps,
            op,
        )
        return dataclasses.replace(finding, severity="warning")

    @staticmethod
    def _steps(op: Op, ctx: Context, new: str) -> str:
        using = op.using.text.strip() if op.using is not None else f"{quote(op.column)}::{new}"
        return expand_contract(ctx, op.table, op.column, f"{op.column}_new", op.type, using=using)


def _lookup(query: str, ctx: Context) -> str:
    """A query to run by hand in psql: a code line in SQL help; in a revision's help, whose
    code lines go into ``upgrade()``, inline prose."""
    if ctx.tool == "alembic":
        return f" (in psql, not in the revision): `{query}`\n"
    return f":\n    {query}\n"
