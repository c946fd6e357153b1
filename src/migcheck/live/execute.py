"""Run planned migrations on a connection, with the transactions their runner would use.

The connection is in autocommit mode and we issue ``BEGIN``/``COMMIT`` ourselves, so the
same loop serves the plain replay of the base (no observer) and the traced run of the
changeset (an observer wraps every statement). A statement the server rejects stops
the run: its transaction is rolled back, as the runner's would be.

Statements that act on the whole cluster (databases, roles, tablespaces, ALTER SYSTEM)
are not the schema under test. On a server given by DSN they are skipped, so nothing
outside our scratch databases changes; on our own cluster roles are created (later GRANTs
need them) and a role that already exists from an earlier run is not an error.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from migcheck.live.plan import MigrationPlan, PlannedStatement, strip_comments
from migcheck.live.results import MigrationFailure

if TYPE_CHECKING:
    import psycopg

_ROLE = re.compile(r"^(create|alter|drop)\s+(role|user|group)\b(?!\s+mapping\b)", re.IGNORECASE)
_CLUSTER = re.compile(
    r"^((create|alter|drop)\s+(database|tablespace|subscription)|alter\s+system)\b",
    re.IGNORECASE,
)
# Statements that name roles: on a DSN server the roles were not created (see above).
_NAMES_ROLE = re.compile(
    r"^(grant|revoke|alter\s+default\s+privileges|create\s+policy|alter\s+policy)\b"
    r"|\bowner\s+to\b",
    re.IGNORECASE,
)
_EXTENSION = re.compile(r"^create\s+extension\b", re.IGNORECASE)
_TIMEOUT = re.compile(r"statement_timeout", re.IGNORECASE)
# duplicate_object (role exists), undefined_object (role missing on DROP/ALTER)
_ROLE_TOLERATED = frozenset({"42710", "42704"})
_UNDEFINED_OBJECT = frozenset({"42704"})


def describe_error(err: Exception) -> tuple[str, str | None]:
    """(message, sqlstate) of a psycopg error, with its DETAIL and HINT."""
    diag = getattr(err, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    lines = str(err).strip().splitlines()
    message = primary or (lines[0] if lines else repr(err))
    if diag is not None:
        if diag.message_detail:
            message += f" (DETAIL: {diag.message_detail})"
        if diag.message_hint:
            message += f" (HINT: {diag.message_hint})"
    return message, getattr(err, "sqlstate", None)


class Observer:
    """Hooks around each statement; the base class only executes."""

    def run(self, conn: psycopg.Connection, statement: PlannedStatement, in_tx: bool) -> None:
        conn.execute(statement.text)

    def control(self, statement: PlannedStatement, kind: str) -> None:
        """A BEGIN/COMMIT/ROLLBACK written in the file was executed."""

    def skipped(self, statement: PlannedStatement, reason: str) -> None:
        """A statement was deliberately not run."""

    def failed(self, statement: PlannedStatement, message: str, sqlstate: str | None) -> None:
        """The server rejected the statement; the run stops."""

    def transaction_ended(self) -> None:
        """A transaction committed or rolled back: new objects are now visible to all."""


class Executor:
    def __init__(
        self,
        conn: psycopg.Connection,
        *,
        statement_timeout_ms: int,
        external: bool,
        observer: Observer | None = None,
        in_base: bool = False,
    ) -> None:
        self.conn = conn
        self.timeout_ms = statement_timeout_ms
        self.external = external
        self.observer = observer or Observer()
        self.in_base = in_base
        self.in_tx = False

    def apply(self, plan: MigrationPlan) -> MigrationFailure | None:
        if plan.error is not None:
            return MigrationFailure(
                plan.migration.path, None, "", f"cannot run: {plan.error}", None, self.in_base
            )
        try:
            for statement in plan.statements:
                failure = self._one(plan, statement)
                if failure is not None:
                    return failure
            if self.in_tx:
                self._end("COMMIT")
        except BaseException:
            # An interrupt mid-transaction: leave the connection usable for cleanup.
            if self.in_tx:
                self._quiet_rollback()
            raise
        return None

    def _one(self, plan: MigrationPlan, statement: PlannedStatement) -> MigrationFailure | None:
        import psycopg

        if statement.control is not None:
            return self._control(statement)
        bare = strip_comments(statement.text)
        if not bare:
            return None
        if _CLUSTER.match(bare) or (self.external and _ROLE.match(bare)):
            self.observer.skipped(statement, "acts on the whole cluster, not the schema")
            return None
        if statement.autocommit and self.in_tx:
            self._end("COMMIT")
        if plan.wrap and not self.in_tx and not statement.autocommit:
            self.conn.execute("BEGIN")
            self.in_tx = True
        try:
            if _ROLE.match(bare):
                self._tolerant(statement, _ROLE_TOLERATED, "the role already exists on the server")
            elif self.external and _NAMES_ROLE.search(bare):
                self._tolerant(
                    statement,
                    _UNDEFINED_OBJECT,
                    "names a role, and roles are not created on a --dsn server",
                )
            else:
                self.observer.run(self.conn, statement, self.in_tx)
        except psycopg.Error as err:
            message, sqlstate = describe_error(err)
            if _EXTENSION.match(bare) and sqlstate in ("0A000", "58P01"):
                message += (
                    " (this server lacks the extension: pass --pg-bin or --dsn for a "
                    "PostgreSQL that has it)"
                )
            self.observer.failed(statement, message, sqlstate)
            if self.in_tx:
                self._quiet_rollback()
            return MigrationFailure(
                statement.path, statement.span, statement.text, message, sqlstate, self.in_base
            )
        if _TIMEOUT.search(bare):
            # Our timeout is a safety net the migration must not lift.
            self.conn.execute(f"SET statement_timeout = {self.timeout_ms}")
        return None

    def _tolerant(self, statement: PlannedStatement, codes: frozenset[str], reason: str) -> None:
        """Run a statement; if it fails with one of ``codes`` (a role an earlier run
        already created, a role we did not create), skip it with ``reason``."""
        import psycopg

        def attempt() -> None:
            self.observer.run(self.conn, statement, self.in_tx)

        if not self.in_tx:
            try:
                attempt()
            except psycopg.Error as err:
                if err.sqlstate not in codes:
                    raise
                self.observer.skipped(statement, reason)
            return
        self.conn.execute("SAVEPOINT migcheck_tolerant")
        try:
            attempt()
        except psycopg.Error as err:
            if err.sqlstate not in codes:
                raise
            self.conn.execute("ROLLBACK TO SAVEPOINT migcheck_tolerant")
            self.observer.skipped(statement, reason)
        self.conn.execute("RELEASE SAVEPOINT migcheck_tolerant")

    def _control(self, statement: PlannedStatement) -> MigrationFailure | None:
        kind = statement.control or ""
        if kind == "begin":
            if not self.in_tx:
                self.conn.execute("BEGIN")
                self.in_tx = True
        elif self.in_tx:
            self._end("COMMIT" if kind == "commit" else "ROLLBACK")
        self.observer.control(statement, kind)
        return None

    def _end(self, command: str) -> None:
        self.conn.execute(command)
        self.in_tx = False
        self.observer.transaction_ended()

    def _quiet_rollback(self) -> None:
        # A broken connection cannot roll back; the caller abandons it then.
        with contextlib.suppress(Exception):
            self.conn.execute("ROLLBACK")
        self.in_tx = False
        self.observer.transaction_ended()


def apply_all(
    conn: psycopg.Connection,
    plans: list[MigrationPlan],
    *,
    statement_timeout_ms: int,
    external: bool,
    in_base: bool,
    observer: Observer | None = None,
    progress: Callable[[str], None] | None = None,
) -> MigrationFailure | None:
    """Apply ``plans`` in order; the first failure stops and is returned."""
    executor = Executor(
        conn,
        statement_timeout_ms=statement_timeout_ms,
        external=external,
        observer=observer,
        in_base=in_base,
    )
    for plan in plans:
        if progress is not None:
            progress(f"applying {plan.migration.path}")
        failure = executor.apply(plan)
        if failure is not None:
            return failure
    return None
