"""rename-type: ALTER TYPE ... RENAME TO on a type the running app names."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement, name_parts
from migcheck.quoting import qname
from migcheck.rules import Rule
from migcheck.rules._opcalls import paste, string


def _taken_over(name: str, ctx: Context) -> bool:
    """Whether a type created in this migration is renamed to ``name`` (the old name is
    handed to a replacement: Prisma's enum swap, reported by remove-enum-value)."""
    for o in [*ctx.ops_before(), *ctx.ops_after()]:
        if o.kind != "rename_type" or o.new_name != name or not o.name:
            continue
        # The schema model records every CREATE TYPE (enums too) with where it was made.
        if ctx.created_in_this_migration(ctx.schema.types.get(o.name)):
            return True
    return False


class RenameType(Rule):
    id = "rename-type"
    category = "compatibility"
    severity = "error"
    summary = "Renaming a type breaks the app version still casting to or declaring it"
    kinds = frozenset({"rename_type"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        old, new = op.name, op.new_name
        if not old or not new:
            return
        if old in ctx.schema.types and ctx.is_new(ctx.schema.types[old]):
            return  # created by this deploy: nothing running knows it
        if _taken_over(old, ctx):
            return  # an enum swap: the replacement takes the old name back
        o, n = qname(old), qname(new)
        orm = (
            f'keep the database name and map it in schema.prisma (enum {new} {{ ... @@map("{old}") }})'
            if ctx.is_prisma
            else "keep the database name and rename only the Python class "
            f"(`sa.Enum(NewName, {_sa_name(old)})` in the model)"
            if ctx.tool == "alembic"
            else "keep the database name and rename only in the application code"
        )
        yield self.finding(
            stmt,
            f"Renaming type {o} to {n}: the app version still running names {o} in casts "
            f"and declarations (Prisma casts enum parameters, e.g. $1::{o}) and fails with "
            f"type {o} does not exist until every instance is replaced.",
            f"If only the code's name matters, {orm}.\n"
            "To rename the type itself, do it in two deploys:\n"
            f"1. Ship app code that no longer names {o} (or names neither).\n"
            "2. In a later deploy, once no old instance is left:\n"
            + paste(ctx, f"ALTER TYPE {o} RENAME TO {n};"),
            op,
        )


def _sa_name(stored: str) -> str:
    """``name=`` (and ``schema=``) of the type for ``sa.Enum``."""
    parts = name_parts(stored)
    schema = f", schema={string(parts[-2])}" if len(parts) > 1 else ""
    return f"name={string(parts[-1])}{schema}"
