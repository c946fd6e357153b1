"""``run_live``: the live check from histories and queries to a ``LiveResult``.

Per history with a changeset: obtain a template with the base schema (``cache.py``),
clone it, check the old app's queries on the base, run the changeset under the tracer,
then check old and new queries on the migrated schema. Old queries that broke are then
re-checked after each changeset statement on a second clone, to name the statement that
broke them. Everything runs inside ``interrupt_on_signals`` and ``opening.open_server``, so the
server and every scratch database are gone however the run ends. Migrations and app
queries run on runner connections (no superuser rights, see ``privileges.py``); lock
sampling and database management use the server's admin connections.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from migcheck.live import catalog, derived
from migcheck.live.classify import HistoryRun, Status, breaks, classify, old_broken
from migcheck.live.errors import LiveError, ensure_live_deps
from migcheck.live.execute import AllowedExtensions, Observer, apply_all
from migcheck.live.plan import MigrationPlan, PlannedStatement, plan_migration
from migcheck.live.privileges import parse_allowed_extensions
from migcheck.live.queries import (
    QueryChecker,
    is_checkable,
    is_single_statement,
    load_query_file,
)
from migcheck.live.results import (
    HistoryResult,
    LiveResult,
    Query,
)
from migcheck.live.signals import interrupt_on_signals
from migcheck.model import InputError
from migcheck.sources import History, Migration

if TYPE_CHECKING:
    import psycopg

    from migcheck.live.cache import TemplateCache
    from migcheck.live.server import Server

Progress = Callable[[str], None]


def run_live(
    histories: list[History],
    *,
    changeset: Sequence[Migration | str] | None = None,
    old_queries: Sequence[str] = (),
    new_queries: Sequence[str] = (),
    pg_bin: str | None = None,
    dsn: str | None = None,
    pg_version: int | None = None,
    statement_timeout_s: float = 60.0,
    prisma_ref: tuple[str, str] | None = None,
    prisma_schema: str | None = None,
    sqlalchemy_metadata: str | None = None,
    sqlalchemy_ref: tuple[str, str] | None = None,
    repo_dir: str = ".",
    cache_dir: str | None = None,
    use_cache: bool = True,
    progress: Progress | None = None,
    allow_extensions: Sequence[str] = (),
) -> LiveResult:
    """Replay, trace and check on a real PostgreSQL; see the package docstring.

    ``changeset``: the migrations to judge (objects or their paths/keys); by default those
    marked ``selected``. Everything before the first of them in a history is the base.
    ``old_queries``/``new_queries``: SQL files or pg_stat_statements exports (.csv/.json).
    ``prisma_ref``/``sqlalchemy_ref``: (old ref, new ref); "" names the working tree.
    ``allow_extensions``: extension names (comma-separated allowed) that migcheck creates
    as superuser when a migration's plain ``CREATE EXTENSION`` asks for them.
    Raises ``LiveError`` when the check cannot run at all, and ``LiveInterrupted`` (a
    ``KeyboardInterrupt``) on SIGINT/SIGTERM, after cleaning up.
    """
    if statement_timeout_s <= 0:
        raise LiveError("the statement timeout must be positive")
    if pg_bin and dsn:
        raise LiveError("--pg-bin and --dsn cannot be used together")
    ensure_live_deps(embedded=not pg_bin and not dsn)
    started = time.perf_counter()
    result = LiveResult()
    old, new = _collect_queries(
        result,
        histories,
        old_queries,
        new_queries,
        prisma_ref,
        prisma_schema,
        sqlalchemy_metadata,
        sqlalchemy_ref,
        repo_dir,
    )
    chosen = _with_changeset(histories, changeset)
    if not chosen:
        result.notes.append("no migrations to check")
        return result
    try:
        runs = _on_server(
            result,
            chosen,
            histories,
            old + new,
            pg_bin,
            dsn,
            pg_version,
            statement_timeout_s,
            use_cache,
            cache_dir,
            progress,
            parse_allowed_extensions(allow_extensions),
        )
    except LiveError:
        raise
    except Exception as err:
        # A lost connection, a full disk: tell the user, without a traceback.
        raise LiveError(f"the live check stopped: {type(err).__name__}: {err}") from err
    classify(result, runs, old + new)
    result.timings["total"] = time.perf_counter() - started
    return result


def _on_server(
    result: LiveResult,
    chosen: list[tuple[History, int]],
    histories: list[History],
    queries: list[Query],
    pg_bin: str | None,
    dsn: str | None,
    pg_version: int | None,
    statement_timeout_s: float,
    use_cache: bool,
    cache_dir: str | None,
    progress: Progress | None,
    allowed: frozenset[str],
) -> list[HistoryRun]:
    from migcheck.live.cache import TemplateCache
    from migcheck.live.opening import open_server

    runs: list[HistoryRun] = []
    with (
        interrupt_on_signals(),
        open_server(
            pg_bin=pg_bin,
            dsn=dsn,
            pg_version=pg_version,
            statement_timeout_s=statement_timeout_s,
            persistent=use_cache,
            cache_dir=cache_dir,
        ) as server,
    ):
        result.server = server.info
        result.notes += server.notes
        result.timings["server_start"] = server.info.start_s
        extensions = AllowedExtensions(allowed, server.create_extension) if allowed else None
        cache = TemplateCache(server, extensions=extensions)
        for history, first in chosen:
            applies = _queries_for(history, histories, queries)
            run = _check_history(server, cache, history, first, applies, progress, extensions)
            runs.append(run)
            result.histories.append(run.result)
    return runs


# -- queries -------------------------------------------------------------------------
def _collect_queries(
    result: LiveResult,
    histories: list[History],
    old_files: Sequence[str],
    new_files: Sequence[str],
    prisma_ref: tuple[str, str] | None,
    prisma_path: str | None,
    sqlalchemy_metadata: str | None,
    sqlalchemy_ref: tuple[str, str] | None,
    repo_dir: str,
) -> tuple[list[Query], list[Query]]:
    found: dict[str, list[Query]] = {"old": [], "new": []}
    for version, files in (("old", old_files), ("new", new_files)):
        for path in files:
            queries, errors = load_query_file(path, version)
            found[version] += queries
            result.input_errors += errors
    if prisma_ref is not None:
        schema_path = prisma_path or derived.find_prisma_schema(histories)
        if schema_path is None:
            result.input_errors.append(
                InputError("prisma", "no schema.prisma found beside the migrations; pass its path")
            )
        else:
            for version, ref in zip(("old", "new"), prisma_ref, strict=True):
                queries, errors = derived.prisma_queries(schema_path, ref, version)
                found[version] += queries
                result.input_errors += errors
    if sqlalchemy_metadata:
        refs = sqlalchemy_ref or ("HEAD", "")
        for version, ref in zip(("old", "new"), refs, strict=True):
            queries, errors = derived.sqlalchemy_queries(
                repo_dir, ref, sqlalchemy_metadata, version
            )
            found[version] += queries
            result.input_errors += errors
    return _usable(result, found["old"]), _usable(result, found["new"])


def _usable(result: LiveResult, queries: list[Query]) -> list[Query]:
    seen: set[str] = set()
    kept = []
    for query in queries:
        if query.text in seen:
            continue
        seen.add(query.text)
        if not is_checkable(query.text):
            result.skipped_queries.append((query, "not a SELECT/INSERT/UPDATE/DELETE"))
        elif not is_single_statement(query.text):
            result.skipped_queries.append((query, "holds more than one statement"))
        else:
            kept.append(query)
    return kept


def _queries_for(history: History, histories: list[History], queries: list[Query]) -> list[Query]:
    """Prisma-derived queries belong to the Prisma history when there is one."""
    has_prisma = any(h.tool == "prisma" for h in histories)
    if history.tool == "prisma" or not has_prisma:
        return queries
    return [q for q in queries if q.source != "prisma"]


# -- histories -----------------------------------------------------------------------
def _with_changeset(
    histories: list[History], changeset: Sequence[Migration | str] | None
) -> list[tuple[History, int]]:
    """(history, index of its first changeset migration) for the histories to check."""

    def chosen(migration: Migration) -> bool:
        if changeset is None:
            return migration.selected
        return any(
            item is migration
            if isinstance(item, Migration)
            else item in (migration.path, migration.key)
            for item in changeset
        )

    picked = []
    for history in histories:
        first = next((i for i, m in enumerate(history.migrations) if chosen(m)), None)
        if first is not None:
            picked.append((history, first))
    if not picked:
        # Nothing selected: check the queries against each full history.
        picked = [(h, len(h.migrations)) for h in histories if h.migrations]
    return picked


def _check_history(
    server: Server,
    cache: TemplateCache,
    history: History,
    first: int,
    queries: list[Query],
    progress: Progress | None,
    extensions: AllowedExtensions | None,
) -> HistoryRun:
    from migcheck.live.trace import Tracer

    plans = [plan_migration(history, m) for m in history.migrations]
    base, change = plans[:first], plans[first:]
    run = HistoryRun(HistoryResult(history.root, history.tool))
    hr = run.result
    hr.base_migrations = len(base)
    hr.changeset = [p.migration.path for p in change]
    hr.run_modes = {p.migration.path: p.mode for p in change}
    if progress is not None:
        progress(f"preparing the base of {history.root} ({len(base)} migrations)")
    clock = time.perf_counter()
    template = cache.obtain(base, progress=progress)
    hr.template = template.info
    hr.timings["base"] = time.perf_counter() - clock
    if template.failure is not None or template.db is None:
        hr.failure = template.failure
        return run
    work = server.new_name("work")
    server.create_database(work, template=template.db)
    conn = server.connect_runner(work)
    try:
        checker = QueryChecker(conn)
        # Old queries must work on the base; new ones failing there show the new app
        # cannot be deployed before the migration.
        for query in queries:
            run.statuses[query] = Status(base=checker.check(query))
        hr.timings["old_queries_on_base"] = time.perf_counter() - clock - hr.timings["base"]
        clock = time.perf_counter()
        tracer = Tracer(catalog.take(conn), lambda: server.connect(work), progress)
        try:
            hr.failure = apply_all(
                conn,
                change,
                statement_timeout_ms=server.statement_timeout_ms,
                in_base=False,
                observer=tracer,
                extensions=extensions,
            )
        finally:
            tracer.close()
            hr.statements = tracer.traces
        hr.timings["changeset"] = time.perf_counter() - clock
        clock = time.perf_counter()
        if hr.failure is None:
            for query in queries:
                status = run.statuses.setdefault(query, Status())
                status.migrated = checker.check(query)
        else:
            hr.notes.append("queries were not checked on the migrated schema: the changeset failed")
    finally:
        conn.close()
        server.drop_database(work)
    hr.queries_checked = len(run.statuses)
    broken = [q for q, s in run.statuses.items() if q.version == "old" and old_broken(s)]
    if broken:
        _attribute(server, template.db, change, broken, run, progress, extensions)
    hr.timings["queries"] = time.perf_counter() - clock
    return run


class _Recheck(Observer):
    """Re-checks broken queries after each statement to find the one that broke them."""

    def __init__(self, checker: QueryChecker, run: HistoryRun, pending: list[Query]) -> None:
        self.checker = checker
        self.run_state = run
        self.pending = pending
        self.traces = {(t.path, t.index): t for t in run.result.statements}

    def run(self, conn: psycopg.Connection, statement: PlannedStatement, in_tx: bool) -> None:
        conn.execute(statement.text)
        for query in list(self.pending):
            outcome = self.checker.check(query, in_tx=in_tx)
            status = self.run_state.statuses[query]
            if breaks(outcome, status.base):
                status.broken_by = self.traces.get((statement.path, statement.index))
                self.pending.remove(query)


def _attribute(
    server: Server,
    template: str,
    change: list[MigrationPlan],
    broken: list[Query],
    run: HistoryRun,
    progress: Progress | None,
    extensions: AllowedExtensions | None,
) -> None:
    if progress is not None:
        progress(f"finding the statements that broke {len(broken)} queries")
    work = server.new_name("work")
    server.create_database(work, template=template)
    conn = server.connect_runner(work)
    try:
        apply_all(
            conn,
            change,
            statement_timeout_ms=server.statement_timeout_ms,
            in_base=False,
            observer=_Recheck(QueryChecker(conn), run, list(broken)),
            extensions=extensions,
        )
    finally:
        conn.close()
        server.drop_database(work)


# The rehearsal (``migcheck.rehearse``) reads the app's queries and picks the changeset
# exactly as the live check does.
collect_queries = _collect_queries
with_changeset = _with_changeset
