"""non-concurrent-refresh: REFRESH MATERIALIZED VIEW without CONCURRENTLY locks readers out
of the view for the whole refresh."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qname
from migcheck.rules import Rule
from migcheck.rules._locking import outside_tx
from migcheck.rules._opcalls import paste


class NonConcurrentRefresh(Rule):
    id = "non-concurrent-refresh"
    category = "locking"
    severity = "warning"
    summary = "REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks reads of the view"
    kinds = frozenset({"refresh_matview"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        v = op.table
        # A view created by this deploy is read by nobody yet (and must be populated
        # before CONCURRENTLY is even allowed).
        if op.concurrently or not ctx.is_existing_table(v):
            return
        if op.options.get("no_data"):
            yield self.finding(
                stmt,
                f"REFRESH MATERIALIZED VIEW {qname(v)} WITH NO DATA empties the view: until "
                f"the next refresh every query of the running app on {qname(v)} fails with "
                f'materialized view "{(v or "").rsplit(".", 1)[-1]}" has not been populated.',
                "Keep the view populated: refresh it with its data (CONCURRENTLY keeps it "
                "readable meanwhile; PostgreSQL refuses it together with WITH NO DATA):\n"
                + paste(ctx, f"REFRESH MATERIALIZED VIEW CONCURRENTLY {ident(v)};")
                + "\nIf it must be emptied, first deploy app code that no longer reads it.",
                op,
            )
            return
        message = (
            f"REFRESH MATERIALIZED VIEW {qname(v)} without CONCURRENTLY takes an ACCESS EXCLUSIVE "
            f"lock on {qname(v)}, which blocks every read of the view until the refresh finishes."
        )
        has_unique = any(i.table == v and i.unique for i in ctx.schema.indexes.values())
        lines = [
            "Refresh it without blocking readers (it takes an EXCLUSIVE lock, which lets "
            "SELECTs continue; it is allowed inside a transaction):",
        ]
        if not has_unique:
            lines.append(
                "It needs a unique index on plain columns of the view, without WHERE; create "
                "one first if the view has none:"
            )
            key = (v or "view").rsplit(".", 1)[-1] + "_key"
            lines += outside_tx(
                ctx,
                f"CREATE UNIQUE INDEX CONCURRENTLY {ident(key)} "
                f"ON {ident(v)} (<columns that identify a row>);",
            )
        lines.append(paste(ctx, f"REFRESH MATERIALIZED VIEW CONCURRENTLY {ident(v)};"))
        yield self.finding(stmt, message, "\n".join(lines), op)

    def slow_work(self, op: Op, stmt: Statement, ctx: Context) -> str | None:
        # CONCURRENTLY spares the view's readers, not the work: it still recomputes the
        # whole view. WITH NO DATA recomputes nothing.
        if not ctx.is_existing_table(op.table) or op.options.get("no_data"):
            return None
        return f"refreshes {qname(op.table)}"
