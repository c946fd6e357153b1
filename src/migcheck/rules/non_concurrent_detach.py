"""non-concurrent-detach: DETACH PARTITION without CONCURRENTLY (PostgreSQL 14+) locks every
reader and writer out of the partitioned table."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.locks import ACCESS_EXCLUSIVE
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qname
from migcheck.rules import Rule
from migcheck.rules._locking import indent, outside_tx_advice


class NonConcurrentDetach(Rule):
    id = "non-concurrent-detach"
    category = "locking"
    severity = "warning"
    summary = "DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the parent"
    kinds = frozenset({"detach_partition"})
    min_pg = 14

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        # FINALIZE completes an interrupted concurrent detach; it is not a plain detach.
        if op.concurrently or op.mode == "finalize" or not ctx.is_existing_table(op.table):
            return
        p, c = op.table, op.name
        message = (
            f"Detaching partition {qname(c)} from {qname(p)} without CONCURRENTLY takes an "
            f"{ACCESS_EXCLUSIVE} lock on {qname(p)}, which blocks every read and write on {qname(p)} "
            "and all its partitions until it commits."
        )
        help_ = "\n".join(
            [
                "Detach it in two transactions that only take SHARE UPDATE EXCLUSIVE on the "
                "parent (reads and writes continue):",
                indent(f"ALTER TABLE {ident(p)} DETACH PARTITION {ident(c)} CONCURRENTLY;"),
                outside_tx_advice(ctx),
                "It is not allowed when the table has a DEFAULT partition. If it is "
                "interrupted, finish it with:",
                indent(f"ALTER TABLE {ident(p)} DETACH PARTITION {ident(c)} FINALIZE;"),
            ]
        )
        yield self.finding(stmt, message, help_, op)
