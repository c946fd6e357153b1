"""volatile-default: ADD COLUMN whose value must be computed per row (volatile default,
serial, identity, stored generated column; any default before PostgreSQL 11) rewrites the
whole table under ACCESS EXCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck import pgcatalog
from migcheck.context import Context
from migcheck.locks import ACCESS_EXCLUSIVE
from migcheck.model import ColumnDef, ColumnType, Finding, Op, Statement
from migcheck.quoting import ident, literal, qcol, qname, quote
from migcheck.rules import Rule
from migcheck.rules._locking import (
    adds_column,
    blocks,
    existing,
    indent,
    primary_key,
)
from migcheck.rules._opcalls import add_column, paste, string, table_args

_INT_OF_SERIAL = {"int2": "smallint", "int4": "integer", "int8": "bigint"}


def _rewrite_reason(op: Op, ctx: Context) -> str | None:
    """Why ``ADD COLUMN`` rewrites the table (None when it is a catalog-only change).

    PostgreSQL 11+ stores a non-volatile default in the catalog (``attmissingval``) and
    rewrites nothing; a volatile default, a serial or identity column (filled from a
    sequence, i.e. ``nextval``) and a stored generated column must be computed per row.
    Before 11 every non-NULL default rewrites.
    """
    col = op.column_def
    if col is None:
        return None
    if col.generated == "stored":
        return "a GENERATED … STORED column is computed and written for every existing row"
    if col.generated == "identity":
        return (
            "an identity column is filled from its sequence for every existing row, so "
            "PostgreSQL rewrites the table"
        )
    if col.type is not None and pgcatalog.is_serial(col.type.text or col.type.name):
        return (
            f"{col.type.text or col.type.name} is an integer with DEFAULT nextval(…), a "
            "volatile default, so every existing row gets its own value and PostgreSQL "
            "rewrites the table"
        )
    default = col.default
    # ``DEFAULT NULL`` reaches us as an empty expression (the parser stops the default at
    # the NULL keyword), so an empty text means NULL too.
    if default is None or default.is_null or not default.text.strip():
        return None
    if ctx.pg_version < 11:
        return (
            f"before PostgreSQL 11 any non-NULL default (here {default.text}) is written into "
            "every existing row"
        )
    if default.volatility == pgcatalog.VOLATILE:
        return (
            f"{default.text} is volatile, so PostgreSQL computes it for every existing row "
            "instead of storing it once in the catalog"
        )
    if default.volatility == pgcatalog.UNKNOWN:
        return (
            f"migcheck could not tell whether {default.text} is volatile (it calls a function "
            "that is not built in); if it is, PostgreSQL computes it for every existing row"
        )
    return None


def _rewrites(op: Op, ctx: Context) -> str | None:
    """Why this ADD COLUMN rewrites a table serving traffic, or None when it does not."""
    if op.column_def is None or not existing(ctx, op.table) or not adds_column(op, ctx):
        return None
    return _rewrite_reason(op, ctx)


class VolatileDefault(Rule):
    id = "volatile-default"
    category = "locking"
    severity = "error"
    summary = "ADD COLUMN with a per-row default rewrites the whole table under ACCESS EXCLUSIVE"
    kinds = frozenset({"add_column"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        t, col = op.table, op.column_def
        why = _rewrites(op, ctx)
        if why is None or col is None:
            return
        unsure = col.default is not None and col.default.volatility == pgcatalog.UNKNOWN
        verb = "may rewrite" if unsure else "rewrites"
        message = (
            f"Adding column {qcol(t, col.name)} {verb} the whole table and all its indexes while "
            f"holding an {ACCESS_EXCLUSIVE} lock, which blocks {blocks(ACCESS_EXCLUSIVE)} "
            f"until it finishes: {why}."
        )
        yield self.finding(stmt, message, _help(t or "", col, ctx), op)

    def slow_work(self, op: Op, stmt: Statement, ctx: Context) -> str | None:
        if _rewrites(op, ctx) is None or op.column_def is None:
            return None
        return f"rewrites {qname(op.table)} to fill the new column {quote(op.column_def.name)}"


def _add_nullable(ctx: Context, t: str, col: ColumnDef, ctype: ColumnType | None) -> str:
    """The plain nullable ADD COLUMN the safe sequences start with."""
    if ctx.tool == "alembic":
        return add_column(t, col.name, ctype, nullable=True)
    return indent(f"ALTER TABLE {ident(t)} ADD COLUMN {ident(col.name)} {ctype or '…'};")


def _set_default(ctx: Context, t: str, col: ColumnDef, default: str) -> str:
    """ALTER COLUMN … SET DEFAULT: a catalog change that fills only new rows."""
    if ctx.tool == "alembic":
        table, schema = table_args(t)
        return (
            f"    op.alter_column({table}, {string(col.name)}, "
            f"server_default=sa.text({string(default)}){schema})"
        )
    return indent(f"ALTER TABLE {ident(t)} ALTER COLUMN {ident(col.name)} SET DEFAULT {default};")


_BATCHES = (
    "-- then, repeated until it updates no row, each batch committed on its own (from a "
    "script, or one revision per batch: a revision runs in one transaction):"
)


def _help(t: str, col: ColumnDef, ctx: Context) -> str:
    table, c = ident(t), ident(col.name)
    alembic = ctx.tool == "alembic"
    key = ident(primary_key(ctx, t))
    ctype = col.type
    if col.generated == "stored":
        expr = col.default.text if col.default else "…"
        if ctx.pg_version >= 18:
            return (
                "On PostgreSQL 18+ a VIRTUAL generated column is computed when read and adds "
                "nothing to the table:\n"
                + paste(
                    ctx,
                    f"ALTER TABLE {table} ADD COLUMN {c} {ctype or '…'} GENERATED ALWAYS AS "
                    f"({expr}) VIRTUAL;",
                )
            )
        return (
            "A stored generated column cannot be added without a rewrite. Add a plain "
            "column, fill it for new rows from the application or a trigger, and backfill "
            "the old rows in batches:\n"
            + _add_nullable(ctx, t, col, ctype)
            + "\n"
            + paste(
                ctx,
                _BATCHES if alembic else "-- then, repeated until it updates no row:",
                f"UPDATE {table} SET {c} = {expr} WHERE {key} IN "
                f"(SELECT {key} FROM {table} WHERE {c} IS NULL LIMIT 5000);",
            )
        )
    if col.generated == "identity" or (
        ctype is not None and pgcatalog.is_serial(ctype.text or ctype.name)
    ):
        int_type = _INT_OF_SERIAL.get(ctype.name, ctype.text) if ctype is not None else "bigint"
        # CREATE SEQUENCE puts an unqualified name in the first schema of the search_path,
        # and OWNED BY then fails for a table in another schema: name the table's schema.
        schema, _, base = t.rpartition(".")
        seq = ident(f"{schema}.{base}_{col.name}_seq" if schema else f"{base}_{col.name}_seq")
        regclass = literal(seq)
        return (
            "Add a plain nullable column, give it a sequence default for new rows, and "
            "backfill the old rows in batches:\n"
            + _add_nullable(ctx, t, col, ColumnType(int_type, text=int_type))
            + "\n"
            + paste(ctx, f"CREATE SEQUENCE {seq} OWNED BY {table}.{c};")
            + "\n"
            + _set_default(ctx, t, col, f"nextval({regclass})")
            + "\n"
            + paste(
                ctx,
                _BATCHES
                if alembic
                else "-- then, in batches, outside the migration's transaction:",
                f"UPDATE {table} SET {c} = nextval({regclass}) WHERE {key} IN "
                f"(SELECT {key} FROM {table} WHERE {c} IS NULL LIMIT 5000);",
            )
            + "\nThen make it NOT NULL with a validated CHECK (see set-not-null-scan)."
            + (
                " To turn it into an identity column afterwards (a catalog change once it "
                "is NOT NULL): ALTER COLUMN … DROP DEFAULT, then ADD GENERATED BY DEFAULT AS "
                "IDENTITY (START WITH <max + 1>)."
                if col.generated == "identity"
                else ""
            )
        )
    default = col.default.text if col.default is not None else "…"
    not_null = (
        "\nIf it must be NOT NULL, add that afterwards with a validated CHECK "
        "(see set-not-null-scan)."
        if col.not_null
        else ""
    )
    return (
        "Add the column without a default, set the default for new rows only (a catalog "
        "change), then backfill existing rows in batches, each in its own transaction:\n"
        + _add_nullable(ctx, t, col, ctype)
        + "\n"
        + _set_default(ctx, t, col, default)
        + "\n"
        + paste(
            ctx,
            _BATCHES if alembic else "-- then, repeated until it updates no row:",
            f"UPDATE {table} SET {c} = {default} WHERE {key} IN "
            f"(SELECT {key} FROM {table} WHERE {c} IS NULL LIMIT 5000);",
        )
        + not_null
    )
