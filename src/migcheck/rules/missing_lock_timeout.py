"""missing-lock-timeout: a blocking lock requested with no lock_timeout in effect.

A statement that needs a lock another session holds waits in the lock queue, and every
later request for a conflicting lock on that table waits behind it: an ``ALTER TABLE``
stuck behind a long ``SELECT`` stops all reads and writes of the table until it gets in.
``lock_timeout`` turns that wait into an error after a bound.

The rule follows the setting statement by statement, the way PostgreSQL scopes it
(``rules/_timeouts.py``). It reports once per migration, at the first statement that
waits unprotected: one ``SET lock_timeout`` at the top fixes them all.
"""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.locks import BLOCKS
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule
from migcheck.rules._timeouts import (
    Walk,
    article,
    blocking,
    effective,
    in_env_py,
    set_at_top,
    update,
    verb,
    walk_for,
)


class MissingLockTimeout(Rule):
    id = "missing-lock-timeout"
    category = "locking"
    severity = "warning"
    summary = "Blocking locks taken with no lock_timeout can stall every query on the table"
    # Every statement: SET, RESET, COMMIT and ROLLBACK change what applies next.
    kinds = frozenset()
    default_enabled = False

    def __init__(self) -> None:
        self._walk: Walk | None = None

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if ctx.options.lock_timeout_role_level:
            return
        walk = self._walk = walk_for(self._walk, ctx)
        if not walk.reported and effective(walk, ctx) is None:
            for each in stmt.ops:
                lock = blocking(each, ctx)
                if lock is not None:
                    walk.reported = True
                    yield self._finding(stmt, each, lock, walk, ctx)
                    break
        update(walk, stmt, ctx, "lock_timeout")

    def _finding(
        self,
        stmt: Statement,
        op: Op,
        blocking: tuple[str, str | None],
        walk: Walk,
        ctx: Context,
    ) -> Finding:
        mode, table = blocking
        target = f'"{table}"' if table else f'the table of index "{op.name}"'
        why = ""
        if walk.why_not is not None:
            why = f" (the lock_timeout at line {walk.why_not[0]} {walk.why_not[1]})"
        message = (
            f"{verb(stmt)} takes {article(mode)} {mode} lock on {target} with no lock_timeout set{why}: "
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
            f"Set a lock timeout at the top of {_top(ctx)}, so a statement that cannot get "
            "its lock fails after a moment instead of stalling the app:\n"
            + set_at_top(ctx, "lock_timeout", "2s")
            + f"\nand retry the deploy when it fails ({retry}). If "
            + (f"you {in_env_py('lock_timeout', '2s')}, or " if ctx.tool == "alembic" else "")
            + "the migration role already has one (ALTER ROLE ... SET lock_timeout), set "
            "lock-timeout-role-level = true under [tool.migcheck]."
        )
        return self.finding(stmt, message, help, op)


def _top(ctx: Context) -> str:
    return "upgrade()" if ctx.tool == "alembic" else "the migration"
