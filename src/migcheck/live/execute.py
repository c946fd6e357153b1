"""Run planned migrations on a connection, with the transactions their runner would use.

The connection is in autocommit mode and we issue ``BEGIN``/``COMMIT`` ourselves, so the
same loop serves the plain replay of the base (no observer) and the traced run of the
changeset (an observer wraps every statement). A statement the server rejects stops
the run: its transaction is rolled back, as the runner's would be.

The connection logs in as the runner role (``privileges.py``), so what a migration may
do is bounded by PostgreSQL's privileges, not by recognising statements: whatever needs
more than owning the scratch database fails with SQLSTATE 42501. Two conveniences stay:
``CREATE/ALTER/DROP ROLE`` statements are skipped (roles belong to the whole cluster,
and the runner may not create them), and a GRANT/REVOKE/policy/OWNER TO naming a role
that therefore does not exist is skipped rather than failed. A plain ``CREATE
EXTENSION`` of an extension the user allowed (``--allow-extension``) is carried out by
migcheck as superuser, in the same database, instead of by the migration.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from migcheck.live.plan import MigrationPlan, PlannedStatement, strip_comments
from migcheck.live.privileges import NEEDS_SUPERUSER, ExtensionRequest, allowed_extension
from migcheck.live.results import MigrationFailure

if TYPE_CHECKING:
    import psycopg

_ROLE = re.compile(r"^(create|alter|drop)\s+(role|user|group)\b(?!\s+mapping\b)", re.IGNORECASE)
# Statements that name roles, which were not created (see above).
_NAMES_ROLE = re.compile(
    r"^(grant|revoke|alter\s+default\s+privileges|create\s+policy|alter\s+policy)\b"
    r"|\bowner\s+to\b",
    re.IGNORECASE,
)
_EXTENSION = re.compile(r"^create\s+extension\b", re.IGNORECASE)
_TIMEOUT = re.compile(r"statement_timeout", re.IGNORECASE)
_UNDEFINED_OBJECT = frozenset({"42704"})
ROLE_SKIPPED = "creates or changes a role: roles belong to the whole cluster, not the schema"
ROLE_MISSING = "names a role, and the live check creates no roles"


@dataclass(frozen=True)
class AllowedExtensions:
    """Extensions the person running migcheck allowed, and how to create one as
    superuser: ``create(dbname, extension, schema)``."""

    names: frozenset[str]
    create: Callable[[str, str, str], None]


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
        observer: Observer | None = None,
        in_base: bool = False,
        extensions: AllowedExtensions | None = None,
    ) -> None:
        self.conn = conn
        self.timeout_ms = statement_timeout_ms
        self.extensions = extensions
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
        if _ROLE.match(bare):
            self.observer.skipped(statement, ROLE_SKIPPED)
            return None
        if statement.autocommit and self.in_tx:
            self._end("COMMIT")
        if plan.wrap and not self.in_tx and not statement.autocommit:
            self.conn.execute("BEGIN")
            self.in_tx = True
        request = (
            allowed_extension(bare, self.extensions.names) if self.extensions is not None else None
        )
        try:
            if request is not None and self._create_allowed(statement, request):
                pass
            elif _NAMES_ROLE.search(bare):
                self._tolerant(statement, _UNDEFINED_OBJECT, ROLE_MISSING)
            else:
                self.observer.run(self.conn, statement, self.in_tx)
        except psycopg.Error as err:
            message, sqlstate = describe_error(err)
            if _EXTENSION.match(bare) and sqlstate in ("0A000", "58P01"):
                message += (
                    " (this server lacks the extension: pass --pg-bin or --dsn for a "
                    "PostgreSQL that has it)"
                )
            elif _EXTENSION.match(bare) and sqlstate == NEEDS_SUPERUSER:
                message += (
                    " (an untrusted extension: pass --allow-extension with its name to "
                    "let migcheck create it as superuser)"
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

    def _create_allowed(self, statement: PlannedStatement, request: ExtensionRequest) -> bool:
        """Create an allowed extension as superuser in place of the statement; False
        when the statement should run itself (a plain CREATE of one that exists fails
        as it would in production)."""
        assert self.extensions is not None
        exists = self.conn.execute(
            "SELECT 1 FROM pg_catalog.pg_extension WHERE extname = %s", (request.name,)
        ).fetchone()
        if exists is not None and not request.if_not_exists:
            return False
        if exists is None:
            schema = request.schema
            if schema is None:
                # Where the migration's own CREATE EXTENSION would have put it.
                row = self.conn.execute("SELECT pg_catalog.current_schema()").fetchone()
                schema = row[0] if row else None
            if schema is None:
                return False
            self.extensions.create(self.conn.info.dbname, request.name, str(schema))
        self.observer.skipped(
            statement, f"created by migcheck as superuser (--allow-extension {request.name})"
        )
        return True

    def _tolerant(self, statement: PlannedStatement, codes: frozenset[str], reason: str) -> None:
        """Run a statement; if it fails with one of ``codes`` (it names a role that was
        not created), skip it with ``reason``."""
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
    in_base: bool,
    observer: Observer | None = None,
    progress: Callable[[str], None] | None = None,
    extensions: AllowedExtensions | None = None,
) -> MigrationFailure | None:
    """Apply ``plans`` in order; the first failure stops and is returned."""
    executor = Executor(
        conn,
        statement_timeout_ms=statement_timeout_ms,
        observer=observer,
        in_base=in_base,
        extensions=extensions,
    )
    for plan in plans:
        if progress is not None:
            progress(f"applying {plan.migration.path}")
        failure = executor.apply(plan)
        if failure is not None:
            return failure
    return None
