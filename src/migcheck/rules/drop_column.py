"""drop-column: dropping a column the running app still reads or writes.

This module also holds the small helpers the compatibility rules share (quoting names
the way a user would paste them, and reading the other statements of the migration
being judged), so that every rule module stays a single ``Rule`` subclass.
"""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import ColumnType, Finding, Op, Statement, name_parts
from migcheck.rules import Rule

# -- helpers shared by the compatibility rules ----------------------------------------------


def quote(part: str | None) -> str:
    """One identifier as SQL: ``"User"``."""
    return '"' + (part or "").replace('"', '""') + '"'


def qname(name: str | None) -> str:
    """A folded relation or type name as SQL: ``billing.Invoice`` → ``"billing"."Invoice"``.

    Names in ops are already folded (unquoted lower-cased, quoted kept), so quoting every
    part reproduces exactly the object Postgres resolved.
    """
    return ".".join(quote(part) for part in name_parts(name or ""))


def qcol(table: str | None, column: str | None) -> str:
    """``"User"."email"``: how messages name a column."""
    return f"{qname(table)}.{quote(column)}"


def type_sql(ctx: Context, ct: ColumnType | None) -> str:
    """A column type as the user would write it: ``varchar(255)``, ``"Plan"``."""
    from migcheck import pgcatalog

    if ct is None:
        return "<type>"
    shown = pgcatalog.display_type(ct)
    base = ct.name
    if base in ctx.schema.types or base in ctx.schema.enums or base != base.lower():
        # A user-defined type: quote it so the help pastes as written.
        return qname(base) + "[]" * ct.array
    return shown


def is_prisma(ctx: Context) -> bool:
    return ctx.migration.tool == "prisma" or ctx.history.tool == "prisma"


def migration_statements(ctx: Context) -> list[Statement]:
    """Every statement of the migration being judged, in file order."""
    return ctx.statements


def _position(statements: list[Statement], stmt: Statement) -> int:
    """Where ``stmt`` sits in ``statements`` (statement indexes are file ordinals)."""
    i = stmt.index
    if 0 <= i < len(statements) and statements[i].index == i:
        return i
    return next((k for k, s in enumerate(statements) if s.index >= i), len(statements))


def ops_before(ctx: Context, stmt: Statement) -> Iterator[Op]:
    """Ops of the statements of this migration that run before ``stmt``, in order."""
    statements = migration_statements(ctx)
    for k in range(_position(statements, stmt)):
        yield from statements[k].ops


def ops_after(ctx: Context, stmt: Statement) -> Iterator[Op]:
    """Ops of the statements of this migration that run after ``stmt``, in order (lazily:
    callers stop at the first answer, so a huge file is not walked once per statement)."""
    statements = migration_statements(ctx)
    start = _position(statements, stmt)
    if start < len(statements) and statements[start].index == stmt.index:
        start += 1
    for k in range(start, len(statements)):
        yield from statements[k].ops


def recreated_in_same_transaction(
    ctx: Context, stmt: Statement, name: str | None, kinds: frozenset[str]
) -> bool:
    """Whether a later statement of this migration creates ``name`` again (an op of one of
    ``kinds``) before the transaction ends, so no other session ever sees it missing."""
    if not ctx.in_transaction or not name:
        return False
    statements = migration_statements(ctx)
    creates, ends = _transaction_index(statements, kinds)
    pos = _position(statements, stmt)
    # The first re-creation after this statement must come before the first COMMIT or
    # ROLLBACK (they end even PostgreSQL's implicit transaction around a multi-statement
    # query; a BEGIN inside it does not).
    create = next((k for k in creates.get(name, ()) if k > pos), None)
    end = next((k for k in ends if k > pos), None)
    return create is not None and (end is None or create < end)


# (migration, kinds) → (positions of statements creating each name, positions of ends),
# computed once per migration instead of walking the rest of the file per statement.
_TX_INDEX: list[tuple[list[Statement], frozenset[str], dict[str, list[int]], list[int]]] = []


def _transaction_index(
    statements: list[Statement], kinds: frozenset[str]
) -> tuple[dict[str, list[int]], list[int]]:
    for m, k, creates, ends in _TX_INDEX:
        if m is statements and k == kinds:
            return creates, ends
    creates = {}
    ends = []
    for pos, s in enumerate(statements):
        for op in s.ops:
            if op.kind in ("commit", "rollback"):
                ends.append(pos)
            elif op.kind in kinds and op.table:
                creates.setdefault(op.table, []).append(pos)
    fresh = [e for e in _TX_INDEX if e[0] is statements]
    _TX_INDEX[:] = [*fresh, (statements, kinds, creates, ends)]
    return creates, ends


def _needs_drop_not_null(ctx: Context, op: Op) -> bool:
    """A NOT NULL column without a default (and not a key column) that the new code will
    stop writing."""
    column = ctx.column(op.table, op.column)
    if column is None or not column.not_null or column.default is not None:
        return False
    if column.generated is not None:
        return False
    return not any(
        con.kind == "primary_key" and op.column in con.columns
        for con in ctx.schema.constraints_on(op.table)
    )


# -- the rule ------------------------------------------------------------------------------


class DropColumn(Rule):
    id = "drop-column"
    category = "compatibility"
    severity = "error"
    summary = "Dropping a column breaks the app version still running during the deploy"
    kinds = frozenset({"drop_column"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        table = ctx.table(op.table)
        # ALTER TABLE ... DROP COLUMN only exists for tables; on a view Postgres rejects it.
        if table is not None and table.kind != "table":
            return
        # A column added in this deploy has no reader yet.
        if ctx.is_new_column(op.table, op.column):
            return
        # DROP COLUMN IF EXISTS of a column the table the history created never had is
        # a no-op (idempotent "cleanup" migrations): nothing reads a column that is not there.
        if (
            op.if_exists
            and table is not None
            and table.origin is not None
            and op.column not in table.columns
        ):
            return
        t, c = qname(op.table), qcol(op.table, op.column)
        cascade = (
            ", and CASCADE also drops the views, indexes and constraints that use it"
            if op.options.get("cascade")
            else ""
        )
        ship = f"Ship app code that no longer reads or writes {c}"
        if is_prisma(ctx):
            ship += (
                " (remove the field from schema.prisma, create the migration with "
                "`prisma migrate dev --create-only` and empty it)"
            )
        else:
            ship += " (with SQLAlchemy, remove the attribute from the model)"
        steps = [ship + "."]
        if _needs_drop_not_null(ctx, op):
            # New code that no longer writes a NOT NULL column without a default fails on
            # every INSERT, so the column must accept NULL before that code starts.
            steps.insert(
                0,
                "Let the column accept NULL first (the new code's INSERTs omit it), in a "
                "migration that runs before the new code starts:\n"
                f"    ALTER TABLE {t} ALTER COLUMN {quote(op.column)} DROP NOT NULL;",
            )
        steps.append(
            "In a later deploy, once no old instance is left, drop it:\n"
            f"    ALTER TABLE {t} DROP COLUMN {quote(op.column)};"
        )
        numbered = "\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1))
        yield self.finding(
            stmt,
            f"Dropping column {c}: the app version still running selects, inserts or "
            f'updates it and fails with column "{op.column}" does not exist until every '
            f"instance is replaced{cascade}.",
            "Drop the column in two deploys:\n" + numbered,
            op,
        )
