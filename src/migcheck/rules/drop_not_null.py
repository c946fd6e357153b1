"""drop-not-null (opt-in): DROP NOT NULL is an expand step, safe for the app version still
running, but it lets the new app write NULLs that old readers and a later SET NOT NULL
must cope with."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qcol, qname
from migcheck.rules import Rule


class DropNotNull(Rule):
    id = "drop-not-null"
    category = "compatibility"
    # Relaxing a constraint never breaks the running app's writes; what follows is for a
    # reviewer to judge, hence info and opt-in.
    severity = "info"
    summary = "DROP NOT NULL lets NULLs in that readers of the column may not expect"
    kinds = frozenset({"drop_not_null"})
    default_enabled = False

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if ctx.is_new_table(op.table) or ctx.is_new_column(op.table, op.column):
            return
        col = ctx.column(op.table, op.column)
        if col is not None and not col.not_null:
            return  # already nullable: PostgreSQL does nothing
        c = qcol(op.table, op.column)
        yield self.finding(
            stmt,
            f"DROP NOT NULL on {c}: the app version still running keeps writing values, but "
            f"once the new version writes NULL there, code that reads {c} assuming a value "
            "(the old version, reports, other services) meets NULLs, and making the column "
            "required again needs a backfill and a SET NOT NULL. The ALTER itself takes a "
            f"brief ACCESS EXCLUSIVE lock on {qname(op.table)} and does not scan.",
            "Ship readers that handle NULL before (or with) the first writer of NULL, and "
            "keep the column's default if the old version's INSERTs rely on it.",
            op,
        )
