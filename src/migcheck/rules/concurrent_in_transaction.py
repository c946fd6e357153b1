"""concurrent-in-transaction: a CONCURRENTLY command that PostgreSQL refuses to run in a
transaction block, inside one (explicit BEGIN, the runner's, or a multi-statement file's
implicit transaction)."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule
from migcheck.rules._locking import outside_tx_advice, why_in_transaction

# The command name PostgreSQL puts in its error, by op kind. REFRESH MATERIALIZED VIEW
# CONCURRENTLY is absent on purpose: ExecRefreshMatView never calls
# PreventInTransactionBlock, so it runs fine inside a transaction.
_COMMAND = {
    "create_index": "CREATE INDEX CONCURRENTLY",
    "drop_index": "DROP INDEX CONCURRENTLY",
    "reindex": "REINDEX CONCURRENTLY",
    "detach_partition": "ALTER TABLE … DETACH PARTITION … CONCURRENTLY",
}
_ERROR = {
    "detach_partition": "ALTER TABLE ... DETACH CONCURRENTLY",
}


class ConcurrentInTransaction(Rule):
    id = "concurrent-in-transaction"
    category = "locking"
    severity = "error"
    summary = "CONCURRENTLY cannot run inside a transaction block: the migration fails"
    kinds = frozenset(_COMMAND)

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        # Applies to new tables too: PostgreSQL refuses the command whatever the table.
        if not op.concurrently or not ctx.in_transaction:
            return
        command = _COMMAND[op.kind]
        error = _ERROR.get(op.kind, command)
        message = (
            f"{command} cannot run inside a transaction block, and this one runs inside one "
            f'({why_in_transaction(ctx)}): PostgreSQL rejects it with "ERROR: {error} cannot '
            'run inside a transaction block" and the migration fails.'
        )
        yield self.finding(stmt, message, outside_tx_advice(ctx), op)
