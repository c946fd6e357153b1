"""An enum swap: Prisma's (and people's) way to remove a value from an enum, which
PostgreSQL cannot do, by replacing the type in one migration.

remove-enum-value reports the swap; drop-type and change-column-type ask here so they
leave its other steps alone. The registry skips modules whose name starts with ``_``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from migcheck.context import Context
from migcheck.model import Op


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


def enum_swap(op: Op, ctx: Context) -> EnumSwap | None:
    """The swap this ``ALTER COLUMN ... TYPE`` is part of, or None when it is not one."""
    if op.type is None:  # an unfinished "TYPE ;" (the callers pass only ALTER COLUMN TYPE)
        return None
    new_name = op.type.name
    new_enum = ctx.schema.enums.get(new_name)
    # The replacement must be an enum created by this very migration.
    if new_enum is None or not ctx.created_in_this_migration(new_enum.origin):
        return None
    column = ctx.column(op.table, op.column)
    old_type = column.type.name if column is not None and column.type is not None else None
    # Prisma's order: the replacement takes the old name after the columns move over.
    final = next((b for a, b in _renames(ctx.ops_after()) if a == new_name), None)
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
    displaced = next((b for a, b in _renames(ctx.ops_before()) if a == new_name), None)
    if displaced is not None and (old_type is None or old_type == displaced):
        old_enum = ctx.schema.enums.get(displaced)
        return EnumSwap(
            new_name,
            new_name,
            tuple(old_enum.values) if old_enum is not None else None,
            tuple(new_enum.values),
        )
    return None


def swapped_out(name: str | None, ctx: Context) -> bool:
    """Whether type ``name`` is the leftover of an enum swap in this migration: it was
    renamed to ``name`` from X, and an enum created in this migration then took X."""
    renames = _renames(ctx.ops_before())
    # Renames always name both types, so an empty ``name`` or no rename finds no enum.
    original = next((a for a, b in renames if b == name), "")
    replacement = ctx.schema.enums.get(original)
    return replacement is not None and ctx.created_in_this_migration(replacement.origin)
