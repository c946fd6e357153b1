"""non-concurrent-drop-index: DROP INDEX without CONCURRENTLY on an index of a live table."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.locks import ACCESS_EXCLUSIVE
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qname
from migcheck.rules import Rule
from migcheck.rules._locking import blocks, indent, outside_tx_advice
from migcheck.rules._opcalls import autocommit, drop_index
from migcheck.schema import index_key


class NonConcurrentDropIndex(Rule):
    id = "non-concurrent-drop-index"
    category = "locking"
    # The drop itself is instant: its only risk is the lock queue every instant ACCESS
    # EXCLUSIVE statement shares (missing-lock-timeout's concern), so by itself it is
    # information, not a warning, until table sizes say otherwise.
    severity = "info"
    summary = "DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the index's table"
    kinds = frozenset({"drop_index"})
    help_covers = frozenset({"hold-exclusive-lock"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if op.concurrently:
            return
        idx = ctx.schema.indexes.get(op.name) if op.name else None
        # An index created by this deploy serves no query of the running app yet.
        if idx is not None and ctx.is_new(idx.origin):
            return
        if idx is None and op.if_exists and _dropped_with_constraint(op.name, ctx):
            return
        # An index is never older than its table, so the index's own newness (above) has
        # already excused the index of a table new in this deploy.
        table = ctx.table_for(op)
        on = f"its table {qname(table)}" if table else "its table"
        message = (
            f"DROP INDEX {qname(op.name)} without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on "
            f"{on}, which blocks {blocks(ACCESS_EXCLUSIVE)} while it waits for running "
            "queries to finish and drops the index."
        )
        exists = " IF EXISTS" if op.if_exists else ""
        lines = [
            "Drop it without blocking queries (it waits for transactions using the index "
            "instead of locking them out):",
            autocommit([drop_index(op.name, table, if_exists=op.if_exists)])
            if ctx.tool == "alembic"
            else indent(f"DROP INDEX CONCURRENTLY{exists} {ident(op.name)};"),
            outside_tx_advice(ctx, block_shown=True),
        ]
        names = [o.name for o in stmt.ops if o.kind == "drop_index"]
        if len(names) > 1 or op.options.get("cascade"):
            lines.append(
                "DROP INDEX CONCURRENTLY drops one index per statement and does not accept "
                "CASCADE: write one statement per index and drop dependent objects first."
            )
        yield self.finding(stmt, message, "\n".join(lines), op)


def _dropped_with_constraint(name: str | None, ctx: Context) -> bool:
    """True when an earlier statement of this migration dropped a constraint of this name:
    dropping a primary key or unique constraint drops its index, so a following ``DROP
    INDEX IF EXISTS`` of that name (what ``supabase db diff`` writes) finds nothing and
    takes no lock. The history may never have shown the constraint, hence the look back."""
    for stmt in ctx.earlier_statements():
        for o in stmt.ops:
            if o.kind == "drop_constraint" and o.name and index_key(o.name, o.table) == name:
                return True
    return False
