"""non-concurrent-reindex: REINDEX without CONCURRENTLY blocks writes while it rebuilds."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement, name_parts
from migcheck.quoting import ident, ident_part, qname
from migcheck.rules import Rule
from migcheck.rules._locking import outside_tx


def _blocking_rebuild(op: Op, ctx: Context) -> bool:
    """Whether the REINDEX rebuilds, without CONCURRENTLY, indexes of a table serving
    traffic (a table this deploy created holds no rows yet; an unknown one counts as live;
    SCHEMA, DATABASE and SYSTEM cover live tables)."""
    if op.concurrently:
        return False
    if (op.mode or "index").lower() not in ("index", "table"):
        return True
    table = ctx.table_for(op)
    return table is None or ctx.is_existing_table(table)


class NonConcurrentReindex(Rule):
    id = "non-concurrent-reindex"
    category = "locking"
    severity = "warning"
    summary = "REINDEX without CONCURRENTLY blocks writes and queries that use the index"
    kinds = frozenset({"reindex"})
    help_covers = frozenset({"hold-exclusive-lock"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if not _blocking_rebuild(op, ctx):
            return
        what = (op.mode or "index").lower()
        if what == "index":
            # An index this deploy created was reported where it was built (or built
            # CONCURRENTLY): its rebuild is not reported again. It is still slow work on
            # a live table, so ``slow_work`` below counts it.
            idx = ctx.schema.indexes.get(op.name) if op.name else None
            if idx is not None and ctx.is_new(idx.origin):
                return
            table = ctx.table_for(op)
            on = qname(table) if table else "its table"
            message = (
                f"REINDEX INDEX {qname(op.name)} without CONCURRENTLY blocks writes to {on} (a "
                "SHARE lock on the table) and every query that would use the index (an ACCESS "
                "EXCLUSIVE lock on the index) until the rebuild ends."
            )
        elif what == "table":
            message = (
                f"REINDEX TABLE {qname(op.table)} without CONCURRENTLY blocks writes to "
                f"{qname(op.table)} (a SHARE lock) and every query that would use the index being "
                "rebuilt (an ACCESS EXCLUSIVE lock on it) until all its indexes are rebuilt."
            )
        else:
            named = f"{what.upper()} {qname(op.name)}" if op.name else what.upper()
            message = (
                f"REINDEX {named} without CONCURRENTLY rebuilds every index it covers, "
                "blocking writes to each table in turn (a SHARE lock) and every query that "
                "would use the index being rebuilt."
            )
        target = f"{what.upper()} {ident(op.name)}" if op.name else what.upper()
        if ctx.pg_version >= 12 and what != "system":
            help_ = "\n".join(
                [
                    "Rebuild without blocking writes (PostgreSQL 12+ builds a new copy and "
                    "swaps it in):",
                    *outside_tx(ctx, f"REINDEX {target.replace(' ', ' CONCURRENTLY ', 1)};"),
                    "If it fails it leaves an INVALID index named …_ccnew: drop it with DROP "
                    "INDEX CONCURRENTLY and run the REINDEX again.",
                ]
            )
        elif what == "system":
            help_ = (
                "REINDEX SYSTEM has no concurrent form: run it in a maintenance window, not in "
                "a migration."
            )
        else:
            name, new, new_at, renamed = "<index>", "<index>_new", "<index>_new", "<index>"
            if what == "index" and op.name:
                # CREATE INDEX and RENAME TO take a bare name (an index lives in its table's
                # schema); only DROP and ALTER INDEX name it with its schema.
                *schema, bare = name_parts(op.name)
                name, new, renamed = ident(op.name), ident_part(f"{bare}_new"), ident_part(bare)
                new_at = ".".join([*map(ident_part, schema), new])
            help_ = "\n".join(
                [
                    f"PostgreSQL {ctx.pg_version} has no REINDEX CONCURRENTLY (it arrived in "
                    "12). Build a replacement concurrently and swap it in, one index at a "
                    "time:",
                    *outside_tx(
                        ctx,
                        f"CREATE INDEX CONCURRENTLY {new} ON … (same columns and options as "
                        f"{name});",
                        f"DROP INDEX CONCURRENTLY {name};",
                        f"ALTER INDEX {new_at} RENAME TO {renamed};",
                    ),
                    "An index that backs a PRIMARY KEY or UNIQUE constraint cannot be swapped "
                    "this way; use pg_repack, or upgrade to PostgreSQL 12+.",
                ]
            )
        yield self.finding(stmt, message, help_, op)

    def slow_work(self, op: Op, stmt: Statement, ctx: Context) -> str | None:
        if not _blocking_rebuild(op, ctx):
            return None
        return f"rebuilds {qname(op.name)}" if op.name else "rebuilds indexes"
