"""type-change-rewrite: ALTER COLUMN ... TYPE that rewrites the table and its indexes under
ACCESS EXCLUSIVE (binary-coercible changes such as varchar(50) → varchar(200) do not)."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck import pgcatalog
from migcheck.context import Context
from migcheck.locks import ACCESS_EXCLUSIVE
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qcol, qname, quote
from migcheck.rules import Rule
from migcheck.rules._alembic import prior_column
from migcheck.rules._compat import type_sql
from migcheck.rules._expand import expand_contract
from migcheck.rules._locking import blocks, existing
from migcheck.rules._readback import analyse


def type_change(op: Op, ctx: Context) -> pgcatalog.TypeChange:
    col = prior_column(ctx, op.table, op.column)
    return analyse(op, ctx, col.type if col is not None else None)


def _slow(op: Op, ctx: Context) -> pgcatalog.TypeChange | None:
    """The type change, when it rewrites a table serving traffic or rebuilds its indexes
    (or may: ``rewrite`` None), else None."""
    if op.type is None or not existing(ctx, op.table):
        return None
    tc = type_change(op, ctx)
    if tc.rewrite is False and not tc.rebuilds_indexes:
        return None
    return tc


class TypeChangeRewrite(Rule):
    id = "type-change-rewrite"
    category = "locking"
    severity = "warning"
    summary = "ALTER COLUMN TYPE that rewrites the table and its indexes under ACCESS EXCLUSIVE"
    kinds = frozenset({"alter_column_type"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        t, c = op.table, op.column
        tc = _slow(op, ctx)
        old = prior_column(ctx, t, c)
        # An unknown old type is change-column-type's one warning: it says what could
        # not be known, rewrite included.
        if tc is None or op.type is None or old is None or old.type is None:
            return
        # One ALTER TABLE rewrites its table once, whatever number of columns it retypes
        # (PostgreSQL combines them into a single pass), so the statement gets one finding,
        # on its first rewriting column, naming the others.
        rewriting = [
            o
            for o in stmt.ops
            if o.kind == "alter_column_type" and o.table == t and _slow(o, ctx) is not None
        ]
        if rewriting and rewriting[0] is not op:
            return
        others = [o.column for o in rewriting[1:] if o.column]
        new = pgcatalog.display_type(op.type)
        lock = f"an {ACCESS_EXCLUSIVE} lock on {qname(t)}, which blocks {blocks(ACCESS_EXCLUSIVE)}"
        if tc.rewrite:
            message = (
                f"Changing {qcol(t, c)} from {pgcatalog.display_type(old.type)} to {new} "
                f"rewrites {qname(t)} and all its indexes while holding {lock} until it "
                f"finishes: {tc.reason}."
            )
        else:  # no rewrite, so ``_slow`` let it through for the index rebuild
            message = (
                f"Changing {qcol(t, c)} to {new} does not rewrite the table but rebuilds every "
                f"index on {qname(c)} while holding {lock}: {tc.reason}."
            )
        if others:
            message += f" The same rewrite also changes {', '.join(qcol(t, o) for o in others)}."
        # When change-column-type also fires here, its steps answer this finding and the
        # report gives them once (``help_covers``); another finding on the statement (an
        # enum swap's remove-enum-value) leaves these steps as the way to avoid the rewrite.
        yield self.finding(stmt, message, _help(op, ctx, type_sql(ctx, op.type)), op)

    def slow_work(self, op: Op, stmt: Statement, ctx: Context) -> str | None:
        if _slow(op, ctx) is None:
            return None
        return f"rewrites {qname(op.table)} to change the type of {quote(op.column)}"


def _help(op: Op, ctx: Context, new: str) -> str:
    short = (
        "op.execute(\"SET lock_timeout = '5s'\") before the op call"
        if ctx.tool == "alembic"
        else "SET lock_timeout = '5s'"
    )
    lock = (
        "If the table is small, the lock may be acceptable: run the ALTER with a short "
        f"lock_timeout ({short}) so it gives up instead of queueing traffic."
    )
    using = op.using.text.strip() if op.using is not None else f"{quote(op.column)}::{new}"
    return (
        "Change the type without rewriting the live table (expand, migrate, contract):\n"
        + expand_contract(ctx, op.table, op.column, f"{op.column}_new", op.type, using=using)
        + "\n"
        + lock
    )
