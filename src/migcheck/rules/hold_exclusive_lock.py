"""hold-exclusive-lock: an ACCESS EXCLUSIVE lock on a live table stays held while a later
statement of the same transaction does slow work (scan, rewrite, index build, backfill).

Reported once per transaction, on the statement that took the lock (the one to commit
after), when the first such later statement runs. A later statement that itself needs
ACCESS EXCLUSIVE on the same table does not count: it would take that lock anyway.
"""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context, Transaction
from migcheck.locks import ACCESS_EXCLUSIVE, lock_for
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule
from migcheck.rules._locking import (
    indent,
    own_transaction_note,
    q,
    slow_work,
    takes_access_exclusive,
    why_in_transaction,
)

_Hit = tuple[str, Statement, str]


def _trigger(stmt: Statement, held: dict[str, Statement], ctx: Context) -> _Hit | None:
    """(locked table, statement that locked it, what ``stmt`` does) when ``stmt`` makes a
    held ACCESS EXCLUSIVE lock last longer, else None."""
    work = _work(stmt, ctx)
    if work is None:
        return None
    for table, locker in held.items():
        if not takes_access_exclusive(stmt, table):
            return table, locker, work
    return None


def _dropped(table: str, before: list[Statement]) -> bool:
    """Whether one of ``before`` dropped ``table``: from then on the DROP TABLE holds the
    lock to the end of the transaction by itself (and drop-table reports it), so the
    earlier statement's lock adds nothing."""
    return any(
        o.kind == "drop_table" and (o.table == table or table in o.names)
        for s in before
        for o in s.ops
    )


def _work(stmt: Statement, ctx: Context) -> str | None:
    # Only slow work counts. Waiting for another table's lock also prolongs the hold, but
    # every ALTER shares that hazard (it is what lock_timeout is for), and counting it
    # would flag every migration that adds nullable columns to two tables in one
    # transaction, which issue 3 requires to stay quiet.
    for op in stmt.ops:
        work = slow_work(op, stmt, ctx)
        if work is not None:
            return work
    return None


class HoldExclusiveLock(Rule):
    id = "hold-exclusive-lock"
    category = "locking"
    severity = "warning"
    summary = "An ACCESS EXCLUSIVE lock stays held while later statements do slow work"
    kinds = frozenset()  # every statement

    def __init__(self) -> None:
        # (transaction, statements judged so far, reported already): the engine calls this
        # rule on every statement in order, so remembering the current transaction keeps the
        # rule linear in its length. Results never depend on it: a transaction it does not
        # remember is re-judged from its first statement.
        self._memo: tuple[Transaction, int, bool] | None = None

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        tx = ctx.transaction
        if tx is None or not ctx.in_transaction:
            return
        reported = self._reported_before(tx, ctx)
        hit = None
        if not reported and tx.exclusive_locks:
            held = {
                t: s
                for t, s in tx.exclusive_locks.items()
                if ctx.is_existing_table(t) and not _dropped(t, tx.statements)
            }
            hit = _trigger(stmt, held, ctx) if held else None
        self._memo = (tx, len(tx.statements) + 1, reported or hit is not None)
        if hit is None:
            return
        table, locker, work = hit
        lock_op = next((o for o in locker.ops if lock_for(o) == (ACCESS_EXCLUSIVE, table)), None)
        message = (
            f"This statement takes an {ACCESS_EXCLUSIVE} lock on {q(table)}, and the "
            f"transaction ({why_in_transaction(ctx)}) keeps it while line {stmt.span.line} "
            f"{work}: every read and write on {q(table)} waits until the transaction "
            "commits."
        )
        explicit = tx.kind == "explicit"
        help_ = "\n".join(
            [
                "Release the lock as soon as the quick change is done: "
                + (
                    "COMMIT right after this statement and run the rest in a new transaction"
                    if explicit
                    else f"move line {stmt.span.line} (and what follows) into a separate migration"
                )
                + ". Also bound the wait for the lock, so the statement gives up instead of "
                "queueing traffic behind it:",
                indent("SET lock_timeout = '5s';"),
            ]
        ) + own_transaction_note(ctx)
        yield self.finding(locker, message, help_, lock_op)

    def _reported_before(self, tx: Transaction, ctx: Context) -> bool:
        """Whether an earlier statement of ``tx`` already triggered (once per transaction)."""
        start, reported = 0, False
        if self._memo is not None and self._memo[0] is tx:
            start, reported = self._memo[1], self._memo[2]
        if reported or start >= len(tx.statements):
            return reported
        held = {t: s for t, s in tx.exclusive_locks.items() if ctx.is_existing_table(t)}
        position = {id(s): i for i, s in enumerate(tx.statements)}
        for i in range(start, len(tx.statements)):
            before = {
                t: s
                for t, s in held.items()
                if position.get(id(s), i) < i and not _dropped(t, tx.statements[:i])
            }
            if before and _trigger(tx.statements[i], before, ctx) is not None:
                return True
        return False
