"""missing-statement-timeout (opt-in): a blocking lock taken with no statement_timeout.

``lock_timeout`` bounds the wait for a lock; ``statement_timeout`` bounds how long the
statement then runs while it holds it. Without one, a statement that turns out slower
than planned (a rewrite, a scan, an index build, a backfill on a bigger table than
expected) keeps blocking the table for as long as it takes. Off by default, like
ruff's non-default rules: a bound that suits every statement of a project is a team's
choice, and a concurrent build aborted by it leaves an INVALID index. Same trigger and
scoping as missing-lock-timeout (``rules/_timeouts.py``): once per migration, at the
first statement that takes a blocking lock on a table serving traffic.
"""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.locks import BLOCKS
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule
from migcheck.rules._opcalls import word
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


class MissingStatementTimeout(Rule):
    id = "missing-statement-timeout"
    category = "locking"
    severity = "warning"
    summary = "Blocking locks held with no statement_timeout: a slow statement blocks for as long as it runs"
    # Every statement: SET, RESET, COMMIT and ROLLBACK change what applies next.
    kinds = frozenset()
    default_enabled = False

    def __init__(self) -> None:
        self._walk: Walk | None = None

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        walk = self._walk = walk_for(self._walk, ctx)
        if not walk.reported and effective(walk, ctx) is None:
            for each in stmt.ops:
                lock = blocking(each, ctx)
                if lock is not None:
                    walk.reported = True
                    yield self._finding(stmt, each, lock, walk, ctx)
                    break
        update(walk, stmt, ctx, "statement_timeout")

    def _finding(
        self, stmt: Statement, op: Op, lock: tuple[str, str | None], walk: Walk, ctx: Context
    ) -> Finding:
        mode, table = lock
        target = f'"{table}"' if table else f'the table of index "{op.name}"'
        why = ""
        if walk.why_not is not None:
            why = f" (the statement_timeout at line {walk.why_not[0]} {walk.why_not[1]})"
        message = (
            f"{verb(stmt)} takes {article(mode)} {mode} lock on {target} with no "
            f"statement_timeout set{why}: nothing bounds how long it runs once it has the "
            f"lock, and for all that time the lock blocks {BLOCKS[mode]} on {target}."
        )
        help_ = (
            f"Bound how long a statement of the {word(ctx)} may run, above what it should "
            f"take, at the top of {'upgrade()' if ctx.tool == 'alembic' else 'the migration'}:\n"
            + set_at_top(ctx, "statement_timeout", "5min")
            + (
                f"\nIf you {in_env_py('statement_timeout', '5min')}, turn this rule off for "
                'the project: ignore = ["missing-statement-timeout"] under [tool.migcheck].'
                if ctx.tool == "alembic"
                else ""
            )
            + "\nA statement that runs longer is cancelled (and its transaction rolled back) "
            "instead of blocking the table. Before a CREATE INDEX CONCURRENTLY, which does "
            "not block, SET statement_timeout = 0: a cancelled concurrent build leaves an "
            "INVALID index behind."
        )
        return self.finding(stmt, message, help_, op)
