"""What a rule knows beyond the statement itself: version, transaction, schema, deploy.

The engine builds one ``Context`` per statement *before* the statement is applied to
the schema model, so ``ctx.schema`` always describes the database as the statement
finds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from migcheck.model import Op, RuleOptions, Statement
from migcheck.schema import ColumnInfo, Origin, Schema, TableInfo
from migcheck.sources import History, Migration


@dataclass
class Transaction:
    """The transaction a statement runs in (or the autocommit "transaction" of one statement)."""

    id: int
    explicit: bool  # opened by BEGIN in the file (vs the runner's or PostgreSQL's implicit one)
    kind: str  # "explicit" | "runner" | "implicit" | "autocommit"
    statements: list[Statement] = field(default_factory=list)
    # Tables on which an ACCESS EXCLUSIVE lock is held, with the statement that took it.
    exclusive_locks: dict[str, Statement] = field(default_factory=dict)
    # Constraints added NOT VALID in this transaction: (table, name).
    not_valid_added: set[tuple[str, str]] = field(default_factory=set)
    # Tables whose schema this transaction changed (DDL), for backfill advice.
    ddl_tables: set[str] = field(default_factory=set)


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
    # rules that look ahead (a view recreated later in the same transaction...).
    statements: list[Statement] = field(default_factory=list)
    statement_index: int = 0

    def later_statements(self) -> list[Statement]:
        return self.statements[self.statement_index + 1 :]

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
