"""non-concurrent-index: CREATE INDEX without CONCURRENTLY on a table that serves traffic."""

from __future__ import annotations

import re
from collections.abc import Iterator

from migcheck.context import Context
from migcheck.locks import SHARE
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qname
from migcheck.rules import Rule
from migcheck.rules._locking import (
    blocks,
    existing,
    indent,
    outside_tx_advice,
    sql_of,
)

_CREATE_INDEX = re.compile(r"^(\s*create\s+(?:unique\s+)?index)\b", re.I)


def concurrent_form(stmt: Statement) -> str:
    """The user's own CREATE INDEX with CONCURRENTLY inserted, in the user's letter case."""
    sql = sql_of(stmt)
    m = _CREATE_INDEX.match(sql)
    if m is None:
        return sql
    word = "CONCURRENTLY" if m.group(1)[-5:].isupper() else "concurrently"
    return f"{m.group(1)} {word}{sql[m.end() :]}"


def _builds_index(op: Op, ctx: Context) -> bool:
    """False for ``CREATE INDEX IF NOT EXISTS`` of an index that already exists (a no-op)."""
    return not (op.options.get("if_not_exists") and ctx.schema.index(op.name, op.table))


def _blocking_build(op: Op, ctx: Context) -> bool:
    """Whether the CREATE INDEX builds, without CONCURRENTLY, on a table serving traffic.
    ON ONLY builds nothing: it creates an invalid index on a partitioned parent, to be
    completed by attaching per-partition indexes built CONCURRENTLY."""
    return (
        not op.concurrently and not op.only and existing(ctx, op.table) and _builds_index(op, ctx)
    )


def _index_name(op: Op) -> str | None:
    """The index's name as DROP INDEX needs it: CREATE INDEX takes a bare name and puts the
    index in its table's schema (``ON eventstore.events (...)`` creates
    ``eventstore.<name>``), which need not be on the search_path."""
    name, table = op.name, op.table or ""
    if name and "." not in name and "." in table:
        return f"{table.rsplit('.', 1)[0]}.{name}"
    return name


class NonConcurrentIndex(Rule):
    id = "non-concurrent-index"
    category = "locking"
    severity = "error"
    summary = "CREATE INDEX without CONCURRENTLY blocks writes to the table for the whole build"
    kinds = frozenset({"create_index"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if not _blocking_build(op, ctx):
            return
        t = op.table
        kind = "unique index" if op.unique else "index"
        named = f"{kind} {qname(op.name)}" if op.name else f"an unnamed {kind}"
        message = (
            f"Creating {named} on existing table {qname(t)} without CONCURRENTLY takes a SHARE "
            f"lock on {qname(t)} for the whole index build, which blocks {blocks(SHARE)}."
        )
        if ctx.in_transaction:
            message = message[:-1] + ("; the lock is then held until the transaction commits.")
        drop = (
            f"DROP INDEX CONCURRENTLY {ident(_index_name(op))};"
            if op.name
            else "DROP INDEX CONCURRENTLY <its name>;"
        )
        lines = [
            "Build the index without blocking writes (reads and writes continue; it takes "
            "longer and waits for running transactions):",
            indent(concurrent_form(stmt)),
            outside_tx_advice(ctx),
            "If a concurrent build fails (a duplicate key, a deadlock, a cancelled statement) "
            "it leaves an INVALID index behind; drop it and run the statement again:",
            indent(drop),
        ]
        lines.append(
            "On a partitioned table CONCURRENTLY is not supported: create the index ON ONLY "
            "the parent, build each partition's index CONCURRENTLY, then ALTER INDEX … "
            "ATTACH PARTITION each one."
        )
        if op.options.get("if_not_exists"):
            lines.append(
                "With IF NOT EXISTS a leftover INVALID index of the same name makes the retry "
                "a silent no-op: check pg_index.indisvalid after the build."
            )
        yield self.finding(stmt, message, "\n".join(lines), op)

    def slow_work(self, op: Op, stmt: Statement, ctx: Context) -> str | None:
        if not _blocking_build(op, ctx):
            return None
        t = qname(op.table)
        return f"builds index {qname(op.name)} on {t}" if op.name else f"builds an index on {t}"
