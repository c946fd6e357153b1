"""set-not-null-scan: SET NOT NULL scans the whole table under ACCESS EXCLUSIVE unless a
validated CHECK (col IS NOT NULL) lets PostgreSQL 12+ skip the scan.

A SET NOT NULL that also breaks the app version still running is set-not-null's: that
finding names the scan too, and its steps remove it (see ``rules/_not_null.py``). This
rule reports the scans nothing else reports: a column the old app already fills (a
default, a validated CHECK on PostgreSQL 11), or any SET NOT NULL when set-not-null is
not run.
"""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.locks import ACCESS_EXCLUSIVE
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qcol, qname, quote
from migcheck.rules import Rule
from migcheck.rules._locking import blocks
from migcheck.rules._not_null import (
    reported_by_set_not_null,
    scans_live_table,
    set_not_null_scans,
)
from migcheck.rules._opcalls import paste, word


class SetNotNullScan(Rule):
    id = "set-not-null-scan"
    category = "locking"
    severity = "warning"
    summary = "SET NOT NULL scans the table under ACCESS EXCLUSIVE without a validated CHECK"
    kinds = frozenset({"set_not_null"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        t, c = op.table, op.column
        if not scans_live_table(op, ctx):
            return
        if reported_by_set_not_null(stmt, op, ctx):
            return  # one problem: set-not-null names the scan, and its steps remove it
        # PostgreSQL checks every SET NOT NULL of one ALTER TABLE in a single scan, so the
        # statement gets one finding, on its first scanning column, naming the others.
        scanning = [
            o
            for o in stmt.ops
            if o.kind == "set_not_null" and o.table == t and set_not_null_scans(o, ctx)
        ]
        if scanning and scanning[0] is not op:
            return
        others = [o.column for o in scanning[1:] if o.column]
        message = (
            f"SET NOT NULL on {qcol(t, c)} scans the whole table for NULLs while holding an "
            f"{ACCESS_EXCLUSIVE} lock on {qname(t)}, which blocks {blocks(ACCESS_EXCLUSIVE)} "
            "until the scan ends"
        )
        if ctx.pg_version < 12:
            message += (
                f" (PostgreSQL {ctx.pg_version} always scans; from 12 a validated CHECK "
                f"({ident(c)} IS NOT NULL) lets it skip the scan)."
            )
        else:
            message += f": no validated CHECK ({ident(c)} IS NOT NULL) proves it has no NULLs."
        if others:
            also = ", ".join(qcol(t, o) for o in others)
            message += f" The same scan also checks {also}; each needs its own CHECK."
        yield self.finding(stmt, message, _help(t, c, ctx), op)

    def slow_work(self, op: Op, stmt: Statement, ctx: Context) -> str | None:
        if not scans_live_table(op, ctx):
            return None
        return f"scans {qname(op.table)} for NULLs in {quote(op.column)}"


def _help(t: str | None, c: str | None, ctx: Context) -> str:
    """Prove there are no NULLs with a CHECK validated without blocking, so SET NOT NULL
    (12+) skips its scan; before 12 keep the CHECK instead."""
    base = (t or "").rsplit(".", 1)[-1]
    pending = [
        con.name
        for con in ctx.schema.constraints_on(t)
        if con.kind == "check" and con.not_null_column == c and not con.validated
    ]
    name = pending[0] if pending else f"{base}_{c}_not_null"
    table, col = ident(t), ident(c)
    if ctx.pg_version >= 12:
        steps = []
        if not pending:
            steps.append(
                f"ALTER TABLE {table} ADD CONSTRAINT {ident(name)} CHECK ({col} IS NOT "
                "NULL) NOT VALID;"
            )
            steps.append(
                f"-- next {word(ctx)} (SHARE UPDATE EXCLUSIVE: reads and writes continue):"
            )
        steps += [
            f"ALTER TABLE {table} VALIDATE CONSTRAINT {ident(name)};",
            f"-- next {word(ctx)} (no scan: the validated CHECK proves it):",
            f"ALTER TABLE {table} ALTER COLUMN {col} SET NOT NULL;",
            f"ALTER TABLE {table} DROP CONSTRAINT {ident(name)};",
        ]
        intro = (
            "Prove there are no NULLs without blocking traffic, then SET NOT NULL skips its scan:"
            if not pending
            else f"Validate the pending CHECK {qname(name)} first (in a separate {word(ctx)}), "
            "then SET NOT NULL skips its scan:"
        )
        help_ = intro + "\n" + paste(ctx, *steps)
    else:
        help_ = (
            f"PostgreSQL {ctx.pg_version} cannot skip the scan. Either keep a validated "
            "CHECK constraint instead of NOT NULL (the same guarantee, added without "
            "blocking):\n"
            + paste(
                ctx,
                f"ALTER TABLE {table} ADD CONSTRAINT {ident(name)} CHECK ({col} IS NOT "
                "NULL) NOT VALID;",
                f"-- next {word(ctx)}:",
                f"ALTER TABLE {table} VALIDATE CONSTRAINT {ident(name)};",
            )
            + "\nor run SET NOT NULL in a low-traffic window with a short lock_timeout; "
            "after upgrading to 12+ the validated CHECK lets SET NOT NULL skip the scan."
        )
    return help_
