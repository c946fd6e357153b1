"""non-concurrent-index: CREATE INDEX without CONCURRENTLY on a table that serves traffic."""

from __future__ import annotations

import re
from collections.abc import Iterator

from migcheck.context import Context
from migcheck.lazyre import lazy
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
from migcheck.rules._opcalls import (
    autocommit,
    create_index,
    drop_index,
    execute,
    index_keys,
    paste,
)

_CREATE_INDEX = lazy(r"^(\s*create\s+(?:unique\s+)?index)\b", re.I)


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


_ON = lazy(r"\s(on)\s+(?!only\b)", re.I)


def _partitioned_help(op: Op, stmt: Statement, ctx: Context) -> list[str]:
    """The three-step build for a partitioned parent, which refuses CONCURRENTLY
    ("cannot create index on partitioned table … concurrently", verified in
    tests/live/test_live_transaction_facts.py)."""
    sql = sql_of(stmt)
    only = _ON.sub(lambda m: f" {m.group(1)} {'ONLY' if m.group(1).isupper() else 'only'} ", sql, 1)
    name = ident(_index_name(op)) if op.name else "<its name>"
    each = "CREATE INDEX CONCURRENTLY <partition>_idx ON <partition> (…);"
    return [
        f"{qname(op.table)} is partitioned, and PostgreSQL cannot build an index on a "
        "partitioned table CONCURRENTLY. Build it without blocking writes in three steps:",
        "1. Create the parent's index ON ONLY the parent (instant; it stays invalid until "
        "every partition has its index):",
        paste(ctx, only),
        "2. Build each partition's index CONCURRENTLY, each outside a transaction block:",
        autocommit([execute(each)]) if ctx.tool == "alembic" else indent(each),
        "3. Attach each one; the parent's index becomes valid when every partition's is attached:",
        paste(ctx, f"ALTER INDEX {name} ATTACH PARTITION <partition>_idx;"),
    ]


def _build(op: Op, stmt: Statement, ctx: Context) -> str:
    """The concurrent build as the user pastes it: their own CREATE INDEX with
    CONCURRENTLY, or in a revision ``op.create_index(..., postgresql_concurrently=True)``
    (``op.execute`` of that SQL when the index has more than plain keys) inside an
    autocommit block."""
    if ctx.tool != "alembic":
        return indent(concurrent_form(stmt))
    keys = index_keys(op, sql_of(stmt))
    if keys is None:
        return autocommit([execute(concurrent_form(stmt))])
    return autocommit([create_index(op.name, op.table, keys, unique=op.unique)])


class NonConcurrentIndex(Rule):
    id = "non-concurrent-index"
    category = "locking"
    severity = "error"
    summary = "CREATE INDEX without CONCURRENTLY blocks writes to the table for the whole build"
    kinds = frozenset({"create_index"})
    help_covers = frozenset({"hold-exclusive-lock"})

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
        alembic = ctx.tool == "alembic"
        info = ctx.table(t)
        if info is not None and info.partitioned:
            lines = _partitioned_help(op, stmt, ctx)
        else:
            lines = [
                "Build the index without blocking writes (reads and writes continue; it "
                "takes longer and waits for running transactions):",
                _build(op, stmt, ctx),
                outside_tx_advice(ctx, block_shown=True),
                "If a concurrent build fails (a duplicate key, a deadlock, a cancelled "
                f"statement) it leaves an INVALID index behind; drop it and run the "
                f"{'call' if alembic else 'statement'} again:",
                autocommit([drop_index(_index_name(op), t)]) if alembic else indent(drop),
            ]
            if info is None:
                lines.append(
                    "If the table is partitioned, CONCURRENTLY is not supported on it: create "
                    "the index ON ONLY the parent, build each partition's index CONCURRENTLY, "
                    "then ALTER INDEX … ATTACH PARTITION each one."
                )
        if op.options.get("if_not_exists"):
            # Verified in tests/live/test_live_transaction_facts.py.
            lines += [
                "IF NOT EXISTS does not make a retry safe: after a failed concurrent build "
                "the INVALID leftover already has the name, so the retry only prints "
                "NOTICE: relation already exists, skipping, and keeps an index no query "
                "uses. Before retrying, drop the leftover as a statement of its own outside "
                "a transaction (or check pg_index.indisvalid after the build):",
                autocommit([drop_index(_index_name(op), t, if_exists=True)])
                if alembic
                else indent(drop.replace("CONCURRENTLY ", "CONCURRENTLY IF EXISTS ", 1)),
            ]
        yield self.finding(stmt, message, "\n".join(lines), op)

    def slow_work(self, op: Op, stmt: Statement, ctx: Context) -> str | None:
        if not _blocking_build(op, ctx):
            return None
        t = qname(op.table)
        return f"builds index {qname(op.name)} on {t}" if op.name else f"builds an index on {t}"
