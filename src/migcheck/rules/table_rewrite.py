"""table-rewrite: commands that copy a whole live table into new files under ACCESS
EXCLUSIVE (VACUUM FULL, CLUSTER, SET LOGGED/UNLOGGED, SET TABLESPACE, SET ACCESS METHOD)."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.locks import ACCESS_EXCLUSIVE
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qname
from migcheck.rules import Rule
from migcheck.rules._locking import blocks, existing

_BLOCKS = blocks(ACCESS_EXCLUSIVE)


def _rewrites(op: Op, ctx: Context) -> bool:
    """Whether the command rewrites a table serving traffic (every table, or every
    clustered one, when it names none)."""
    if op.kind == "vacuum" and op.mode != "full":
        return False
    return op.table is None or existing(ctx, op.table)


class TableRewrite(Rule):
    id = "table-rewrite"
    category = "locking"
    severity = "error"
    summary = "VACUUM FULL, CLUSTER, SET LOGGED/UNLOGGED/TABLESPACE rewrite the whole table"
    kinds = frozenset({"vacuum", "cluster", "set_logged", "set_unlogged", "set_tablespace"})

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
        if op.kind == "vacuum":
            if not op.table:
                return "rewrites every table (VACUUM FULL)"
            return f"rewrites {qname(op.table)} (VACUUM FULL)"
        if not op.table:
            return "rewrites every clustered table (CLUSTER)"
        return f"rewrites {qname(op.table)}"
