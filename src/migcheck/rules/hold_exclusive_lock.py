"""hold-exclusive-lock: a lock that blocks writes (ACCESS EXCLUSIVE, or a weaker one such as
the SHARE ROW EXCLUSIVE of a foreign key added NOT VALID) on a live table stays held while
a later statement of the same transaction does slow work (scan, rewrite, index build,
backfill).

Reported once per transaction, on the statement that took the lock (the one to commit
after), when the first such later statement runs. Not counted, because the lock would be
held anyway or another finding already tells it:

- a later statement that itself takes a lock at least as strong on the same table;
- a lock LOCK TABLE takes: lock-table reports it held to the end of the transaction;
- a backfill that unbatched-backfill reports as running under that very lock, and a
  VALIDATE of a constraint added NOT VALID in the transaction (validate-in-same-transaction):
  committing before the slow statement fixes both, so they are one problem.

When the locking statement is itself slow work that another rule reports (with the lock
and what it blocks), the message only adds what that finding cannot know: the lock
outlives the statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from migcheck.context import Context, Transaction
from migcheck.locks import BLOCKING_MODES, LOCK_MODES, lock_for
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qname
from migcheck.rules import Rule, slow_work_rules
from migcheck.rules._locking import (
    blocks,
    own_transaction_note,
    why_in_transaction,
)
from migcheck.rules._opcalls import paste

_FOREIGN_KEY_MODE = "SHARE ROW EXCLUSIVE"


@dataclass
class _Lock:
    mode: str
    locker: Statement
    op: Op
    referenced: bool  # taken on the table a foreign key references, not on op.table
    # The locking statement is slow work of its own that a running rule reports, with
    # the lock and what it blocks (judged with its own context, before it ran).
    told: bool


def _strength(mode: str) -> int:
    return LOCK_MODES.index(mode)


def _locks(op: Op, ctx: Context) -> Iterator[tuple[str, str, bool]]:
    """(mode, table, referenced) for each write-blocking lock ``op`` takes on a table that
    can be named (``DROP INDEX`` locks the index's table, when the history shows it).
    Adding a foreign key also takes SHARE ROW EXCLUSIVE on the referenced table (pg_locks
    shows it on both, NOT VALID or not: tests/live/test_live_locks.py)."""
    lock = lock_for(op)
    table = ctx.table_for(op)
    if lock is not None and table and lock[0] in BLOCKING_MODES:
        yield lock[0], table, False
    con = op.constraint
    ref = con.ref_table if con is not None and con.kind == "foreign_key" else None
    if op.kind == "add_constraint" and ref and ref != op.table:
        yield _FOREIGN_KEY_MODE, ref, True


def _work(
    stmt: Statement, ctx: Context, asked: dict[str, list[Rule]]
) -> tuple[Op, str, str] | None:
    """(op, rule id, what it does) for the first slow op of ``stmt``, or None."""
    # Only slow work counts. Waiting for another table's lock also prolongs the hold, but
    # every ALTER shares that hazard (it is what lock_timeout is for), and counting it
    # would flag every migration that adds nullable columns to two tables in one
    # transaction, which issue 3 requires to stay quiet.
    for op in stmt.ops:
        for rule in asked.get(op.kind, ()):
            work = rule.slow_work(op, stmt, ctx)
            if work is not None:
                return op, rule.id, work
    return None


def _told_elsewhere(table: str, held: _Lock, op: Op, rule_id: str, ctx: Context) -> bool:
    """Whether the finding of ``rule_id`` on the slow ``op`` already reports ``held``'s
    lock on ``table`` being kept through it (the one problem then gets one finding)."""
    if held.op.kind == "lock" and ctx.reports("lock-table"):
        return True  # LOCK TABLE's own finding says it holds the lock until commit
    if not ctx.reports(rule_id):
        return False
    if rule_id == "unbatched-backfill":
        # It names the strongest lock earlier DDL holds on the table it writes.
        return not held.referenced and table == (op.table or op.options.get("select_from"))
    if rule_id == "validate-in-same-transaction":
        return _validated_lock(table, held, op, ctx)
    return False


def _validated_lock(table: str, held: _Lock, op: Op, ctx: Context) -> bool:
    """Whether validate-in-same-transaction, reporting the ``VALIDATE`` ``op``, tells
    ``held``: a lock no stronger than the one the ``ADD CONSTRAINT … NOT VALID`` of this
    transaction took on the same table (both tables of a foreign key). A stronger one
    (an ``ADD COLUMN`` before it keeps ACCESS EXCLUSIVE) is more than it names."""
    tx = ctx.transaction
    statements = tx.statements if tx is not None else []
    added = next(
        (
            o
            for s in statements
            for o in s.ops
            if o.kind == "add_constraint"
            and o.table == op.table
            and o.name == op.name
            and o.constraint is not None
            and o.constraint.not_valid
        ),
        None,
    )
    if added is None:
        return False
    mode = next((m for m, t, _ in _locks(added, ctx) if t == table), None)
    return mode is not None and _strength(held.mode) <= _strength(mode)


def _retakes(stmt: Statement, table: str, mode: str, ctx: Context) -> bool:
    """Whether ``stmt`` itself takes a lock on ``table`` at least as strong as ``mode``:
    it would hold that much anyway."""
    return any(
        t == table and _strength(m) >= _strength(mode)
        for o in stmt.ops
        for m, t, _ in _locks(o, ctx)
    )


class _Scan:
    """One transaction, read statement by statement as the engine calls the rule: the
    strongest write-blocking lock held on each live table (not dropped since), and
    whether a statement already triggered the rule. Each statement is folded in once,
    so a transaction of n statements costs O(n) (a look back at every statement was
    cubic: 3,000 ALTERs on 3,000 tables took minutes). The engine calls the rule on
    every statement of a transaction, in order: a transaction never spans a migration
    that is not linted (each such migration is a deploy, and a run, of its own)."""

    def __init__(self, tx: Transaction | None) -> None:
        self.tx = tx
        self.reported = False
        self.held: dict[str, _Lock] = {}
        self.dropped: set[str] = set()

    def fold(self, stmt: Statement, ctx: Context, told: bool) -> None:
        """Take in the locks ``stmt`` holds from now on, and the tables it drops."""
        for op in stmt.ops:
            for mode, table, referenced in _locks(op, ctx):
                # A table this deploy creates serves no traffic, and stays new: never held.
                if table in self.dropped or ctx.is_new_table(table):
                    continue
                have = self.held.get(table)
                if have is None or _strength(mode) > _strength(have.mode):
                    self.held[table] = _Lock(mode, stmt, op, referenced, told)
            if op.kind == "drop_table":
                # From then on the DROP TABLE holds the lock to the end of the transaction
                # by itself (and drop-table reports it): an earlier lock adds nothing.
                for gone in (op.table, *op.names):
                    if gone:
                        self.dropped.add(gone)
                        self.held.pop(gone, None)

    def trigger(
        self, stmt: Statement, ctx: Context, slow: tuple[Op, str, str] | None
    ) -> tuple[str, _Lock, str] | None:
        """(table, held lock, what ``stmt`` does) when ``stmt`` is slow work that keeps a
        held lock longer than anything else reports, else None. The strongest such lock
        wins (the earliest among equals)."""
        if slow is None:
            return None
        op, rule_id, work = slow
        best: tuple[str, _Lock] | None = None
        for table, lock in self.held.items():
            if best is not None and _strength(lock.mode) <= _strength(best[1].mode):
                continue
            if _retakes(stmt, table, lock.mode, ctx) or _told_elsewhere(
                table, lock, op, rule_id, ctx
            ):
                continue
            best = table, lock
        return None if best is None else (best[0], best[1], work)


class HoldExclusiveLock(Rule):
    id = "hold-exclusive-lock"
    category = "locking"
    severity = "warning"
    summary = "A lock that blocks writes stays held while later statements do slow work"
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
        if self._asked is None:
            self._asked = slow_work_rules()
        tx = ctx.transaction
        scan = self._scan
        if scan is None or scan.tx is not tx:
            # Outside a transaction block each statement is a transaction of its own, so
            # nothing is held when the next one runs.
            scan = self._scan = _Scan(tx)
        if scan.reported:
            return
        slow = _work(stmt, ctx, self._asked)
        hit = scan.trigger(stmt, ctx, slow)
        scan.fold(stmt, ctx, told=slow is not None and ctx.reports(slow[1]))
        if hit is None:
            return
        scan.reported = True
        yield self._finding(hit, stmt, ctx)

    def _finding(self, hit: tuple[str, _Lock, str], stmt: Statement, ctx: Context) -> Finding:
        table, lock, work = hit
        t, line = qname(table), stmt.span.line
        why = why_in_transaction(ctx)
        if lock.told:
            # Its own finding already says which lock and what it blocks: only add that
            # the transaction keeps it.
            message = (
                f"The transaction ({why}) keeps the lock this statement takes on {t} until it "
                f"commits, so the lock also lasts while line {line} {work}."
            )
        else:
            article = "an" if lock.mode[0] in "AEIOU" else "a"
            whose = " (the table its foreign key references)" if lock.referenced else ""
            message = (
                f"This statement takes {article} {lock.mode} lock on {t}{whose}, and the "
                f"transaction ({why}) keeps it while line {line} {work}: until the "
                f"transaction commits, it blocks {blocks(lock.mode)}."
            )
        explicit = ctx.transaction is not None and ctx.transaction.kind == "explicit"
        help_ = "Release the lock as soon as this statement is done: " + (
            "COMMIT right after it and run the rest in a new transaction."
            if explicit
            else f"move line {line} (and what follows) into a separate migration."
        )
        if "lock_timeout" not in ctx.settings and not ctx.reports("missing-lock-timeout"):
            help_ += (
                " Also bound the wait for the lock, so the statement gives up instead of "
                "queueing traffic behind it:\n" + paste(ctx, "SET lock_timeout = '5s';")
            )
        return self.finding(lock.locker, message, help_ + own_transaction_note(ctx), lock.op)
