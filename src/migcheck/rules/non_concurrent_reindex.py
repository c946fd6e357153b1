"""non-concurrent-reindex: REINDEX without CONCURRENTLY blocks writes while it rebuilds."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule
from migcheck.rules._locking import ident, indent, outside_tx_advice, q


class NonConcurrentReindex(Rule):
    id = "non-concurrent-reindex"
    category = "locking"
    severity = "warning"
    summary = "REINDEX without CONCURRENTLY blocks writes and queries that use the index"
    kinds = frozenset({"reindex"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if op.concurrently:
            return
        what = (op.mode or "index").lower()
        if what == "index":
            idx = ctx.schema.indexes.get(op.name) if op.name else None
            if idx is not None and ctx.is_new(idx.origin):
                return
            table = ctx.table_for(op)
            if table is not None and not ctx.is_existing_table(table):
                return
            on = q(table) if table else "its table"
            message = (
                f"REINDEX INDEX {q(op.name)} without CONCURRENTLY blocks writes to {on} (a "
                "SHARE lock on the table) and every query that would use the index (an ACCESS "
                "EXCLUSIVE lock on the index) until the rebuild ends."
            )
        elif what == "table":
            if not ctx.is_existing_table(op.table):
                return
            message = (
                f"REINDEX TABLE {q(op.table)} without CONCURRENTLY blocks writes to "
                f"{q(op.table)} (a SHARE lock) and every query that would use the index being "
                "rebuilt (an ACCESS EXCLUSIVE lock on it) until all its indexes are rebuilt."
            )
        else:
            named = f"{what.upper()} {q(op.name)}" if op.name else what.upper()
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
                    indent(f"REINDEX {target.replace(' ', ' CONCURRENTLY ', 1)};"),
                    outside_tx_advice(ctx),
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
            name = ident(op.name) if what == "index" else "<index>"
            new = ident(f"{op.name}_new") if what == "index" else "<index>_new"
            help_ = "\n".join(
                [
                    f"PostgreSQL {ctx.pg_version} has no REINDEX CONCURRENTLY (it arrived in "
                    "12). Build a replacement concurrently and swap it in, one index at a "
                    "time:",
                    indent(
                        f"CREATE INDEX CONCURRENTLY {new} ON … (same columns and options as "
                        f"{name});",
                        f"DROP INDEX CONCURRENTLY {name};",
                        f"ALTER INDEX {new} RENAME TO {name};",
                    ),
                    outside_tx_advice(ctx),
                    "An index that backs a PRIMARY KEY or UNIQUE constraint cannot be swapped "
                    "this way; use pg_repack, or upgrade to PostgreSQL 12+.",
                ]
            )
        yield self.finding(stmt, message, help_, op)
