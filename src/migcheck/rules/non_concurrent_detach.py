"""non-concurrent-detach: DETACH PARTITION without CONCURRENTLY (PostgreSQL 14+) locks every
reader and writer out of the partitioned table."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.locks import ACCESS_EXCLUSIVE
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qname
from migcheck.rules import Rule
from migcheck.rules._locking import outside_tx
from migcheck.rules._opcalls import paste


class NonConcurrentDetach(Rule):
    id = "non-concurrent-detach"
    category = "locking"
    severity = "warning"
    summary = "DETACH PARTITION without CONCURRENTLY takes ACCESS EXCLUSIVE on the parent"
    kinds = frozenset({"detach_partition"})
    min_pg = 14

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        p, c = op.table, op.name
        default = ctx.schema.default_partition(p)
        if op.concurrently and default is not None and op.mode != "finalize":
            yield self.finding(stmt, *_fails_beside_default(ctx, p, c, default.name), op)
            return
        # FINALIZE completes an interrupted concurrent detach; it is not a plain detach.
        if op.concurrently or op.mode == "finalize" or not ctx.is_existing_table(op.table):
            return
        if default is not None:
            yield self.finding(stmt, *_no_concurrent_form(ctx, p, c, default.name), op)
            return
        message = (
            f"Detaching partition {qname(c)} from {qname(p)} without CONCURRENTLY takes an "
            f"{ACCESS_EXCLUSIVE} lock on {qname(p)}, which blocks every read and write on {qname(p)} "
            "and all its partitions until it commits."
        )
        help_ = "\n".join(
            [
                "Detach it in two transactions that only take SHARE UPDATE EXCLUSIVE on the "
                "parent (reads and writes continue):",
                *outside_tx(
                    ctx, f"ALTER TABLE {ident(p)} DETACH PARTITION {ident(c)} CONCURRENTLY;"
                ),
                "It is not allowed when the table has a DEFAULT partition. If it is "
                "interrupted, finish it with:",
                paste(ctx, f"ALTER TABLE {ident(p)} DETACH PARTITION {ident(c)} FINALIZE;"),
            ]
        )
        yield self.finding(stmt, message, help_, op)


# Measured on PostgreSQL 16 and 18.
_DEFAULT_ERROR = "cannot detach partitions concurrently when a default partition exists"


def _fails_beside_default(ctx: Context, p: str | None, c: str | None, d: str) -> tuple[str, str]:
    return (
        f"DETACH PARTITION {qname(c)} CONCURRENTLY fails with {_DEFAULT_ERROR}: {qname(p)} has "
        f"the DEFAULT partition {qname(d)}.",
        "Use the plain form, which takes an ACCESS EXCLUSIVE lock on "
        f"{qname(p)} for a moment (keep it short with a lock_timeout):\n"
        + paste(
            ctx,
            "SET lock_timeout = '2s';",
            f"ALTER TABLE {ident(p)} DETACH PARTITION {ident(c)};",
        ),
    )


def _no_concurrent_form(ctx: Context, p: str | None, c: str | None, d: str) -> tuple[str, str]:
    return (
        f"Detaching partition {qname(c)} from {qname(p)} takes an {ACCESS_EXCLUSIVE} lock on "
        f"{qname(p)}, which blocks every read and write on {qname(p)} and all its partitions "
        f"until it commits; CONCURRENTLY is not available because {qname(p)} has the DEFAULT "
        f"partition {qname(d)} ({_DEFAULT_ERROR}).",
        "Commit right after it, so the lock is held only for a moment, and keep the wait for "
        "it short:\n"
        + paste(
            ctx,
            "SET lock_timeout = '2s';",
            f"ALTER TABLE {ident(p)} DETACH PARTITION {ident(c)};",
        ),
    )
