"""missing-lock-timeout: a blocking lock requested with no lock_timeout in effect.

A statement that needs a lock another session holds waits in the lock queue, and every
later request for a conflicting lock on that table waits behind it: an ``ALTER TABLE``
stuck behind a long ``SELECT`` stops all reads and writes of the table until it gets in.
``lock_timeout`` turns that wait into an error after a bound.

The rule follows the migration statement by statement, the way PostgreSQL scopes the
setting: ``SET``/``SET SESSION`` lasts for the session (undone by ``ROLLBACK`` of the
transaction that made it), ``SET LOCAL`` until the end of its transaction and is ignored
outside a transaction block (PostgreSQL only warns), ``RESET``, ``SET ... TO DEFAULT`` and
a zero value switch it off, and ``SELECT set_config('lock_timeout', v, is_local)`` counts.
It reports once per migration, at the first statement that waits unprotected: one
``SET lock_timeout`` at the top fixes them all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from migcheck.context import Context
from migcheck.locks import BLOCKING_MODES, BLOCKS, SHARE_ROW_EXCLUSIVE, lock_for
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule

_ZERO = re.compile(r"^\s*0+(\.0*)?\s*(us|ms|s|min|h|d)?\s*$", re.I)
_SET_CONFIG = re.compile(
    r"set_config\s*\(\s*'lock_timeout'\s*,\s*'([^']*)'\s*,\s*(true|false)\s*\)", re.I
)
ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"


@dataclass
class _Walk:
    """lock_timeout as the statements of one migration have left it so far."""

    # The engine's settings dict of the migration being walked: a new one per migration
    # and per run, so it tells when a new walk starts.
    key: dict[str, str]
    session: str | None = None
    local: str | None = None
    local_tx: int | None = None
    local_line: int = 0
    # Why no timeout applies, for the message: (line, explanation).
    why_not: tuple[int, str] | None = None
    # Session value before the first session SET of each open transaction (for ROLLBACK).
    before_tx: dict[int, str | None] = field(default_factory=dict)
    reported: bool = False


class MissingLockTimeout(Rule):
    id = "missing-lock-timeout"
    category = "locking"
    severity = "warning"
    summary = "Blocking locks taken with no lock_timeout can stall every query on the table"
    # Every statement: SET, RESET, COMMIT and ROLLBACK change what applies next.
    kinds = frozenset()
    default_enabled = False

    def __init__(self) -> None:
        self._walk: _Walk | None = None

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if ctx.options.lock_timeout_role_level:
            return
        walk = self._walk
        if walk is None or walk.key is not ctx.settings:
            walk = self._walk = _Walk(ctx.settings)
        tx = ctx.transaction.id if ctx.transaction is not None and ctx.in_transaction else None
        if walk.local_tx is not None and walk.local_tx != tx:
            walk.why_not = (walk.local_line, "was SET LOCAL, which ended with its transaction")
            walk.local = walk.local_tx = None
        effective = walk.local if walk.local_tx is not None else walk.session
        if not walk.reported and effective is None:
            for each in stmt.ops:
                blocking = _blocking(each, ctx)
                if blocking is not None:
                    walk.reported = True
                    yield self._finding(stmt, each, blocking, walk, ctx)
                    break
        _update(walk, stmt, tx)

    def _finding(
        self,
        stmt: Statement,
        op: Op,
        blocking: tuple[str, str | None],
        walk: _Walk,
        ctx: Context,
    ) -> Finding:
        mode, table = blocking
        target = f'"{table}"' if table else f'the table of index "{op.name}"'
        why = ""
        if walk.why_not is not None:
            why = f" (the lock_timeout at line {walk.why_not[0]} {walk.why_not[1]})"
        message = (
            f"{_verb(stmt)} takes {_article(mode)} {mode} lock on {target} with no lock_timeout set{why}: "
            f"if another transaction holds a conflicting lock (a long query, a session idle "
            f"in transaction), this statement waits for it, and every query needing {target} "
            f"queues behind it meanwhile (the lock blocks {BLOCKS[mode]}), stalling the app."
        )
        if ctx.in_transaction:
            retry = "the failed attempt is rolled back whole, so simply run it again"
        else:
            retry = (
                "statements before the failing one stay applied, so make the file safe to "
                "re-run with IF NOT EXISTS / IF EXISTS"
            )
        help = (
            "Set a lock timeout at the top of the migration, so a statement that cannot get "
            "its lock fails after a moment instead of stalling the app:\n"
            "    SET lock_timeout = '2s';\n"
            f"and retry the deploy when it fails ({retry}). If the migration role already "
            "has one (ALTER ROLE ... SET lock_timeout), set lock-timeout-role-level = true "
            "under [tool.migcheck]."
        )
        return self.finding(stmt, message, help, op)


def _blocking(op: Op, ctx: Context) -> tuple[str, str | None] | None:
    """(mode, table) of the first blocking lock ``op`` waits for on an existing table."""
    if op.kind == "lock" and op.options.get("nowait"):
        return None  # NOWAIT fails at once instead of queueing
    if op.kind == "create_table" and op.options.get("if_not_exists") and ctx.table(op.table):
        return None  # an existing table: the statement does nothing
    wanted: list[tuple[str, str | None]] = []
    lock = lock_for(op)
    if lock is not None and lock[0] in BLOCKING_MODES:
        wanted.append((lock[0], lock[1] or ctx.table_for(op)))
    # A foreign key also takes SHARE ROW EXCLUSIVE on the table it references.
    cols = list(op.columns) + ([op.column_def] if op.column_def is not None else [])
    cons = [*op.constraints, *(c for col in cols for c in col.constraints)]
    if op.constraint is not None:
        cons.append(op.constraint)
    wanted += [(SHARE_ROW_EXCLUSIVE, c.ref_table) for c in cons if c.kind == "foreign_key"]
    # CREATE TABLE ... PARTITION OF takes ACCESS EXCLUSIVE on the parent.
    parent = op.options.get("partition_of") if op.kind == "create_table" else None
    if isinstance(parent, str):
        wanted.append((ACCESS_EXCLUSIVE, parent))
    held = ctx.transaction.exclusive_locks if ctx.transaction is not None else {}
    for mode, table in wanted:
        if table is None:
            # DROP INDEX of an index the history never showed: its table is unknown, and
            # unknown tables count as existing.
            if op.kind in ("drop_index", "reindex") and op.name:
                return mode, None
            continue
        if not ctx.is_existing_table(table):
            continue
        if ctx.in_transaction and table in held:
            continue  # the transaction already holds ACCESS EXCLUSIVE: no wait
        return mode, table
    return None


def _article(word: str) -> str:
    return "an" if word[:1] in "AEIOU" else "a"


def _value(raw: str) -> str | None:
    """The lock_timeout a SET leaves, or None when it leaves none (0 or DEFAULT)."""
    v = raw.strip().strip("'").strip()
    if not v or v.upper() == "DEFAULT" or _ZERO.match(v):
        return None
    return v


def _update(walk: _Walk, stmt: Statement, tx: int | None) -> None:
    line = stmt.span.line
    for op in stmt.ops:
        if op.kind == "set" and op.name == "lock_timeout" and op.values:
            _assign(
                walk, _value(str(op.values[0])), op.mode == "local", tx, line, str(op.values[0])
            )
        elif op.kind == "reset" and op.name in ("lock_timeout", "all"):
            _assign(walk, None, False, tx, line, "RESET")
        elif op.kind == "select":
            for m in _SET_CONFIG.finditer(stmt.text):
                _assign(
                    walk, _value(m.group(1)), m.group(2).lower() == "true", tx, line, m.group(1)
                )
        elif op.kind == "rollback" and tx is not None and tx in walk.before_tx:
            walk.session = walk.before_tx.pop(tx)
        elif op.kind == "commit" and tx is not None:
            walk.before_tx.pop(tx, None)


def _assign(
    walk: _Walk, value: str | None, local: bool, tx: int | None, line: int, raw: str
) -> None:
    if local:
        if tx is None:
            walk.why_not = (
                line,
                "was SET LOCAL outside a transaction block, which PostgreSQL ignores with "
                "a warning",
            )
            return
        walk.local, walk.local_tx, walk.local_line = value, tx, line
    else:
        if tx is not None:
            walk.before_tx.setdefault(tx, walk.session)
        walk.session = value
        # A session SET also overrides a SET LOCAL of the same transaction.
        walk.local = walk.local_tx = None
    if value is None:
        walk.why_not = (line, f"is set to {raw.strip()}, which turns it off")
    else:
        walk.why_not = None


_VERB_WORDS = frozenset(
    {
        "ALTER", "TABLE", "CREATE", "UNIQUE", "INDEX", "DROP", "TRUNCATE", "LOCK", "VACUUM",
        "FULL", "REINDEX", "CLUSTER", "REFRESH", "MATERIALIZED", "VIEW", "TRIGGER", "FOREIGN",
        "ONLY", "OR", "REPLACE", "CONSTRAINT",
    }
)  # fmt: skip


def _verb(stmt: Statement) -> str:
    """``ALTER TABLE``, ``CREATE UNIQUE INDEX``...: the statement's leading keywords."""
    words: list[str] = []
    for w in stmt.text.split()[:4]:
        if w.upper() not in _VERB_WORDS:
            break
        words.append(w.upper())
    return " ".join(words) or "This statement"
