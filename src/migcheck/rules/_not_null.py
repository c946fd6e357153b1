"""What ``ALTER COLUMN … SET NOT NULL`` does, shared by set-not-null and set-not-null-scan.

One SET NOT NULL can break the app version still running (it writes NULL, or leaves a
column this migration added out of its INSERTs) and scan the table under ACCESS
EXCLUSIVE. The steps that fix the first (backfill, a CHECK added NOT VALID, VALIDATE,
then SET NOT NULL) also remove the scan, so it is one problem: set-not-null reports both
and set-not-null-scan only speaks when set-not-null does not (see ``breaks_writers``).
"""

from __future__ import annotations

from typing import Literal

from migcheck.context import Context
from migcheck.model import INDEX_KEY_SEP, ColumnDef, Op, Statement
from migcheck.rules._alembic import prior_column
from migcheck.rules._locking import existing
from migcheck.schema import ColumnInfo

Broken = Literal["existing", "added"]


def set_not_null_scans(op: Op, ctx: Context) -> bool:
    """Whether ``SET NOT NULL`` scans the table: always before 12, and on 12+ unless a
    validated ``CHECK (col IS NOT NULL)`` proves the column has no NULLs. A column
    already NOT NULL makes the command a no-op."""
    col = prior_column(ctx, op.table, op.column)
    if col is not None and col.not_null:
        return False
    return not (
        ctx.pg_version >= 12 and ctx.schema.has_validated_not_null_check(op.table, op.column)
    )


def scans_live_table(op: Op, ctx: Context) -> bool:
    """Whether this SET NOT NULL scans a table serving traffic. A column added by this
    deploy to an existing table still makes the scan read the whole table, so only a new
    table is exempt."""
    return existing(ctx, op.table) and set_not_null_scans(op, ctx)


def breaks_writers(op: Op, ctx: Context) -> Broken | None:
    """How this SET NOT NULL breaks the app version still running: ``"existing"`` when
    it may write NULL into a column it knows, ``"added"`` when the column is one this
    migration adds without a default (its INSERTs leave it out), None when neither."""
    if ctx.is_new_table(op.table):
        return None
    column = ctx.column(op.table, op.column)
    if ctx.is_new_column(op.table, op.column):
        # ADD COLUMN, backfill, SET NOT NULL in one migration of an existing table: the
        # old app's INSERTs leave the column out, exactly like ADD COLUMN ... NOT NULL
        # without a default (add-required-column). A column added by another migration
        # of the deploy is contract-in-same-deploy's.
        if column is not None and _added_here_without_default(column, ctx):
            return None if _replaces_required_column(op, ctx) else "added"
        return None
    if column is None:
        # The history never showed the table, so the model did not record the column
        # an earlier statement of this migration added: the same case as above.
        added = added_earlier(op, ctx)
        if added is not None:
            return None if _fills_itself(added) else "added"
    prior = prior_column(ctx, op.table, op.column)
    if prior is not None and prior.not_null:
        return None  # already NOT NULL (or so the Alembic revision says): Postgres does nothing
    # A validated CHECK (col IS NOT NULL) already rejects NULL writes and proves no row
    # holds one: this SET NOT NULL is the last step of the safe sequence.
    if ctx.schema.has_validated_not_null_check(op.table, op.column):
        return None
    return "existing"


def scan_reporter(stmt: Statement, op: Op, ctx: Context) -> Op | None:
    """The SET NOT NULL of ``stmt`` whose set-not-null finding names the one scan
    PostgreSQL makes for every SET NOT NULL of ``op``'s table in this statement: the
    first that both scans and breaks the running app. None when set-not-null is not run
    or reports none of them."""
    if not ctx.reports("set-not-null"):
        return None
    for o in stmt.ops:
        if (
            o.kind == "set_not_null"
            and o.table == op.table
            and scans_live_table(o, ctx)
            and breaks_writers(o, ctx) is not None
        ):
            return o
    return None


def reported_by_set_not_null(stmt: Statement, op: Op, ctx: Context) -> bool:
    """Whether set-not-null already reports the scan ``op`` is part of."""
    return scan_reporter(stmt, op, ctx) is not None


def _added_here_without_default(column: ColumnInfo, ctx: Context) -> bool:
    has_default = column.default is not None and not column.default.is_null
    return (
        ctx.created_in_this_migration(column.origin)
        and not has_default
        and column.generated is None
        and not column.not_null
    )


def _replaces_required_column(op: Op, ctx: Context) -> bool:
    """Whether this migration put the column in place of a NOT NULL column of the same
    name that it dropped or renamed away earlier (the swap: add ``x_new``, copy, drop
    ``x``, rename ``x_new`` to ``x``; or drop ``x`` and add it again). The running app
    always wrote ``x``, so NOT NULL breaks none of its INSERTs; what the swap does to it
    is drop-column's (or rename-column's) finding."""
    away = next(
        (
            o.new_name
            for s in ctx.earlier_statements()
            for o in s.ops
            if o.kind == "rename_column" and o.table == op.table and o.column == op.column
        ),
        None,
    )
    if away is not None:
        old = ctx.column(op.table, away)
        return old is not None and old.not_null
    gone = ctx.schema.dropped_columns.get((op.table or "", op.column or ""))
    return gone is not None and ctx.created_in_this_migration(gone[1]) and gone[0].not_null


def backfilled_at(op: Op, ctx: Context) -> int | None:
    """The line of the last UPDATE of this migration before ``op`` that leaves no NULL in
    its column (``sql/dml.py`` says which columns an UPDATE fills), if any."""
    for s in reversed(ctx.earlier_statements()):
        for o in s.ops:
            fills = o.options.get("fills")
            if (
                o.kind == "update"
                and o.table == op.table
                and isinstance(fills, str)
                and op.column in fills.split(INDEX_KEY_SEP)
            ):
                return s.span.line
    return None


def added_earlier(op: Op, ctx: Context) -> ColumnDef | None:
    """The ``ADD COLUMN`` of ``op``'s column by an earlier statement of this migration."""
    for earlier in ctx.earlier_statements():
        for o in earlier.ops:
            cd = o.column_def
            if o.kind == "add_column" and o.table == op.table and cd and cd.name == op.column:
                return cd
    return None


def _fills_itself(cd: ColumnDef) -> bool:
    """A column the old app's INSERTs can leave out: it has a default or is generated."""
    has_default = cd.default is not None and not cd.default.is_null
    return has_default or cd.generated is not None or cd.not_null
