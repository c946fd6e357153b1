"""hold-exclusive-lock: an ACCESS EXCLUSIVE lock on a live table stays held while a later
statement of the same transaction does slow work (scan, rewrite, index build, backfill).

Reported once per transaction, on the statement that took the lock (the one to commit
after), when the first such later statement runs. A later statement that itself needs
ACCESS EXCLUSIVE on the same table does not count: it would take that lock anyway.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from itertools import islice

from migcheck.context import Context, Transaction
from migcheck.locks import ACCESS_EXCLUSIVE, lock_for
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qname
from migcheck.rules import Rule, slow_work_rules
from migcheck.rules._locking import (
    indent,
    own_transaction_note,
    why_in_transaction,
)

_Hit = tuple[str, Statement, str]


def _takes_access_exclusive(stmt: Statement, table: str) -> bool:
    return any(lock_for(o) == (ACCESS_EXCLUSIVE, table) for o in stmt.ops)


def _trigger(
    stmt: Statement, held: dict[str, Statement], ctx: Context, asked: dict[str, list[Rule]]
) -> _Hit | None:
    """(locked table, statement that locked it, what ``stmt`` does) when ``stmt`` makes a
    held ACCESS EXCLUSIVE lock last longer, else None. ``held`` may name tables created in
    this deploy: they are passed over here, where they are looked at anyway."""
    if not held:
        return None
    work = _work(stmt, ctx, asked)
    if work is None:
        return None
    for table, locker in held.items():
        if ctx.is_existing_table(table) and not _takes_access_exclusive(stmt, table):
            return table, locker, work
    return None


def _dropped_tables(stmt: Statement) -> Iterator[str]:
    """Tables ``stmt`` drops: from then on the DROP TABLE holds the lock to the end of the
    transaction by itself (and drop-table reports it), so an earlier statement's lock on
    them adds nothing."""
    for o in stmt.ops:
        if o.kind == "drop_table":
            if o.table:
                yield o.table
            yield from o.names


def _work(stmt: Statement, ctx: Context, asked: dict[str, list[Rule]]) -> str | None:
    # Only slow work counts. Waiting for another table's lock also prolongs the hold, but
    # every ALTER shares that hazard (it is what lock_timeout is for), and counting it
    # would flag every migration that adds nullable columns to two tables in one
    # transaction, which issue 3 requires to stay quiet.
    for op in stmt.ops:
        for rule in asked.get(op.kind, ()):
            work = rule.slow_work(op, stmt, ctx)
            if work is not None:
                return work
    return None


class _Scan:
    """One transaction, read statement by statement: the locks held before the next one
    (not dropped since), and whether an earlier statement already triggered the rule.

    Each statement's locks and drops are folded in once, so a transaction of n
    statements costs O(n) here rather than a look back over every earlier statement
    and every held lock at each one (cubic: 3,000 ALTERs on 3,000 tables took minutes).
    """

    def __init__(self, tx: Transaction, asked: dict[str, list[Rule]]) -> None:
        self.tx = tx
        self.asked = asked  # op kind → the rules that say what slow work it does
        self.judged = 0  # statements of tx the rule has judged (when their turn came)
        self.read = 0  # statements of tx whose drops (and locks) are folded in
        self.reported = False
        self.held: dict[str, Statement] = {}  # tx.exclusive_locks minus dropped tables
        self._dropped: set[str] = set()
        self._locks_seen = 0  # entries of tx.exclusive_locks seen
        self._pending: deque[tuple[str, Statement]] = deque()  # locks not yet in held
        self._position: dict[int, int] = {}  # id(statement) → its index in tx

    def catch_up(self, ctx: Context) -> None:
        """Fold in the statements added to the transaction since the last call. One that
        the rule never judged (it ran while the rule was not called) is judged now, with
        the locks taken before it, as its own turn would have."""
        tx = self.tx
        for i in range(len(self._position), len(tx.statements)):
            self._position[id(tx.statements[i])] = i
        # tx.exclusive_locks only grows, in statement order: its new entries are its last.
        new = len(tx.exclusive_locks) - self._locks_seen
        if new > 0:
            self._pending.extend(reversed(list(islice(reversed(tx.exclusive_locks.items()), new))))
            self._locks_seen = len(tx.exclusive_locks)
        for i in range(self.read, len(tx.statements)):
            stmt = tx.statements[i]
            self._take_locks(before=i)
            if i >= self.judged and not self.reported:
                self.reported = _trigger(stmt, self.held, ctx, self.asked) is not None
                self.judged = i + 1
            for table in _dropped_tables(stmt):
                self._dropped.add(table)
                self.held.pop(table, None)
            self.read = i + 1
        self._take_locks(before=None)

    def _take_locks(self, before: int | None) -> None:
        """Move the pending locks taken before statement ``before`` (all when None) into
        ``held``."""
        pending = self._pending
        while pending:
            table, locker = pending[0]
            if before is not None and self._position.get(id(locker), before) >= before:
                return
            pending.popleft()
            if table not in self._dropped:
                self.held.setdefault(table, locker)


class HoldExclusiveLock(Rule):
    id = "hold-exclusive-lock"
    category = "locking"
    severity = "warning"
    summary = "An ACCESS EXCLUSIVE lock stays held while later statements do slow work"
    kinds = frozenset()  # every statement

    def __init__(self) -> None:
        # The engine calls this rule on every statement in order: remembering the current
        # transaction keeps the rule linear in its length. Results never depend on it: a
        # transaction it does not remember is read again from its first statement.
        self._scan: _Scan | None = None
        # The rules that know slow work, by op kind: looked up on first use, since the
        # registry is still being built when this rule is made.
        self._asked: dict[str, list[Rule]] | None = None

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        tx = ctx.transaction
        if tx is None or not ctx.in_transaction:
            return
        if self._asked is None:
            self._asked = slow_work_rules()
        scan = self._scan
        if scan is None or scan.tx is not tx:
            scan = self._scan = _Scan(tx, self._asked)
        scan.catch_up(ctx)
        hit = None
        if not scan.reported:
            hit = _trigger(stmt, scan.held, ctx, scan.asked)
        scan.judged = len(tx.statements) + 1
        scan.reported = scan.reported or hit is not None
        if hit is None:
            return
        table, locker, work = hit
        lock_op = next((o for o in locker.ops if lock_for(o) == (ACCESS_EXCLUSIVE, table)), None)
        message = (
            f"This statement takes an {ACCESS_EXCLUSIVE} lock on {qname(table)}, and the "
            f"transaction ({why_in_transaction(ctx)}) keeps it while line {stmt.span.line} "
            f"{work}: every read and write on {qname(table)} waits until the transaction "
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
