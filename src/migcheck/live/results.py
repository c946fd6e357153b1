"""The results of a live check, as plain dataclasses.

Nothing here talks to a server: ``report.py`` turns these into findings and comments, and
the CLI can serialise them with ``dataclasses.asdict``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from migcheck.model import InputError, Span


@dataclass(frozen=True)
class LockInfo:
    """A lock a statement acquired on a relation (taken anew by that statement)."""

    relation: str  # schema-qualified name, e.g. ``public.users``
    kind: str  # "table", "index", "sequence", "view", "materialized view", ...
    mode: str  # "ACCESS EXCLUSIVE", "SHARE", ...
    blocks: str  # "reads and writes" | "writes" | "neither reads nor writes"
    # The relation existed before the changeset, so production traffic uses it. Locks on
    # objects the changeset created itself block nobody.
    existing: bool
    # True when the statement ran inside a transaction: the lock then stays held until
    # that transaction commits, not just while the statement runs.
    held_to_commit: bool
    # Set when an earlier statement of the same transaction took this lock ("path:line"):
    # this statement works under it without taking it again.
    since: str | None = None


@dataclass(frozen=True)
class SchemaChange:
    """One difference between the catalogs before and after a statement."""

    kind: str  # see ``catalog.CHANGE_KINDS``
    object: str  # what changed, e.g. ``public.users.email`` or ``public.users_email_idx``
    table: str | None = None
    column: str | None = None
    before: str | None = None
    after: str | None = None
    # The statement's text does not name the changed object (a DO block, a function, a
    # trigger): a reader of the migration, or the static linter, would not see it.
    hidden: bool = False

    def describe(self) -> str:
        what = self.kind.replace("_", " ")
        if self.before is not None and self.after is not None:
            return f"{what}: {self.object} ({self.before} → {self.after})"
        if self.after is not None:
            return f"{what}: {self.object} ({self.after})"
        if self.before is not None:
            return f"{what}: {self.object} (was {self.before})"
        return f"{what}: {self.object}"


@dataclass
class StatementTrace:
    """What one changeset statement did on the server."""

    path: str
    index: int  # 0-based position among the migration's statements
    span: Span | None
    text: str
    in_transaction: bool = False
    duration_s: float = 0.0
    locks: list[LockInfo] = field(default_factory=list)
    rewrites: list[str] = field(default_factory=list)  # relations whose storage was rewritten
    scanned: list[str] = field(default_factory=list)  # existing tables read in full
    changes: list[SchemaChange] = field(default_factory=list)
    error: str | None = None
    sqlstate: str | None = None
    # Set when the statement was deliberately not run, with the reason.
    skipped: str | None = None
    # "begin" / "commit" / "rollback" for transaction control statements of the file.
    control: str | None = None

    @property
    def line(self) -> int:
        return self.span.line if self.span else 1

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Query:
    """One application query: where it came from and which app version runs it."""

    text: str
    origin: str  # "queries/old.sql:12", "prisma User.create (required fields) @ main"
    version: str  # "old" | "new"
    source: str  # "sql" | "pg_stat_statements" | "prisma" | "sqlalchemy"
    path: str | None = None
    line: int | None = None
    # For derived queries, the model/table they belong to (Prisma models apply to the
    # Prisma history only).
    model: str | None = None
    # pg_stat_statements' ``calls`` when the export has it: the rehearsal's traffic weight.
    calls: int | None = None


@dataclass(frozen=True)
class QueryError:
    """How a query failed on a server."""

    stage: str  # "prepare" | "execute"
    sqlstate: str
    message: str


@dataclass
class QueryProblem:
    """A query that fails: broken by the changeset, or already invalid on the base."""

    query: Query
    error: QueryError
    # The changeset statement after which the query first fails, if it was found.
    broken_by: StatementTrace | None = None
    history: str = ""
    # The schema the error came from: "migrated" (after the changeset) or "base".
    against: str = "migrated"


@dataclass
class MigrationFailure:
    """A migration statement the server rejected."""

    path: str
    span: Span | None
    text: str
    message: str
    sqlstate: str | None
    in_base: bool  # True: replaying the history before the changeset failed

    @property
    def line(self) -> int:
        return self.span.line if self.span else 1


@dataclass
class TemplateInfo:
    """How the base schema was obtained."""

    key: str
    migrations: int  # base migrations in the template
    cached: bool  # True: the whole base came from the cache
    replayed: int  # migrations replayed this run (0 on a full cache hit)
    seconds: float


@dataclass
class HistoryResult:
    root: str
    tool: str
    base_migrations: int = 0
    changeset: list[str] = field(default_factory=list)  # migration paths
    template: TemplateInfo | None = None
    statements: list[StatementTrace] = field(default_factory=list)
    failure: MigrationFailure | None = None
    queries_checked: int = 0
    # How each changeset migration was sent, e.g. "as one implicit transaction ...".
    run_modes: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase


@dataclass
class ServerInfo:
    kind: str  # "embedded" | "pg_bin" | "dsn"
    version: str  # "18.4"
    version_num: int  # 180004
    start_s: float = 0.0
    persistent: bool = False  # the template cache outlives this run
    detail: str = ""  # the bin directory or a DSN with the password removed


@dataclass
class LiveResult:
    server: ServerInfo | None = None
    histories: list[HistoryResult] = field(default_factory=list)
    broken_queries: list[QueryProblem] = field(default_factory=list)
    # Old queries that fail on the base schema already: the query file's fault.
    invalid_queries: list[QueryProblem] = field(default_factory=list)
    # New queries that fail on the base schema but work after the changeset: the new
    # app cannot be deployed before the migration.
    needs_migration: list[QueryProblem] = field(default_factory=list)
    # Queries whose sample execution failed for data reasons only (a foreign key, a
    # CHECK on the sample value...): the schema accepted them, the check is inconclusive.
    inconclusive_queries: list[QueryProblem] = field(default_factory=list)
    skipped_queries: list[tuple[Query, str]] = field(default_factory=list)
    queries_checked: int = 0
    input_errors: list[InputError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.broken_queries and not any(h.failure for h in self.histories)

    @property
    def no_safe_deploy_order(self) -> bool:
        """The old app breaks after the migration and the new app needs it first: no
        order of deploy and migration keeps the application working."""
        old_broken = any(p.query.version == "old" for p in self.broken_queries)
        return old_broken and bool(self.needs_migration)
