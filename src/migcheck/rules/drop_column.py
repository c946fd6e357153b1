"""drop-column: dropping a column the running app still reads or writes."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qcol, qname, quote
from migcheck.rules import Rule
from migcheck.rules._opcalls import paste, word
from migcheck.rules._swap import column_swap, describe, renamed_away_in_swap


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


def _type_text(ctype: object) -> str:
    text = getattr(ctype, "text", None) or getattr(ctype, "name", None) or ""
    return " ".join(str(text).lower().split())


def _prisma_rename(op: Op, stmt: Statement, ctx: Context) -> str | None:
    """The column a Prisma ALTER TABLE adds in place of the one it drops, when both have the
    same type: what `prisma migrate dev` writes for a renamed field (it cannot tell a rename
    from a drop and an add)."""
    if not ctx.is_prisma:
        return None
    old = ctx.column(op.table, op.column)
    if old is None or old.type is None:
        return None
    added = [
        o.column_def
        for o in stmt.ops
        if o.kind == "add_column" and o.table == op.table and o.column_def is not None
    ]
    same = [
        cd for cd in added if cd.type is not None and _type_text(cd.type) == _type_text(old.type)
    ]
    # Several drops and adds of one type: the pairing is a guess, so only a 1:1 case counts.
    drops = [o for o in stmt.ops if o.kind == "drop_column" and o.table == op.table]
    if len(same) != 1 or len(drops) != 1:
        return None
    return same[0].name


def _rename_advice(op: Op, new: str, cascade: str) -> tuple[str, str]:
    c, t, old_q, new_q = qcol(op.table, op.column), qname(op.table), quote(op.column), quote(new)
    return (
        f"This ALTER TABLE drops {c} and adds {new_q} of the same type: that is how Prisma "
        f"migrates a renamed field, and it loses every value of {old_q}; the app version "
        f'still running also fails with column "{op.column}" does not exist until every '
        f"instance is replaced{cascade}.",
        "If you only renamed the field, keep the column and its data: map the new field "
        "name to it, which needs no migration at all:\n"
        f'    {new} <Type> @map("{op.column}")\n'
        "then delete this migration (or create it with `prisma migrate dev --create-only` "
        "and empty it).\n"
        "To rename the column itself, expand and contract:\n"
        f"1. Add {new_q} (nullable) and backfill it from {old_q} in batches; ship code that "
        "writes both.\n"
        f"2. Ship code that reads and writes {new_q} only.\n"
        f"3. In a later deploy, drop the old column:\n    ALTER TABLE {t} DROP COLUMN {old_q};",
    )


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
        swap = column_swap(op, ctx)
        if swap is not None:
            yield self.finding(stmt, *describe(op, ctx, swap), op)
            return
        if renamed_away_in_swap(op, ctx):
            return  # the rename that started the swap reports it
        t, c = qname(op.table), qcol(op.table, op.column)
        cascade = (
            ", and CASCADE also drops the views, indexes and constraints that use it"
            if op.options.get("cascade")
            else ""
        )
        renamed_to = _prisma_rename(op, stmt, ctx)
        if renamed_to is not None:
            yield self.finding(stmt, *_rename_advice(op, renamed_to, cascade), op)
            return
        steps = [_first_step(ctx, op)]
        if _needs_drop_not_null(ctx, op):
            # New code that no longer writes a NOT NULL column without a default fails on
            # every INSERT, so the column must accept NULL before that code starts.
            steps.insert(
                0,
                "Let the column accept NULL first (the new code's INSERTs omit it), in a "
                f"{word(ctx)} that runs before the new code starts"
                + (
                    " (make the field optional, `?`, and `prisma migrate dev` writes it)"
                    if ctx.tool == "prisma"
                    else ""
                )
                + ":\n"
                + paste(
                    ctx,
                    f"ALTER TABLE {t} ALTER COLUMN {quote(op.column)} DROP NOT NULL;",
                ),
            )
        later = {
            "prisma": "In a later migration, once no old instance is left, remove the field "
            "from schema.prisma and drop the column (`prisma migrate dev` writes it):",
            "alembic": "In a later deploy, once no old instance is left, drop it in a new "
            "revision:",
        }.get(ctx.tool, "In a later deploy, once no old instance is left, drop it:")
        steps.append(later + "\n" + paste(ctx, f"ALTER TABLE {t} DROP COLUMN {quote(op.column)};"))
        numbered = "\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1))
        yield self.finding(
            stmt,
            f"Dropping column {c}: the app version still running selects, inserts or "
            f'updates it and fails with column "{op.column}" does not exist until every '
            f"instance is replaced{cascade}.",
            "Drop the column in two deploys:\n" + numbered,
            op,
        )


def _first_step(ctx: Context, op: Op) -> str:
    """Stop the app using the column, in the user's tool: Prisma's ``@ignore`` keeps the
    column in the database while the client stops reading and writing it; with SQLAlchemy
    the attribute leaves the model."""
    c = qcol(op.table, op.column)
    if ctx.tool == "prisma":
        return (
            f"Mark the field of {c} `@ignore` in schema.prisma (the model `@@ignore` when the "
            "whole table goes) and deploy: Prisma Client stops reading and writing it, and "
            "no migration is needed."
        )
    if ctx.tool == "alembic":
        return (
            f"Remove the attribute mapping {c} from the SQLAlchemy model first, and deploy "
            "that code: the app no longer reads or writes it."
        )
    return f"Ship app code that no longer reads or writes {c}."
