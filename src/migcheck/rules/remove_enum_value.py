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
change-column-type (``enum_swap`` and ``swapped_out`` below are what they ask).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule
from migcheck.rules.drop_column import is_prisma, ops_after, ops_before, qcol, qname, quote


@dataclass(frozen=True)
class EnumSwap:
    """One column moved from an enum to its replacement created in the same migration."""

    name: str  # the enum's name as the app knows it ("Plan")
    new_type: str  # the replacement as written in the ALTER COLUMN ("Plan_new")
    old_values: tuple[str, ...] | None  # None: the history never showed the old enum
    new_values: tuple[str, ...]

    @property
    def removed(self) -> tuple[str, ...] | None:
        if self.old_values is None:
            return None
        return tuple(v for v in self.old_values if v not in self.new_values)


def _renames(ops: Iterable[Op]) -> list[tuple[str, str]]:
    return [(o.name, o.new_name) for o in ops if o.kind == "rename_type" and o.name and o.new_name]


def enum_swap(op: Op, stmt: Statement, ctx: Context) -> EnumSwap | None:
    """The swap this ``ALTER COLUMN ... TYPE`` is part of, or None when it is not one."""
    if op.kind != "alter_column_type" or op.type is None:
        return None
    new_name = op.type.name
    new_enum = ctx.schema.enums.get(new_name)
    # The replacement must be an enum created by this very migration.
    if new_enum is None or not ctx.created_in_this_migration(new_enum.origin):
        return None
    column = ctx.column(op.table, op.column)
    old_type = column.type.name if column is not None and column.type is not None else None
    # Prisma's order: the replacement takes the old name after the columns move over.
    final = next((b for a, b in _renames(ops_after(ctx, stmt)) if a == new_name), None)
    if final is not None and (old_type is None or old_type == final):
        old_enum = ctx.schema.enums.get(final)
        return EnumSwap(
            final,
            new_name,
            tuple(old_enum.values) if old_enum is not None else None,
            tuple(new_enum.values),
        )
    # Hand-written order: both renames first, then the columns move to the new "Plan",
    # away from the old enum now called "Plan_old".
    displaced = next((b for a, b in _renames(ops_before(ctx, stmt)) if a == new_name), None)
    if displaced is not None and (old_type is None or old_type == displaced):
        old_enum = ctx.schema.enums.get(displaced)
        return EnumSwap(
            new_name,
            new_name,
            tuple(old_enum.values) if old_enum is not None else None,
            tuple(new_enum.values),
        )
    return None


def swapped_out(name: str | None, stmt: Statement, ctx: Context) -> bool:
    """Whether type ``name`` is the leftover of an enum swap in this migration: it was
    renamed to ``name`` from X, and an enum created in this migration then took X."""
    if not name:
        return False
    renames = _renames(ops_before(ctx, stmt))
    original = next((a for a, b in renames if b == name), None)
    if original is None:
        return False
    replacement = ctx.schema.enums.get(original)
    return replacement is not None and ctx.created_in_this_migration(replacement.origin)


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
        swap = enum_swap(op, stmt, ctx)
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
            backfill = (
                f"    UPDATE {qname(op.table)} SET {quote(op.column)} = {target} "
                f"WHERE {quote(op.column)} IN ({_values(removed)});"
            )
        else:
            message = (
                f"Converting {col} to {qname(swap.new_type)} replaces enum {e}, but the "
                f"values it removes could not be determined (the history never showed {e} "
                "created): the app version still running fails with invalid input value "
                "for enum on every value it writes that the new type lacks."
            )
            backfill = (
                f"    UPDATE {qname(op.table)} SET {quote(op.column)} = <kept value> "
                f"WHERE {quote(op.column)} = <removed value>;"
            )
        how = (
            "delete the values from the enum in schema.prisma; Prisma generates this swap"
            if is_prisma(ctx)
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
