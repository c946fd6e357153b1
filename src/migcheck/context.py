"""What a rule knows beyond the statement itself: version, transaction, schema, deploy.

The engine builds one ``Context`` per statement *before* the statement is applied to
the schema model, so ``ctx.schema`` always describes the database as the statement
finds it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

from migcheck.model import Op, RuleOptions, Statement
from migcheck.schema import ColumnInfo, Origin, Schema, TableInfo
from migcheck.sources import History, Migration


@dataclass
class Transaction:
    """The transaction a statement runs in (or the autocommit "transaction" of one statement)."""

    id: int
    explicit: bool  # opened by BEGIN in the file (vs the runner's or PostgreSQL's implicit one)
    kind: str  # "explicit" | "runner" | "implicit" | "do" | "autocommit"
    statements: list[Statement] = field(default_factory=list)
    # Tables on which an ACCESS EXCLUSIVE lock is held, with the statement that took it.
    exclusive_locks: dict[str, Statement] = field(default_factory=dict)
    # Constraints added NOT VALID in this transaction: (table, name).
    not_valid_added: set[tuple[str, str]] = field(default_factory=set)
    # Tables whose schema this transaction changed (DDL), for backfill advice.
    ddl_tables: set[str] = field(default_factory=set)
    # What ``Context.recreated_in_transaction`` found ahead, by op kinds: kept here so a
    # transaction's statements are read ahead once, not once per statement that asks.
    lookahead: dict[frozenset[str], _Ahead] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class _Ahead:
    """The statements of a migration from ``start`` (exclusive) to the first COMMIT or
    ROLLBACK after it (``end``, None when the file has none), and where in that range each
    name is created by an op of the kinds asked about."""

    statements: list[Statement]
    start: int
    end: int | None
    creates: dict[str, list[int]]

    def covers(self, statements: list[Statement], position: int) -> bool:
        return (
            statements is self.statements
            and self.start <= position
            and (self.end is None or position < self.end)
        )

    @classmethod
    def read(cls, statements: list[Statement], start: int, kinds: frozenset[str]) -> _Ahead:
        creates: dict[str, list[int]] = {}
        for pos in range(start + 1, len(statements)):
            ops = statements[pos].ops
            # COMMIT and ROLLBACK end even PostgreSQL's implicit transaction around a
            # multi-statement query; a BEGIN inside it does not.
            if any(op.kind in ("commit", "rollback") for op in ops):
                return cls(statements, start, pos, creates)
            for op in ops:
                if op.kind in kinds and op.table:
                    creates.setdefault(op.table, []).append(pos)
        return cls(statements, start, None, creates)


@dataclass
class Context:
    pg_version: int
    schema: Schema
    history: History
    migration: Migration
    migration_index: int
    deploy: int
    transaction: Transaction | None
    # The session settings made so far in this migration (name → value), e.g. lock_timeout.
    settings: dict[str, str] = field(default_factory=dict)
    # How the runner treats this file, in words, for messages ("Prisma 5.22 sends ...").
    runner_note: str = ""
    # Rule options from configuration (e.g. lock_timeout_role_level).
    options: RuleOptions = field(default_factory=RuleOptions)
    # Every statement of this migration, and the position of the one being checked, for
    # rules that look around it (the methods below are the one way they do).
    statements: list[Statement] = field(default_factory=list)
    statement_index: int = 0
    # Ids of the rules this run runs: where two rules see one problem, the one that
    # explains less leaves it to the other only when that one runs (``reports``).
    enabled: frozenset[str] = frozenset()

    def earlier_statements(self) -> list[Statement]:
        """The statements of this migration before the one being checked, in file order."""
        return self.statements[: self.statement_index]

    def later_statements(self) -> list[Statement]:
        """The statements of this migration after the one being checked, in file order."""
        return self.statements[self.statement_index + 1 :]

    def ops_before(self) -> Iterator[Op]:
        """Ops of the statements of this migration that run before this one, in order."""
        for k in range(min(self.statement_index, len(self.statements))):
            yield from self.statements[k].ops

    def ops_after(self) -> Iterator[Op]:
        """Ops of the statements of this migration that run after this one, in order
        (lazily: callers stop at the first answer, so a huge file is not walked once per
        statement)."""
        for k in range(self.statement_index + 1, len(self.statements)):
            yield from self.statements[k].ops

    def recreated_in_transaction(self, name: str | None, kinds: frozenset[str]) -> bool:
        """Whether a later statement of this migration creates ``name`` again (an op of one
        of ``kinds``) before the transaction ends, so no other session ever sees it
        missing."""
        tx = self.transaction
        if tx is None or not self.in_transaction or not name:
            return False
        pos = self.statement_index
        ahead = tx.lookahead.get(kinds)
        if ahead is None or not ahead.covers(self.statements, pos):
            ahead = tx.lookahead[kinds] = _Ahead.read(self.statements, pos, kinds)
        later = ahead.creates.get(name, [])
        return bisect_right(later, pos) < len(later)

    def reports(self, rule_id: str) -> bool:
        """Whether rule ``rule_id`` runs in this lint (selected and not ignored)."""
        return rule_id in self.enabled

    @property
    def is_prisma(self) -> bool:
        """Whether Prisma runs this migration (its help differs: schema.prisma, migrate)."""
        return self.migration.tool == "prisma" or self.history.tool == "prisma"

    @property
    def tool(self) -> str:
        """The tool the user writes this migration in: ``prisma``, ``alembic`` (``op.``
        calls and SQLAlchemy models) or ``sql``, so help speaks its language only."""
        if self.is_prisma:
            return "prisma"
        return "alembic" if self.migration.tool == "alembic" else "sql"

    @property
    def in_transaction(self) -> bool:
        return self.transaction is not None and self.transaction.kind != "autocommit"

    def table(self, name: str | None) -> TableInfo | None:
        return self.schema.table(name)

    def column(self, table: str | None, column: str | None) -> ColumnInfo | None:
        return self.schema.column(table, column)

    def is_new(self, origin: Origin | None) -> bool:
        """Created by the deploy being judged (so no running code depends on it yet)."""
        return origin is not None and origin.deploy == self.deploy

    def is_new_table(self, name: str | None) -> bool:
        t = self.table(name)
        return t is not None and self.is_new(t.origin)

    def is_existing_table(self, name: str | None) -> bool:
        """True unless the table was created in this deploy. An unknown table counts as
        existing: the history may not start at the beginning."""
        return not self.is_new_table(name)

    def is_new_column(self, table: str | None, column: str | None) -> bool:
        col = self.column(table, column)
        return self.is_new_table(table) or (col is not None and self.is_new(col.origin))

    def created_in_this_migration(self, origin: Origin | None) -> bool:
        return (
            origin is not None
            and origin.deploy == self.deploy
            and origin.migration == self.migration_index
        )

    def table_for(self, op: Op) -> str | None:
        """The table an op acts on, looking through indexes for DROP INDEX and friends."""
        if op.table:
            return op.table
        return self.schema.table_of_index(op.name)
