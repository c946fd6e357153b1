"""validate-in-same-transaction: VALIDATE CONSTRAINT in the transaction that added the
constraint NOT VALID, so the ADD's lock is still held during the validation scan."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.locks import ACCESS_EXCLUSIVE, SHARE_ROW_EXCLUSIVE
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qname
from migcheck.rules import Rule
from migcheck.rules._locking import (
    blocks,
    existing,
    own_transaction_note,
)
from migcheck.rules._opcalls import paste, word


def _added_at(op: Op, ctx: Context) -> tuple[Statement | None, str | None]:
    """The statement of this transaction that added the constraint NOT VALID, and the
    constraint kind."""
    tx = ctx.transaction
    if tx is None:
        return None, None
    for s in tx.statements:
        for o in s.ops:
            if (
                o.kind == "add_constraint"
                and o.table == op.table
                and o.name == op.name
                and o.constraint is not None
            ):
                return s, o.constraint.kind
    return None, None


class ValidateInSameTransaction(Rule):
    id = "validate-in-same-transaction"
    category = "locking"
    severity = "warning"
    summary = "VALIDATE CONSTRAINT in the same transaction as its NOT VALID add blocks traffic"
    kinds = frozenset({"validate_constraint"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        tx = ctx.transaction
        if tx is None or not ctx.in_transaction or not existing(ctx, op.table):
            return
        if (op.table or "", op.name or "") not in tx.not_valid_added:
            return
        added, kind = _added_at(op, ctx)
        mode = SHARE_ROW_EXCLUSIVE if kind == "foreign_key" else ACCESS_EXCLUSIVE
        where = f" at line {added.span.line}" if added is not None else ""
        why = (
            f" ({ctx.runner_note})" if tx.kind in ("runner", "implicit") and ctx.runner_note else ""
        )
        message = (
            f"VALIDATE CONSTRAINT {qname(op.name)} runs in the same transaction{why} that added it "
            f"NOT VALID{where}, so the ADD CONSTRAINT's {mode} lock on {qname(op.table)} is still "
            f"held during the validation scan and blocks {blocks(mode)}: NOT VALID saves "
            "nothing."
        )
        help_ = "\n".join(
            [
                "Commit between the two steps: keep the NOT VALID add in this "
                f"{word(ctx)} and move the validation to the next one, where it takes only "
                "SHARE UPDATE EXCLUSIVE (reads and writes continue):",
                paste(ctx, f"ALTER TABLE {ident(op.table)} VALIDATE CONSTRAINT {ident(op.name)};"),
            ]
        ) + own_transaction_note(ctx)
        yield self.finding(stmt, message, help_, op)

    def slow_work(self, op: Op, stmt: Statement, ctx: Context) -> str | None:
        # Any VALIDATE scans the table; this rule reports only the ones whose ADD's lock
        # is still held, but hold-exclusive-lock cares about every scan.
        if not existing(ctx, op.table):
            return None
        return f"validates {qname(op.name)} by scanning {qname(op.table)}"
