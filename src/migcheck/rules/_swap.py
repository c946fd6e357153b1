"""The column swap: add ``x_new``, copy ``x`` into it, drop ``x``, rename ``x_new`` to
``x``, all in one migration. It is a type change in disguise, not a dropped column: the
app version still running keeps finding a column ``x``, with another type. drop-column
reports it once, on the DROP, with what really happens.

The registry skips modules whose name starts with ``_``, so nothing here is a rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from migcheck.context import Context
from migcheck.model import ColumnType, Op, Statement


@dataclass(frozen=True)
class Swap:
    """The later rename that puts ``source`` in place of the dropped column, the UPDATE
    that copied into it (None if none ran before the DROP in this migration), and whether
    the table was ACCESS EXCLUSIVE-locked by this transaction before that copy (so the
    running app could write nothing between the copy and the swap)."""

    source: str
    source_type: ColumnType | None
    rename: Statement
    copy: Statement | None
    guarded: bool


def _position(ctx: Context, stmt: Statement) -> int:
    return next((i for i, s in enumerate(ctx.statements) if s is stmt), -1)


def column_swap(op: Op, ctx: Context) -> Swap | None:
    """The swap this DROP COLUMN starts, if a later statement of the migration renames a
    column of the same table to the dropped column's name."""
    rename = next(
        (
            s
            for s in ctx.later_statements()
            for o in s.ops
            if o.kind == "rename_column" and o.table == op.table and o.new_name == op.column
        ),
        None,
    )
    if rename is None:
        return None
    source = next(o.column for o in rename.ops if o.kind == "rename_column") or ""
    column = ctx.column(op.table, source)
    copy = next(
        (
            s
            for s in reversed(ctx.earlier_statements())
            if any(o.kind == "update" and o.table == op.table for o in s.ops)
        ),
        None,
    )
    guarded = False
    tx = ctx.transaction
    if copy is not None and tx is not None and ctx.in_transaction:
        locker = tx.exclusive_locks.get(op.table or "")
        # A lock taken before the copy in this transaction (ADD COLUMN x_new takes one)
        # keeps every app write out until the swap commits.
        guarded = (
            locker is not None
            and any(s is copy for s in tx.statements)
            and _position(ctx, locker) < _position(ctx, copy)
        )
    return Swap(source, column.type if column is not None else None, rename, copy, guarded)
