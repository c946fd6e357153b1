"""foreign-key-without-index (opt-in): a foreign key whose referencing columns lead no
index, so every delete (or key update) of a referenced row scans the referencing table."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Constraint, Finding, Op, Statement
from migcheck.quoting import ident, qname
from migcheck.rules import Rule
from migcheck.rules._locking import existing, indent, outside_tx_advice
from migcheck.rules._opcalls import autocommit, create_index, word
from migcheck.schema import default_constraint_name


def foreign_keys(op: Op) -> list[Constraint]:
    """The foreign keys ``op`` adds, each with its referencing columns."""
    if op.kind == "add_constraint":
        con = op.constraint
        return [con] if con is not None and con.kind == "foreign_key" else []
    cols = op.columns if op.kind == "create_table" else (op.column_def,) if op.column_def else ()
    out = [
        Constraint("foreign_key", c.name, (col.name,), c.ref_table, c.ref_columns)
        for col in cols
        for c in col.constraints
        if c.kind == "foreign_key"
    ]
    if op.kind == "create_table":
        out += [c for c in op.constraints if c.kind == "foreign_key"]
    return out


def _leads(keys: tuple[str, ...], fk: tuple[str, ...]) -> bool:
    """An index helps the lookup when its first keys are the foreign key's columns, in any
    order."""
    return bool(fk) and set(keys[: len(fk)]) == set(fk)


def _keys_added(table: str, stmt: Statement, ctx: Context) -> Iterator[tuple[str, ...]]:
    """Key columns of the indexes, primary keys and unique constraints this statement and
    the rest of the migration give ``table`` (a partial index does not count)."""
    for o in [*stmt.ops, *ctx.ops_after()]:
        if o.table != table:
            continue
        if o.kind == "create_index":
            n = o.options.get("plain_keys")
            if not o.has_where and isinstance(n, int):
                yield o.names[:n]
            continue
        defs = [*o.columns, *([o.column_def] if o.column_def else [])]
        cons = [*([o.constraint] if o.constraint else []), *o.constraints]
        cons += [c for d in defs for c in d.constraints]
        for c in cons:
            if c.kind in ("primary_key", "unique"):
                yield c.columns


def indexed(table: str, cols: tuple[str, ...], stmt: Statement, ctx: Context) -> bool:
    known = (i.columns for i in ctx.schema.indexes_on(table) if not i.partial)
    return any(_leads(k, cols) for k in known) or any(
        _leads(k, cols) for k in _keys_added(table, stmt, ctx)
    )


class ForeignKeyWithoutIndex(Rule):
    id = "foreign-key-without-index"
    category = "locking"
    severity = "warning"
    summary = "A foreign key with no index on its columns makes each delete of a referenced row scan the table"
    kinds = frozenset({"add_constraint", "create_table", "add_column"})
    default_enabled = False

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        t = op.table
        if t is None:
            return
        for fk in foreign_keys(op):
            if not fk.columns or indexed(t, fk.columns, stmt, ctx):
                continue
            yield self._finding(op, stmt, ctx, t, fk)

    def _finding(self, op: Op, stmt: Statement, ctx: Context, t: str, fk: Constraint) -> Finding:
        cols = ", ".join(ident(c) for c in fk.columns)
        name = fk.name or default_constraint_name(t, fk)
        ref = qname(fk.ref_table) if fk.ref_table else "the referenced table"
        base = t.rsplit(".", 1)[-1]
        index = f"{base}_{'_'.join(fk.columns)}_idx"
        message = (
            f"Foreign key {qname(name)} of {qname(t)} ({cols}) → {ref} has no index on "
            f"{qname(t)} that starts with ({cols}): every DELETE from {ref}, and every UPDATE "
            f"of its referenced key, finds the referencing rows with a sequential scan of "
            f"{qname(t)}, and ON DELETE CASCADE / SET NULL work through them the same way."
        )
        if existing(ctx, t) and op.kind != "create_table":
            sql = f"CREATE INDEX CONCURRENTLY {ident(index)} ON {ident(t)} ({cols});"
            build = (
                autocommit([create_index(index, t, fk.columns)])
                if ctx.tool == "alembic"
                else indent(sql)
            )
            help_ = (
                "Index the referencing columns without blocking writes:\n"
                + build
                + "\n"
                + outside_tx_advice(ctx, block_shown=True)
            )
        else:
            help_ = (
                f"Index the referencing columns in the same {word(ctx)} (the table is new, so "
                "a plain CREATE INDEX is instant):\n"
                + (
                    create_index(index, t, fk.columns, concurrently=False, indent="    ")
                    if ctx.tool == "alembic"
                    else indent(f"CREATE INDEX {ident(index)} ON {ident(t)} ({cols});")
                )
            )
        return self.finding(stmt, message, help_, op)
