"""lock-table: an explicit LOCK TABLE in a mode that blocks the application's traffic."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.locks import BLOCKS, is_blocking
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qname
from migcheck.rules import Rule
from migcheck.rules._locking import existing
from migcheck.rules._opcalls import paste


class LockTable(Rule):
    id = "lock-table"
    category = "locking"
    severity = "warning"
    summary = "LOCK TABLE in SHARE mode or stronger blocks writes (or reads) until commit"
    kinds = frozenset({"lock"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        mode = op.mode or ""  # the parser fills in LOCK's default mode, ACCESS EXCLUSIVE
        if not is_blocking(mode) or not existing(ctx, op.table):
            return
        if ctx.in_transaction:
            message = (
                f"LOCK TABLE {qname(op.table)} IN {mode} MODE holds its lock until the transaction "
                f"ends; that lock blocks {BLOCKS[mode]}."
            )
        else:
            message = (
                f"LOCK TABLE {qname(op.table)} IN {mode} MODE runs outside a transaction block, "
                'where PostgreSQL rejects it ("ERROR: LOCK TABLE can only be used in '
                'transaction blocks"); inside one, its lock would block '
                f"{BLOCKS[mode]}."
            )
        help_ = "\n".join(
            [
                "Avoid explicit locks in migrations: make the data fix safe to run alongside "
                "traffic (batched, idempotent), and build indexes CONCURRENTLY. If the lock is "
                "truly needed, bound the wait and keep only fast statements after it:",
                paste(
                    ctx,
                    "SET lock_timeout = '5s';",
                    f"LOCK TABLE {ident(op.table)} IN {mode} MODE;",
                    "-- only quick statements here, then COMMIT at once",
                ),
            ]
        )
        yield self.finding(stmt, message, help_, op)
