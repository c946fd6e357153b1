"""table-rewrite: commands that copy a whole live table (or index) into new files under
ACCESS EXCLUSIVE (VACUUM FULL, CLUSTER, SET LOGGED/UNLOGGED, SET TABLESPACE, SET ACCESS
METHOD, SET EXPRESSION of a stored generated column, ALTER INDEX … SET TABLESPACE).

Measured on PostgreSQL 16 and 18 (relfilenode before and after, pg_locks): SET UNLOGGED,
CLUSTER, ADD COLUMN … STORED and SET EXPRESSION of a STORED column give the table new
files under ACCESS EXCLUSIVE; SET EXPRESSION of a VIRTUAL column (18) and DROP EXPRESSION
do not; ALTER INDEX … SET TABLESPACE holds ACCESS EXCLUSIVE on the index, which makes
every SELECT and INSERT on the table wait; SET (fillfactor …) on a table or an index
takes SHARE UPDATE EXCLUSIVE and rewrites nothing."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.locks import ACCESS_EXCLUSIVE
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qcol, qname, quote
from migcheck.rules import Rule
from migcheck.rules._locking import blocks, existing, outside_tx
from migcheck.rules._opcalls import paste

_BLOCKS = blocks(ACCESS_EXCLUSIVE)


def _rewrites(op: Op, ctx: Context) -> bool:
    """Whether the command rewrites a table (or index) serving traffic (every table, or
    every clustered one, when it names none)."""
    if op.kind == "vacuum" and op.mode != "full":
        return False
    if op.kind == "alter_index":
        return _moves_index(op, ctx)
    if op.kind == "set_generated":
        # SET EXPRESSION is new in PostgreSQL 17: before, the statement does not parse.
        if ctx.pg_version < 17:
            return False
        return _stored(op, ctx) is not False and existing(ctx, op.table)
    return op.table is None or existing(ctx, op.table)


def _moves_index(op: Op, ctx: Context) -> bool:
    """ALTER INDEX … SET TABLESPACE of an index that existed before this deploy (an index
    of a table created by this deploy is new too). A materialized view's index counts:
    its readers wait the same way."""
    if op.mode != "tablespace":
        return False  # SET (fillfactor …), RENAME …: catalog changes (measured)
    idx = ctx.schema.index(op.name)
    return idx is None or not ctx.is_new(idx.origin)


def _stored(op: Op, ctx: Context) -> bool | None:
    """Whether the generated column ``SET EXPRESSION`` changes is STORED: True, False for
    a VIRTUAL one (PostgreSQL 18+, computed when read), None when the history does not
    say and the target version has both kinds."""
    col = ctx.column(op.table, op.column)
    if col is not None and col.generated in ("stored", "virtual"):
        return col.generated == "stored"
    return True if ctx.pg_version < 18 else None


class TableRewrite(Rule):
    id = "table-rewrite"
    category = "locking"
    severity = "error"
    summary = "VACUUM FULL, CLUSTER, SET LOGGED/UNLOGGED/TABLESPACE rewrite the whole table"
    kinds = frozenset(
        {
            "vacuum",
            "cluster",
            "set_logged",
            "set_unlogged",
            "set_tablespace",
            "set_generated",
            "alter_index",
        }
    )

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        k, t = op.kind, op.table
        if not _rewrites(op, ctx):
            return
        lock = f"an {ACCESS_EXCLUSIVE} lock, which blocks {_BLOCKS}"
        if k == "vacuum":
            what = (
                f"VACUUM FULL rewrites {qname(t)} and all its indexes"
                if t
                else (
                    "VACUUM FULL without a table name rewrites every table of the database, one "
                    "after another,"
                )
            )
            message = f"{what} into new files while holding {lock} until it finishes."
            help_ = (
                "To give space back to the operating system without blocking traffic, use "
                "pg_repack or pg_squeeze (they rebuild the table online and swap it in with a "
                "brief lock). A plain VACUUM, which blocks neither reads nor writes, makes "
                "dead space reusable without shrinking the file. Keep maintenance out of "
                "migrations."
            )
        elif k == "cluster":
            what = (
                f"CLUSTER rewrites {qname(t)} and all its indexes in index order"
                if t
                else ("CLUSTER without a table name re-clusters every previously clustered table")
            )
            message = f"{what} while holding {lock} until it finishes."
            help_ = (
                "Reorder the table online with pg_repack --order-by (or --table with the "
                "clustered index), which holds an ACCESS EXCLUSIVE lock only briefly at the "
                "end. Keep maintenance out of migrations."
            )
        elif k in ("set_logged", "set_unlogged"):
            word = "LOGGED" if k == "set_logged" else "UNLOGGED"
            message = (
                f"ALTER TABLE {qname(t)} SET {word} rewrites the table and all its indexes (and "
                f"writes the whole table to the WAL) while holding {lock} until it finishes."
            )
            help_ = (
                f"There is no online form of SET {word}. Create a new {word.lower()} table, "
                "copy the rows in batches, and switch the application to it; or run it in a "
                "maintenance window with a short lock_timeout."
            )
        elif k == "set_generated":
            message, help_ = _set_expression(op, ctx, lock)
        elif k == "alter_index":
            i = qname(op.name)
            on = ctx.schema.table_of_index(op.name)
            table = f"{qname(on)}" if on else "its table"
            message = (
                f"ALTER INDEX {i} SET TABLESPACE {op.new_name} copies the index's files while "
                f"holding an {ACCESS_EXCLUSIVE} lock on {i}, and every query that plans or "
                f"writes on {table} waits for it (reads and writes alike) until it finishes."
            )
            name = ident(op.name)
            help_ = (
                "Build a copy in the new tablespace without blocking, then swap it in (not "
                "possible this way for the index of a PRIMARY KEY or UNIQUE constraint):\n"
                + "\n".join(
                    outside_tx(
                        ctx,
                        f"CREATE INDEX CONCURRENTLY <new_name> ON {ident(on) if on else '<table>'} "
                        f"(…) TABLESPACE {op.new_name};",
                        f"DROP INDEX CONCURRENTLY {name};",
                    )
                )
                + "\n"
                + paste(ctx, f"ALTER INDEX <new_name> RENAME TO {name.rsplit('.', 1)[-1]};")
                + "\nOr move it online with pg_repack --only-indexes --tablespace "
                f"{op.new_name}."
            )
        elif op.mode == "access_method":
            message = (
                f"ALTER TABLE {qname(t)} SET ACCESS METHOD {op.new_name} rewrites the table and "
                f"all its indexes while holding {lock} until it finishes."
            )
            help_ = (
                "There is no online form: build a new table with the access method, copy the "
                "rows in batches and switch over, or run it in a maintenance window."
            )
        else:
            message = (
                f"ALTER TABLE {qname(t)} SET TABLESPACE {op.new_name} copies the table's files to "
                f"the new tablespace while holding {lock} until it finishes."
            )
            help_ = (
                f"Move it online with pg_repack --tablespace {op.new_name} (a brief lock at "
                "the end only), or run it in a maintenance window."
            )
        yield self.finding(stmt, message, help_, op)

    def slow_work(self, op: Op, stmt: Statement, ctx: Context) -> str | None:
        if not _rewrites(op, ctx):
            return None
        if op.kind == "alter_index":
            return f"copies the index {qname(op.name)} to another tablespace"
        if op.kind == "vacuum":
            if not op.table:
                return "rewrites every table (VACUUM FULL)"
            return f"rewrites {qname(op.table)} (VACUUM FULL)"
        if not op.table:
            return "rewrites every clustered table (CLUSTER)"
        return f"rewrites {qname(op.table)}"


def _set_expression(op: Op, ctx: Context, lock: str) -> tuple[str, str]:
    """Message and help for ALTER COLUMN … SET EXPRESSION (PostgreSQL 17+) of a column that
    is, or may be, STORED."""
    t, c = op.table, op.column
    col = qcol(t, c)
    if _stored(op, ctx):
        what = f"{col} is a STORED generated column, so"
        verb = "rewrites"
    else:
        what = (
            f"if {col} is a STORED generated column (the history does not say; a VIRTUAL "
            "one is computed when read and is not rewritten),"
        )
        verb = "may rewrite"
    message = (
        f"ALTER TABLE {qname(t)} ALTER COLUMN {quote(c)} SET EXPRESSION: {what} PostgreSQL "
        f"{verb} the table and all its indexes to recompute it for every row, while holding "
        f"{lock} until it finishes."
    )
    virtual = (
        "On PostgreSQL 18+ a VIRTUAL generated column changes its expression without a "
        "rewrite (but not in a table with CHECK constraints, where SET EXPRESSION on it "
        "fails). "
        if ctx.pg_version >= 18
        else ""
    )
    help_ = (
        f"{virtual}For a STORED column there is no online form: add a new plain column, fill "
        "it from the application or a trigger and backfill the old rows in batches, then "
        "switch the app to it; or run it in a maintenance window."
    )
    return message, help_
