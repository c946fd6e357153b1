"""nested-transaction: COMMIT or ROLLBACK inside the transaction the runner wraps the
migration in.

The runner opened the transaction; the file ends it early. PostgreSQL ignores a BEGIN
there with "WARNING: there is already a transaction in progress", and the file's COMMIT
then commits the runner's transaction (verified in
tests/live/test_live_transaction_facts.py): what ran before it stays applied even when a
later statement fails, and the rest of the file runs in whatever the driver opens next
(a new transaction, or none). A ROLLBACK there undoes what the migration did so far.
Either way the runner is not told, and its own COMMIT at the end finds no transaction.
"""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule
from migcheck.rules._locking import outside_tx_advice


def _begin_line(ctx: Context) -> int | None:
    tx = ctx.transaction
    for s in tx.statements if tx is not None else ():
        first = s.first_op
        if first is not None and first.kind == "begin" and not s.embedded:
            return s.span.line
    return None


class NestedTransaction(Rule):
    id = "nested-transaction"
    category = "data"
    severity = "warning"
    summary = "COMMIT/ROLLBACK inside the runner's transaction ends it before the migration does"
    kinds = frozenset({"commit", "rollback"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        tx = ctx.transaction
        if stmt.embedded or tx is None or tx.kind != "runner":
            return
        begin = _begin_line(ctx)
        ignored = (
            f"The BEGIN at line {begin} opened nothing (PostgreSQL only warns: there is "
            "already a transaction in progress). "
            if begin is not None
            else ""
        )
        if op.kind == "commit":
            effect = (
                "commits it here: the statements above stay applied even if a later one "
                "fails, so a failed migration is left half applied, and the statements "
                "after it no longer run in the runner's transaction"
            )
        else:
            effect = (
                "rolls it back here: everything the migration did above this line is "
                "undone, while the runner carries on and records the migration as applied"
            )
        keyword = stmt.text.split()[0].upper().rstrip(";")
        advice = outside_tx_advice(ctx)
        yield self.finding(
            stmt,
            f"The runner already runs this migration in a transaction ({ctx.runner_note}), "
            f"and this {keyword} {effect}. {ignored}".rstrip(),
            "Remove BEGIN/COMMIT from the file and let the runner's transaction hold the "
            "migration. If a statement must run outside a transaction (CREATE INDEX "
            f"CONCURRENTLY), do not COMMIT by hand: {advice[0].lower()}{advice[1:]}",
            op,
        )
