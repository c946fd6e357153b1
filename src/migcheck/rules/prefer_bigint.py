"""prefer-bigint: a new key column declared as a 2- or 4-byte integer."""

from __future__ import annotations

import re
from collections.abc import Iterator

from migcheck import pgcatalog
from migcheck.context import Context
from migcheck.model import ColumnDef, Finding, Op, Statement
from migcheck.quoting import qcol, quote
from migcheck.rules import Rule
from migcheck.rules._style import NewColumn, declaration, in_tool, new_columns

_SMALL_INTS = {"int4": ("integer", "2,147,483,647"), "int2": ("smallint", "32,767")}


def is_key_name(name: str) -> bool:
    """id, user_id, "userId", "authorID": the names ORMs give keys and foreign keys."""
    return (
        name.lower() == "id"
        or name.lower().endswith("_id")
        or bool(re.search(r"[a-z0-9]I[dD]$", name))
    )


class PreferBigint(Rule):
    id = "prefer-bigint"
    category = "style"
    severity = "warning"
    summary = "New key columns should be bigint: integer keys run out at 2.1 billion"
    kinds = frozenset({"create_table", "add_column"})
    default_enabled = False

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        for new in new_columns(op, stmt, ctx):
            col = new.column
            if col.type is None or col.type.array or col.type.name not in _SMALL_INTS:
                continue
            if not (new.primary_key or is_key_name(col.name)):
                continue
            if self._matches_small_referenced_key(op, new, ctx):
                continue
            yield self._finding(stmt, new, ctx)

    @staticmethod
    def _matches_small_referenced_key(op: Op, new: NewColumn, ctx: Context) -> bool:
        """A foreign key to an existing integer key has to stay integer-sized: widening the
        referencing column alone buys nothing until the referenced key is widened."""
        col = new.column
        refs = [c for c in col.constraints if c.kind == "foreign_key"]
        refs += [c for c in op.constraints if c.kind == "foreign_key" and c.columns == (col.name,)]
        for con in refs:
            ref_cols = con.ref_columns or _primary_key_of(ctx, con.ref_table)
            if len(ref_cols) != 1:
                continue
            ref = ctx.column(con.ref_table, ref_cols[0])
            if ref is not None and ref.type is not None and ref.type.name in _SMALL_INTS:
                return True
        return False

    def _finding(self, stmt: Statement, new: NewColumn, ctx: Context) -> Finding:
        col: ColumnDef = new.column
        assert col.type is not None
        name, limit = _SMALL_INTS[col.type.name]
        written = col.type.text.strip() or name
        serial = pgcatalog.is_serial(written)
        what = "primary key" if new.primary_key else "key column"
        where = qcol(new.table, col.name)
        big = "bigserial" if serial else "bigint"
        message = (
            f"{what.capitalize()} {where} is {_spelled(written, name)}, which stops at {limit}: "
            f"once the values run out every INSERT fails, and changing the column to bigint "
            f"later rewrites the table, and every column referencing it, under an ACCESS "
            f"EXCLUSIVE lock."
        )
        sql_declaration = _declaration(col.name, written, big)
        help = (
            f"Declare it as {big} now, while the table is small or new (8 bytes instead of "
            f"{4 if name == 'integer' else 2}, no rewrite ever needed):\n"
            + declaration(
                ctx,
                sql_declaration,
                col.name,
                "sa.BigInteger()",
                *(("autoincrement=True",) if serial else ()),
            )
            + in_tool(
                ctx,
                prisma="\nWith Prisma, use `BigInt` for the field (`@id @default(autoincrement())` "
                "becomes BIGSERIAL).",
                alembic="\nSQLAlchemy creates a BigInteger primary key with autoincrement as "
                "BIGSERIAL."
                if serial
                else "",
            )
        )
        return self.finding(stmt, message, help, new.at)


def _spelled(written: str, name: str) -> str:
    return written if written.lower() == name else f"{written} ({name})"


def _declaration(column: str, written: str, big: str) -> str:
    # Keep the user's own spelling of everything but the type.
    return f"{quote(column)} {big.upper() if written.isupper() else big}"


def _primary_key_of(ctx: Context, table: str | None) -> tuple[str, ...]:
    for con in ctx.schema.constraints_on(table):
        if con.kind == "primary_key":
            return con.columns
    return ()
