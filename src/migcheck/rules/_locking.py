"""Shared helpers of the locking rules: help layout, "is this table live", runner advice.

The registry skips modules whose name starts with ``_``, so nothing here is a rule.
Whether an op does slow work is not decided here: each rule that owns a slow operation
says so in its ``slow_work`` method (see ``Rule.slow_work``), next to its ``check``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from migcheck.context import Context, Transaction
from migcheck.locks import BLOCKS
from migcheck.model import Op, Statement
from migcheck.rules._opcalls import autocommit, execute


def indent(*lines: str) -> str:
    """SQL lines indented four spaces, for multi-line help."""
    return "\n".join("    " + line for line in lines)


def sql_of(stmt: Statement) -> str:
    """The statement as the user wrote it, ending with ``;``, on one line."""
    return " ".join(stmt.text.strip().rstrip(";").split()) + ";"


def blocks(mode: str) -> str:
    """What a lock blocks, as a phrase that can sit mid-sentence (``locks.BLOCKS`` uses
    "writes (...); reads continue", which only works at the end of a sentence)."""
    return BLOCKS.get(mode, "other sessions").replace("; ", ", while ")


def primary_key(ctx: Context, table: str | None) -> str:
    """The table's primary-key column if the history shows a one-column key, else ``id``."""
    for con in ctx.schema.constraints_on(table):
        if con.kind == "primary_key" and len(con.columns) == 1:
            return con.columns[0]
    return "id"


def existing(ctx: Context, table: str | None) -> bool:
    """A table that serves traffic: not created by this deploy (unknown tables count as
    existing), and a real table (views have no rows to scan or rewrite)."""
    if not ctx.is_existing_table(table):
        return False
    info = ctx.table(table)
    return info is None or info.kind == "table"


def adds_column(op: Op, ctx: Context) -> bool:
    """False for ``ADD COLUMN IF NOT EXISTS`` of a column the table already has: PostgreSQL
    skips it with a NOTICE and touches nothing."""
    col = op.column_def
    if col is None:
        return False
    return not (op.options.get("if_not_exists") and ctx.column(op.table, col.name) is not None)


# -- transactions -------------------------------------------------------------------------


def begin_line(tx: Transaction) -> int | None:
    """The line of the BEGIN that opened the explicit transaction ``tx``."""
    for s in tx.statements:
        if s.first_op is not None and s.first_op.kind == "begin":
            return s.span.line
    return None


def why_in_transaction(ctx: Context) -> str:
    """Why the statement runs inside a transaction block, in words."""
    tx = ctx.transaction
    if tx is not None and tx.kind == "explicit":
        line = begin_line(tx)
        return (
            f"the file opens one with BEGIN at line {line}"
            if line
            else "the file opens one with BEGIN"
        )
    if ctx.runner_note:
        return ctx.runner_note
    return "the runner wraps the migration in a transaction"


def outside_tx_advice(ctx: Context, *, block_shown: bool = False) -> str:
    """How to run a statement outside any transaction block with this migration tool;
    ``block_shown``: the help already shows the Alembic call inside its autocommit block."""
    tx = ctx.transaction
    explicit = tx is not None and tx.kind == "explicit"
    tool = ctx.migration.tool
    if explicit:
        base = "Move it out of the BEGIN … COMMIT block"
    else:
        base = "Run it outside any transaction block"
    if tool == "prisma":
        how = (
            "put it alone in its own migration (a migration.sql holding only this statement): "
            "Prisma before 7.4 sends a multi-statement migration.sql as one implicit "
            "transaction, a single statement runs on its own"
        )
    elif tool == "golang-migrate":
        how = (
            "put it alone in its own migration file: golang-migrate sends a file as one "
            "multi-statement query, which PostgreSQL runs as one transaction"
        )
    elif tool == "flyway":
        how = (
            "put it alone in its own migration: Flyway runs a script holding only CREATE "
            "or DROP INDEX CONCURRENTLY outside a transaction by itself; any other "
            "statement needs a script config file next to it (V<n>__<name>.sql.conf) "
            "containing executeInTransaction=false"
        )
    elif tool == "dbmate":
        how = (
            "put it alone in its own migration whose first line is -- migrate:up "
            "transaction:false (dbmate still sends the section as one query, so no other "
            "statement may share it)"
        )
    elif tool == "diesel":
        how = (
            "put it alone in the up.sql of its own migration folder, with "
            "run_in_transaction = false in that folder's metadata.toml"
        )
    elif tool == "alembic":
        # The help renders the call inside the block already (rules/_opcalls.autocommit).
        how = (
            "the `autocommit_block()` above commits the revision's transaction so far and "
            "runs the call outside it"
            if block_shown
            else "wrap the call in `with op.get_context().autocommit_block():`, which commits "
            "the revision's transaction so far and runs the block outside it"
        )
    else:
        how = (
            "put it alone in its own migration, without BEGIN, if your runner sends a file as "
            "one query or wraps it in a transaction"
        )
    return f"{base}: {how}."


def outside_tx(ctx: Context, *sql: str) -> list[str]:
    """Statements that cannot run in a transaction, and how to run them outside one: for
    an Alembic revision, ``op.execute`` calls in an autocommit block say it in code."""
    if ctx.tool == "alembic":
        return [autocommit([execute(s) for s in sql])]
    return [indent(*sql), outside_tx_advice(ctx)]


def own_transaction_note(ctx: Context) -> str:
    """What "a separate migration" takes under Alembic's default, where every revision of
    one upgrade shares a transaction (empty for every other runner)."""
    if ctx.history.tool != "alembic" or ctx.history.settings.get("transaction_per_migration"):
        return ""
    return (
        "\nWith Alembic a separate revision is not enough: `alembic upgrade` runs all pending "
        "revisions in one transaction. Set transaction_per_migration=True in env.py's "
        "context.configure(...), or ship the second step in a later deploy."
    )


_T = TypeVar("_T")


class TxScan(Generic[_T]):
    """What ``extract`` finds in the statements of the current transaction, scanned
    incrementally: the engine calls a rule on the statements of a transaction in order, so
    remembering the transaction keeps a rule linear in its length instead of quadratic."""

    def __init__(self, extract: Callable[[Statement], Iterable[_T]]) -> None:
        self._extract = extract
        self._tx: Transaction | None = None
        self._upto = 0
        self._found: list[_T] = []

    def found(self, tx: Transaction) -> list[_T]:
        if self._tx is not tx:
            self._tx, self._upto, self._found = tx, 0, []
        for s in tx.statements[self._upto :]:
            self._found.extend(self._extract(s))
        self._upto = len(tx.statements)
        return self._found
