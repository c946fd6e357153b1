"""remove-enum-value: Prisma's enum swap that drops values the running app still writes.

Postgres cannot remove a value from an enum, so Prisma (and people by hand) replace the
type in one migration::

    CREATE TYPE "Plan_new" AS ENUM ('FREE', 'PRO');
    ALTER TABLE "Subscription" ALTER COLUMN "plan" TYPE "Plan_new" USING (...);
    ALTER TYPE "Plan" RENAME TO "Plan_old";
    ALTER TYPE "Plan_new" RENAME TO "Plan";
    DROP TYPE "Plan_old";

The finding is given once per converted column, at its ``ALTER COLUMN ... TYPE``: that is
the statement that fails on rows holding a removed value, and each column is a separate
place the old app writes. The other steps of the swap are left alone by drop-type and
change-column-type (``rules/_enum_swap.py`` is what all three ask).
"""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qcol, qname, quote
from migcheck.rules import Rule
from migcheck.rules._enum_swap import enum_swap
from migcheck.rules._opcalls import paste


def _values(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


class RemoveEnumValue(Rule):
    id = "remove-enum-value"
    category = "compatibility"
    severity = "error"
    summary = "Replacing an enum by one without some values breaks the app still writing them"
    kinds = frozenset({"alter_column_type"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if ctx.is_new_column(op.table, op.column):
            return
        swap = enum_swap(op, ctx)
        if swap is None:
            return
        removed = swap.removed
        if removed is not None and not removed:
            return  # the new enum keeps every old value: the old app cannot tell
        col, e = qcol(op.table, op.column), qname(swap.name)
        if removed is not None:
            plural = "values" if len(removed) > 1 else "value"
            message = (
                f"Converting {col} to {qname(swap.new_type)} removes {plural} "
                f"{_values(removed)} from enum {e}: the app version still running can still "
                f"write {'them' if len(removed) > 1 else 'it'} and fails with invalid input "
                f"value for enum {e}, and this ALTER fails if any row holds "
                f"{'one' if len(removed) > 1 else 'it'}."
            )
            kept = swap.new_values
            target = _values((kept[0],)) if kept else "<value>"
            backfill = paste(
                ctx,
                f"UPDATE {qname(op.table)} SET {quote(op.column)} = {target} "
                f"WHERE {quote(op.column)} IN ({_values(removed)});",
            )
        else:
            message = (
                f"Converting {col} to {qname(swap.new_type)} replaces enum {e}, but the "
                f"values it removes could not be determined (the history never showed {e} "
                "created): the app version still running fails with invalid input value "
                "for enum on every value it writes that the new type lacks."
            )
            backfill = paste(
                ctx,
                f"UPDATE {qname(op.table)} SET {quote(op.column)} = <kept value> "
                f"WHERE {quote(op.column)} = <removed value>;",
            )
        how = (
            "delete the values from the enum in schema.prisma; Prisma generates this swap"
            if ctx.is_prisma
            else "run this swap"
        )
        yield self.finding(
            stmt,
            message,
            "Remove enum values in two deploys:\n"
            f"1. Ship app code that no longer writes the removed values to {col}, and move "
            "the existing rows off them (in batches on a large table):\n"
            f"{backfill}\n"
            f"2. In a later deploy, {how}.",
            op,
        )
