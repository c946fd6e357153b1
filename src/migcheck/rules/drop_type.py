"""drop-type: dropping a type or domain the running app or a column still uses."""

from __future__ import annotations

import re
from collections.abc import Iterator

from migcheck.context import Context
from migcheck.lazyre import lazy
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qcol, qname
from migcheck.rules import Rule
from migcheck.rules._enum_swap import swapped_out
from migcheck.rules._opcalls import paste
from migcheck.schema import ColumnInfo

_DOMAIN = lazy(r"^\s*DROP\s+DOMAIN\b", re.I)


def _of_type(column: ColumnInfo, name: str) -> bool:
    """Whether ``column`` is of type ``name`` (an unknown type is not)."""
    return getattr(column.type, "name", None) == name


class DropType(Rule):
    id = "drop-type"
    category = "compatibility"
    severity = "error"
    summary = "Dropping a type or domain breaks the columns and queries that use it"
    kinds = frozenset({"drop_type"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        name = op.name
        if not name:
            return
        if name in ctx.schema.types and ctx.is_new(ctx.schema.types[name]):
            return  # created in this deploy: nothing running uses it
        # DROP TYPE "Plan_old" closing an enum swap: the app knows the type as "Plan",
        # which now names the replacement; removed values are remove-enum-value's finding.
        if swapped_out(name, ctx):
            return
        what = "domain" if _DOMAIN.match(stmt.text) else "type"
        n = qname(name)
        users = [
            qcol(t.name, c.name)
            for t in ctx.schema.tables.values()
            for c in t.columns.values()
            if _of_type(c, name)
        ]
        if users:
            shown = ", ".join(users[:3]) + (f" and {len(users) - 3} more" if len(users) > 3 else "")
            if op.options.get("cascade"):
                effect = (
                    f"CASCADE drops the columns of this {what} ({shown}) with their data, and "
                    "the app version still running fails on every query that names them"
                )
            else:
                effect = (
                    f"{shown} still {'use' if len(users) > 1 else 'uses'} it, so the DROP "
                    "fails unless those columns are changed or dropped first"
                )
        elif self._went_with_a_dropped_table(name, ctx):
            return
        else:
            effect = (
                f'the app version still running fails with type "{name}" does not exist on '
                f"every query that casts to it (ORMs such as Prisma cast enum parameters: "
                f"$1::{n})"
            )
        yield self.finding(
            stmt,
            f"Dropping {what} {n}: {effect}.",
            "Drop it in two deploys:\n"
            f"1. Ship app code that no longer uses {n}, and move any column of this {what} "
            "to another type (or drop it) in its own deploy.\n"
            "2. In a later deploy, drop it without CASCADE, so Postgres refuses if a column "
            "still uses it:\n" + paste(ctx, f"DROP {what.upper()} {n};"),
            op,
        )

    @staticmethod
    def _went_with_a_dropped_table(name: str, ctx: Context) -> bool:
        """Whether only tables that this deploy drops used the type, and drop-table
        reports them: the running app used the type in its queries of those tables
        (Prisma casts enum parameters there), which fail on the missing table first, so
        the type adds no problem of its own."""
        return ctx.reports("drop-table") and any(
            origin.deploy == ctx.deploy
            and info.kind == "table"
            and not ctx.is_new(info.origin)
            and any(_of_type(c, name) for c in info.columns.values())
            for info, origin in ctx.schema.dropped_tables.values()
        )
