"""The column swap: add ``x_new``, copy ``x`` into it, drop ``x`` (or rename it away),
rename ``x_new`` to ``x``, all in one migration. It is a type change in disguise, not a
dropped or renamed column: the app version still running keeps finding a column ``x``,
with another type. The statement that vacates ``x`` reports it once (drop-column on the
DROP, rename-column on the rename away), with what really happens; dropping the renamed
old column later in the swap is not reported again.

The registry skips modules whose name starts with ``_``, so nothing here is a rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from migcheck.context import Context
from migcheck.model import ColumnType, Op, Statement
from migcheck.quoting import qcol, qname, quote
from migcheck.rules._compat import type_sql
from migcheck.rules._opcalls import paste


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


def _renames_to(
    statements: list[Statement], table: str | None, name: str | None
) -> Statement | None:
    return next(
        (
            s
            for s in statements
            for o in s.ops
            if o.kind == "rename_column"
            and o.table == table
            and o.new_name == name
            and o.column != name
        ),
        None,
    )


def renamed_away_in_swap(op: Op, ctx: Context) -> bool:
    """Whether this DROP COLUMN removes the old column of a swap that an earlier rename of
    this migration started (``x`` renamed to ``x_old``, ``x_new`` to ``x``, ``x_old``
    dropped): the old app never named ``x_old``."""
    earlier = ctx.earlier_statements()
    away = next(
        (
            o
            for s in earlier
            for o in s.ops
            if o.kind == "rename_column" and o.table == op.table and o.new_name == op.column
        ),
        None,
    )
    return away is not None and _renames_to(ctx.statements, op.table, away.column) is not None


def column_swap(op: Op, ctx: Context) -> Swap | None:
    """The swap this DROP COLUMN (or RENAME COLUMN away) starts, if a later statement of the
    migration renames another column of the same table to the vacated name."""
    rename = _renames_to(ctx.later_statements(), op.table, op.column)
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
        # keeps every app write out until the swap commits. A lock from an earlier file
        # (position -1) is older than the copy too.
        guarded = locker is not None and _position(ctx, locker) < _position(ctx, copy)
    return Swap(source, column.type if column is not None else None, rename, copy, guarded)


def describe(op: Op, ctx: Context, swap: Swap) -> tuple[str, str]:
    """The one finding's message and help: the column the old app uses stays, changed."""
    c, src, x = qcol(op.table, op.column), quote(swap.source), quote(op.column)
    column = ctx.column(op.table, op.column)
    old = type_sql(ctx, column.type) if column is not None and column.type else None
    new = type_sql(ctx, swap.source_type) if swap.source_type is not None else None
    if old is not None and new is not None and old != new:
        change = f"now with type {new} instead of {old}"
    elif old is not None and old == new:
        change = f"now the former {src} (same type, {new})"
    else:
        change = f"now with the type of {src}"
    lost = ""
    if swap.copy is not None and not swap.guarded:
        lost = (
            f"; and the rows it inserts or updates between the copy (line "
            f"{swap.copy.span.line}) and the swap keep their value only in the old column, "
            "so it is lost"
        )
    lead = (
        f"Dropping column {c} and renaming {src} to {x}"
        if op.kind == "drop_column"
        else f"Renaming column {c} to {quote(op.new_name)} and {src} to {x}"
    )
    message = (
        f"{lead} (line {swap.rename.span.line}) swaps the column under the app version still "
        f"running: it keeps reading and writing {c}, {change}{lost}. The renames and the "
        "drop only change the catalog (each takes a brief ACCESS EXCLUSIVE lock, no rewrite)."
    )
    keep = {
        "prisma": f'With Prisma, map the field to the new column (`@map("{swap.source}")`) '
        "instead of renaming it.",
        "alembic": "Keep the new column's name and map it in the model instead of renaming it "
        f'(`{op.column} = Column("{swap.source}", ...)`).',
    }.get(ctx.tool, f"Keep the name {src} instead of renaming it.")
    help_text = (
        "Swap the column over three deploys (expand and contract):\n"
        f"1. Add {src} and keep it in sync with {x} (a trigger, or app writes to both), "
        "then backfill it in batches.\n"
        f"2. Ship app code that reads and writes {src} only. {keep}\n"
        "3. In a later deploy, once no old instance is left, drop the old column:\n"
        + paste(ctx, f"ALTER TABLE {qname(op.table)} DROP COLUMN {x};")
    )
    return message, help_text
