"""How a migration runner would send a migration: its statements and its transactions.

* Prisma and golang-migrate send the whole file as one query string, which PostgreSQL
  runs as one implicit transaction; a file containing ``CONCURRENTLY`` is run statement
  by statement instead (each in its own transaction).
* Flyway, dbmate and Alembic open one transaction per migration (the sources clear
  ``runner_transaction`` where the file or its configuration turns that off; Flyway also
  runs a script with a statement it detects as non-transactional without one).
* Other SQL (psql-style files) runs statement by statement, autocommitted.

In every mode an explicit ``BEGIN``/``COMMIT`` in the file is honoured. Alembic's
``autocommit_block()`` chunks run outside the migration's transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from migcheck import flyway
from migcheck.model import Span
from migcheck.sources import History, Migration

IMPLICIT_TX_TOOLS = frozenset({"prisma", "golang-migrate"})
FILE_TX_TOOLS = frozenset({"flyway", "dbmate", "alembic"})

_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_CONCURRENTLY = re.compile(r"\bconcurrently\b", re.IGNORECASE)
_BEGIN = re.compile(r"^(begin|start\s+transaction)\b(?!\s+atomic)", re.IGNORECASE)
_COMMIT = re.compile(r"^(commit|end)\b(?!\s+prepared)", re.IGNORECASE)
_ROLLBACK = re.compile(r"^(rollback|abort)\b(?!\s+(to|prepared)\b)", re.IGNORECASE)


@dataclass
class PlannedStatement:
    path: str
    index: int
    text: str
    span: Span | None
    # Must run outside the migration's transaction (Alembic ``autocommit_block``).
    autocommit: bool = False
    # "begin" | "commit" | "rollback" when the file controls its own transaction.
    control: str | None = None


@dataclass
class MigrationPlan:
    migration: Migration
    statements: list[PlannedStatement] = field(default_factory=list)
    # The runner wraps the whole migration in one transaction.
    wrap: bool = False
    mode: str = ""  # a sentence describing the assumption, for reports
    # Why the migration cannot be run faithfully (unreadable, does not split).
    error: str | None = None


def strip_comments(text: str) -> str:
    return _COMMENTS.sub(" ", text).strip()


def control_kind(text: str) -> str | None:
    """The kind of a transaction control statement ("begin", "commit", "rollback"), else None."""
    bare = strip_comments(text)
    if _BEGIN.match(bare):
        return "begin"
    if _COMMIT.match(bare):
        return "commit"
    if _ROLLBACK.match(bare):
        return "rollback"
    return None


def plan_migration(history: History, migration: Migration) -> MigrationPlan:
    plan = MigrationPlan(migration)
    if migration.chunks is not None:
        _plan_chunks(plan)
    elif migration.text is not None:
        _add_statements(plan, migration.text, line_offset=0, autocommit=False)
    else:
        plan.error = "the migration could not be read"
    concurrent = any(_CONCURRENTLY.search(strip_comments(s.text)) for s in plan.statements)
    tool = migration.tool or history.tool
    if tool in IMPLICIT_TX_TOOLS or migration.notes.get("implicit_transaction"):
        plan.wrap = not concurrent
        plan.mode = (
            "statement by statement (the file uses CONCURRENTLY)"
            if concurrent
            else "as one implicit transaction (the file is sent as one query string)"
        )
    elif tool in FILE_TX_TOOLS or migration.runner_transaction:
        plan.wrap = migration.runner_transaction or tool == "alembic"
        if plan.wrap and tool == "flyway" and "execute_in_transaction" not in migration.notes:
            # Flyway runs a script with a statement it detects (CREATE INDEX CONCURRENTLY,
            # VACUUM, …) without a transaction (migcheck.flyway; 12: ADD VALUE, which it
            # detects only on older servers, stays transactional).
            plan.wrap = not flyway.outside_statements([s.text for s in plan.statements], 12)
        plan.mode = "in one transaction per migration" if plan.wrap else "without a transaction"
    else:
        plan.wrap = migration.runner_transaction
        plan.mode = "in one transaction" if plan.wrap else "statement by statement (autocommit)"
    return plan


def _plan_chunks(plan: MigrationPlan) -> None:
    for chunk in plan.migration.chunks or []:
        start = len(plan.statements)
        if chunk.sql_line is not None:
            _add_statements(plan, chunk.sql, chunk.sql_line - 1, chunk.autocommit)
        else:
            # Positions inside the SQL are unknown: report every statement at the call.
            _add_statements(plan, chunk.sql, 0, chunk.autocommit)
            span = Span(chunk.line, chunk.column, chunk.end_line, chunk.end_column)
            for statement in plan.statements[start:]:
                statement.span = span


def _add_statements(plan: MigrationPlan, text: str, line_offset: int, autocommit: bool) -> None:
    from migcheck.sql.split import split_sql  # sqlglot: imported only when a check runs

    result = split_sql(text)
    for raw in result.statements:
        span = raw.span
        if line_offset:
            span = Span(
                span.line + line_offset,
                span.column,
                span.end_line + line_offset,
                span.end_column,
                span.start,
                span.end,
            )
        plan.statements.append(
            PlannedStatement(
                path=plan.migration.path,
                index=len(plan.statements),
                text=raw.text,
                span=span,
                autocommit=autocommit,
                control=control_kind(raw.text),
            )
        )
    if result.errors and plan.error is None:
        first = result.errors[0]
        plan.error = f"line {first.line + line_offset}: {first.message}"


def content_fingerprint(plan: MigrationPlan) -> str:
    """What of a migration decides the schema it builds: its statements and how they
    are sent. The template cache key is made of these."""
    parts = [plan.migration.tool, str(plan.wrap), plan.error or ""]
    for statement in plan.statements:
        parts.append(f"{int(statement.autocommit)}:{statement.text}")
    return "\x1f".join(parts)
