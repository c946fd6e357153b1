"""What the schema replay knows about the constraint a DROP CONSTRAINT removes, and
whether the same migration puts an equivalent one back (shared by drop-key-constraint
and drop-foreign-key; not a rule)."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Constraint, Op, Statement
from migcheck.schema import ConstraintInfo


def dropped(op: Op, ctx: Context, kinds: tuple[str, ...]) -> ConstraintInfo | None:
    """The constraint ``op`` drops, when the history shows it, is of one of ``kinds`` and
    sits on a table that existed before this deploy."""
    if op.kind != "drop_constraint" or ctx.is_new_table(op.table):
        return None
    con = ctx.schema.constraints.get((op.table or "", op.name or ""))
    if con is None or con.kind not in kinds:
        return None
    # Prisma drops a table's foreign keys (and those referencing it) before the table:
    # drop-table reports that, and the constraint dies with the table anyway.
    gone = {con.table, con.ref_table}
    if any(o.kind == "drop_table" and o.table in gone for o in ctx.ops_after()):
        return None
    return con


def _added(stmt: Statement, ctx: Context) -> Iterator[tuple[Op, Constraint | None]]:
    """Ops of this migration (before ``stmt``, its other actions, after it) that add a
    constraint or a unique index: a replacement may come first (a foreign key added NOT
    VALID before the old one is dropped) or after (a key swapped in one statement)."""
    for o in [*ctx.ops_before(), *stmt.ops, *ctx.ops_after()]:
        if o.kind == "add_constraint":
            con = o.constraint
            if con is not None and con.using_index and not con.columns:
                index = ctx.schema.index(con.using_index, o.table)
                cols = index.columns if index is not None else ()
                con = Constraint(con.kind, con.name, cols)
            yield o, con
        elif o.kind == "create_index" and o.unique and not o.has_where:
            n = o.options.get("plain_keys")
            cols = o.names[:n] if isinstance(n, int) else ()
            yield o, Constraint("unique", o.name, cols)


def replaced(con: ConstraintInfo, stmt: Statement, ctx: Context, kinds: tuple[str, ...]) -> bool:
    """Whether this migration adds a constraint (or unique index) of one of ``kinds`` on the
    same table and the same columns, so nothing relying on the old one breaks."""
    for o, new in _added(stmt, ctx):
        if new is None or o.table != con.table or new.kind not in kinds:
            continue
        if set(new.columns) == set(con.columns) and con.columns:
            return True
    return False


def adds_primary_key(table: str, stmt: Statement, ctx: Context) -> bool:
    """Whether this migration gives ``table`` a new primary key (of any columns)."""
    return any(
        o.table == table and new is not None and new.kind == "primary_key"
        for o, new in _added(stmt, ctx)
    )
