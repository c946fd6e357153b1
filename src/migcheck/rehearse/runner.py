"""``run_rehearsal``: from histories and options to measured figures.

Per history with a changeset: the base schema from the live check's template cache,
then a seeded template (cached under the base's key and the volume), then one or two
passes on fresh clones of it. A pass starts the sampler and the clients, lets the
traffic run alone for the warm-up, runs the changeset with the live check's runner
semantics under the tracer, lets the traffic run through the cool-down, and stops
everything. Under ``--long-transaction``, when the changeset sets no ``lock_timeout``,
a second pass runs the same changeset with one set, so both outcomes are shown.

Everything runs inside ``interrupt_on_signals`` and ``open_server``: SIGINT or SIGTERM
stops the clients, drops the scratch databases and stops the server.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from migcheck.live import catalog
from migcheck.live.errors import LiveError, ensure_live_deps
from migcheck.live.execute import AllowedExtensions, apply_all
from migcheck.live.plan import MigrationPlan, plan_migration, strip_comments
from migcheck.live.privileges import parse_allowed_extensions
from migcheck.live.results import LiveResult, MigrationFailure, Query, ServerInfo
from migcheck.live.runner import collect_queries, with_changeset
from migcheck.live.signals import interrupt_on_signals
from migcheck.model import InputError, Span
from migcheck.rehearse.options import RehearseOptions
from migcheck.sources import History
from migcheck.tablestats import TableStats

if TYPE_CHECKING:
    import psycopg

    from migcheck.live.cache import TemplateCache
    from migcheck.live.server import Server
    from migcheck.rehearse.binding import Workload
    from migcheck.rehearse.tables import Table

Progress = Callable[[str], None]
Bar = Callable[[str, int, int], None]
_SETS_LOCK_TIMEOUT = re.compile(r"\block_timeout\b", re.IGNORECASE)
_APP = "migcheck-rehearse-app"


@dataclass
class Pass:
    """One run of the changeset under traffic."""

    baseline: dict[str, object] = field(default_factory=dict)
    statements: list[dict[str, object]] = field(default_factory=list)
    timeline: list[dict[str, object]] = field(default_factory=list)
    failure: MigrationFailure | None = None
    lock_timeout_ms: int | None = None
    queries_run: int = 0
    # Where each statement is in its file (parallel to ``statements``), for findings.
    spans: list[Span | None] = field(default_factory=list)
    # Per app query: {"origin", "weight", "queries", "errors"} over the whole pass.
    mix: list[dict[str, object]] = field(default_factory=list)


@dataclass
class RehearseResult:
    server: ServerInfo | None = None
    input_errors: list[InputError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # About the workload rather than the migration (a baseline that already times out).
    warnings: list[str] = field(default_factory=list)
    seeded: dict[str, int] = field(default_factory=dict)
    seed_problems: list[str] = field(default_factory=list)
    seed_cached: bool = False
    seed_seconds: float = 0.0
    passes: list[Pass] = field(default_factory=list)  # the rehearsal, then with lock_timeout
    base_failure: MigrationFailure | None = None
    sets_lock_timeout: bool = False


def run_rehearsal(
    histories: list[History],
    *,
    options: RehearseOptions,
    old_queries: Sequence[str] = (),
    stats: TableStats | None = None,
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
    bar: Bar | None = None,
    allow_extensions: Sequence[str] = (),
) -> RehearseResult:
    """Rehearse the selected changeset; raises ``LiveError`` when it cannot run and
    ``LiveInterrupted`` on SIGINT/SIGTERM, after cleaning up."""
    options.validate()
    if statement_timeout_s <= 0:
        raise LiveError("the statement timeout must be positive")
    if pg_bin and dsn:
        raise LiveError("--pg-bin and --dsn cannot be used together")
    ensure_live_deps(embedded=not pg_bin and not dsn)
    result = RehearseResult()
    collected = LiveResult()
    old, _ = collect_queries(
        collected,
        histories,
        old_queries,
        (),
        prisma_ref,
        prisma_schema,
        sqlalchemy_metadata,
        sqlalchemy_ref,
        repo_dir,
    )
    result.input_errors += collected.input_errors
    for query, reason in collected.skipped_queries:
        result.notes.append(f"{query.origin}: not replayed: {reason}")
    # An export's calls column weighs its queries, as the stats file's do.
    weighted = [(q, float(q.calls if q.calls is not None else 1)) for q in old]
    weighted = [(q, w) for q, w in weighted if w > 0] + _stats_queries(stats, result)
    chosen = with_changeset(histories, None)
    chosen = [(h, first) for h, first in chosen if first < len(h.migrations)]
    if not chosen:
        result.notes.append("no changeset to rehearse")
        return result
    if len(chosen) > 1:
        result.notes.append(
            f"{len(chosen)} histories have a changeset; only {chosen[0][0].root} is rehearsed"
        )
    history, first = chosen[0]
    try:
        _on_server(
            result,
            history,
            first,
            weighted,
            options,
            stats,
            pg_bin,
            dsn,
            pg_version,
            statement_timeout_s,
            use_cache,
            cache_dir,
            progress,
            bar,
            parse_allowed_extensions(allow_extensions),
        )
    except LiveError:
        raise
    except Exception as err:
        raise LiveError(f"the rehearsal stopped: {type(err).__name__}: {err}") from err
    return result


def _stats_queries(stats: TableStats | None, result: RehearseResult) -> list[tuple[Query, float]]:
    if stats is None:
        return []
    from migcheck.live.queries import is_checkable, is_single_statement

    found = []
    for number, stat in enumerate(stats.queries):
        query = Query(
            stat.query.strip().rstrip(";"),
            f"{stats.source}:queries[{number}]",
            "old",
            "pg_stat_statements",
            stats.source,
        )
        if stat.calls <= 0:
            continue
        if not is_checkable(query.text) or not is_single_statement(query.text):
            result.notes.append(
                f"{query.origin}: not replayed: not one SELECT/INSERT/UPDATE/DELETE"
            )
            continue
        found.append((query, float(stat.calls)))
    return found


def _on_server(
    result: RehearseResult,
    history: History,
    first: int,
    weighted: list[tuple[Query, float]],
    options: RehearseOptions,
    stats: TableStats | None,
    pg_bin: str | None,
    dsn: str | None,
    pg_version: int | None,
    statement_timeout_s: float,
    use_cache: bool,
    cache_dir: str | None,
    progress: Progress | None,
    bar: Bar | None,
    allowed: frozenset[str],
) -> None:
    from migcheck.live.cache import TemplateCache
    from migcheck.live.opening import open_server

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
        extensions = AllowedExtensions(allowed, server.create_extension) if allowed else None
        cache = TemplateCache(server, extensions=extensions)
        plans = [plan_migration(history, m) for m in history.migrations]
        base, change = plans[:first], plans[first:]
        if progress is not None:
            progress(f"preparing the base of {history.root} ({len(base)} migrations)")
        template = cache.obtain(base, progress=progress)
        if template.failure is not None or template.db is None:
            result.base_failure = template.failure
            return
        seeded = seeded_template(
            result,
            server,
            cache,
            template.db,
            template.info.key,
            len(base),
            change,
            weighted,
            options,
            stats,
            progress,
            bar,
        )
        result.sets_lock_timeout = any(
            _SETS_LOCK_TIMEOUT.search(strip_comments(s.text)) for p in change for s in p.statements
        )
        result.passes.append(
            _rehearse(result, server, seeded, change, weighted, options, None, extensions, progress)
        )
        if options.long_transaction_s is not None and not result.sets_lock_timeout:
            lock_timeout_ms = max(1, round(options.max_stall_s * 1000))
            result.passes.append(
                _rehearse(
                    result,
                    server,
                    seeded,
                    change,
                    weighted,
                    options,
                    lock_timeout_ms,
                    extensions,
                    progress,
                )
            )


# -- seeding -------------------------------------------------------------------------
def seeded_template(
    result: RehearseResult,
    server: Server,
    cache: TemplateCache,
    base_db: str,
    base_key: str,
    base_plans: int,
    change: list[MigrationPlan],
    weighted: list[tuple[Query, float]],
    options: RehearseOptions,
    stats: TableStats | None,
    progress: Progress | None,
    bar: Bar | None,
) -> str:
    """The seeded template of the base ``base_db``: from the cache when the same base
    and volume were seeded before, else seeded now and kept."""
    from migcheck.rehearse.seed import seed
    from migcheck.rehearse.tables import read_tables
    from migcheck.rehearse.volume import named_tables, row_counts, seed_key

    build = server.new_name("build")
    server.create_database(build, template=base_db)
    conn = server.connect_runner(build)
    try:
        tables = read_tables(conn)
        texts = [s.text for p in change for s in p.statements] + [q.text for q, _ in weighted]
        counts = row_counts(tables, named_tables(tables, texts), options, stats)
        key = seed_key(base_key, tables, counts)
        cached = cache.lookup(key)
        if cached is None:
            if progress is not None:
                total = sum(counts.values())
                progress(f"seeding {len(counts)} tables ({total:,} rows)")
            # Seeding a large table may take longer than one migration statement may.
            conn.execute(f"SET statement_timeout = {round(options.max_seconds * 1000)}")
            seeded = seed(conn, tables, counts, bar)
            result.seeded = seeded.rows
            result.seed_problems = seeded.problems
            result.seed_seconds = seeded.seconds
    finally:
        conn.close()
    if cached is not None:
        # The cache key holds the planned volume; what a CHECK cut is not recorded.
        result.seed_cached = True
        result.seeded = {tables[o].qualname: n for o, n in counts.items()}
        server.drop_database(build)
        return cached
    return cache.adopt(key, build, base_plans)


# -- one pass ------------------------------------------------------------------------
def _rehearse(
    result: RehearseResult,
    server: Server,
    seeded: str,
    change: list[MigrationPlan],
    weighted: list[tuple[Query, float]],
    options: RehearseOptions,
    lock_timeout_ms: int | None,
    extensions: AllowedExtensions | None,
    progress: Progress | None,
) -> Pass:
    from migcheck.live.trace import Tracer
    from migcheck.rehearse.binding import Binder
    from migcheck.rehearse.holder import Holder
    from migcheck.rehearse.measure import Measure
    from migcheck.rehearse.observe import Rehearsal
    from migcheck.rehearse.sampler import Sampler
    from migcheck.rehearse.tables import read_tables
    from migcheck.rehearse.traffic import Traffic

    outcome = Pass(lock_timeout_ms=lock_timeout_ms)
    deadline = time.perf_counter() + options.max_seconds
    work = server.new_name("work")
    server.create_database(work, template=seeded)
    opened: list[psycopg.Connection] = []

    def runner() -> psycopg.Connection:
        conn = server.connect_runner(work)
        conn.execute(f"SET application_name = '{_APP}'")
        opened.append(conn)
        return conn

    traffic: Traffic | None = None
    sampler: Sampler | None = None
    holder: Holder | None = None
    try:
        mig = runner()
        tables = read_tables(mig)
        binder = Binder(mig, tables)
        workloads = _workloads(binder, weighted, tables, result)
        if not result.passes:
            result.notes += binder.notes
        admin = server.connect(work)
        opened.append(admin)
        clients = options.clients if workloads else 0
        traffic = Traffic(
            workloads,
            runner,
            clients=clients,
            rate=options.rate,
            deadline=deadline,
            statement_timeout_s=options.app_timeout,
        )
        if options.long_transaction_s is not None:
            holder = Holder(runner, options.long_transaction_s)
        targets = _blocking_targets(mig, change) if holder is not None else {}
        if clients:
            traffic.start()
        pids = [*traffic.pids, mig.info.backend_pid]
        sampler = Sampler(admin, pids, options.sample_interval_s, deadline)
        if holder is not None:
            holder_conn = runner()
            holder.conn = holder_conn
            sampler.watch(holder_conn.info.backend_pid)
        t0 = time.perf_counter()
        sampler.start()
        if progress is not None:
            progress(f"traffic alone for {options.warmup_s:g} s (baseline)")
        _wait(options.warmup_s, deadline)
        started = time.perf_counter()
        if lock_timeout_ms is not None:
            mig.execute(f"SET lock_timeout = {lock_timeout_ms}")
        tracer = Tracer(
            catalog.take(mig, light=True), lambda: server.connect(work), progress, light=True
        )
        observer = Rehearsal(tracer, holder, targets)
        try:
            outcome.failure = apply_all(
                mig,
                change,
                statement_timeout_ms=server.statement_timeout_ms,
                in_base=False,
                observer=observer,
                extensions=extensions,
            )
        finally:
            observer.finish()
            tracer.close()
        if holder is not None:
            holder.release()
        _wait(options.cooldown_s, deadline)
        t_end = time.perf_counter()
        traffic.stop()
        sampler.stop()
        if traffic.failure:
            result.notes.append(f"an app client stopped early: {traffic.failure}")
        if sampler.failure:
            result.notes.append(f"lock sampling stopped early: {sampler.failure}")
        if time.perf_counter() >= deadline:
            result.notes.append(f"the rehearsal reached --max-seconds ({options.max_seconds:g} s)")
        origins = [w.query.origin for w in workloads]
        measure = Measure(
            t0,
            t_end,
            traffic.samples(),
            sampler.samples,
            set(traffic.pids),
            origins,
            options.sample_interval_s,
        )
        outcome.baseline, failing = measure.baseline(started)
        slow = outcome.baseline.get("timed_out")
        if isinstance(slow, int) and slow and not result.passes:
            result.warnings.append(
                f"the workload is too slow for this volume: {slow:,} app "
                f"{'query' if slow == 1 else 'queries'} ran past the app's statement_timeout "
                f"({options.app_timeout:g} s, --app-timeout) before any migration ran (an index "
                "the old app lacks?); latency figures say more about the app than the migration"
            )
        outcome.queries_run = traffic.count()
        outcome.mix = measure.mix([w.weight for w in workloads])
        windows = observer.windows
        for number, window in enumerate(windows):
            until = windows[number + 1].start if number + 1 < len(windows) else t_end
            outcome.spans.append(window.trace.span)
            outcome.statements.append(
                measure.statement(
                    window,
                    until,
                    mig.info.backend_pid,
                    failing,
                    options.scale,
                    options.long_transaction_s is not None,
                )
            )
        outcome.timeline = measure.timeline()
    finally:
        if traffic is not None:
            traffic.stop()
        if sampler is not None:
            sampler.stop()
        if holder is not None:
            holder.close()
        for conn in opened:
            with contextlib.suppress(Exception):
                conn.close()
        server.drop_database(work)
    return outcome


def _wait(seconds: float, deadline: float) -> None:
    end = min(time.perf_counter() + seconds, deadline)
    while True:
        left = end - time.perf_counter()
        if left <= 0:
            return
        time.sleep(min(left, 0.05))


def _workloads(
    binder: object,
    weighted: list[tuple[Query, float]],
    tables: dict[int, Table],
    result: RehearseResult,
) -> list[Workload]:
    from migcheck.rehearse.binding import Binder

    assert isinstance(binder, Binder)
    if not weighted:
        weighted = _default_queries(tables, result)
    found = []
    for query, weight in weighted:
        workload = binder.bind(query, weight)
        if workload is not None:
            found.append(workload)
    return found


def _default_queries(tables: dict[int, Table], result: RehearseResult) -> list[tuple[Query, float]]:
    """With no app queries given: primary-key lookups on every seeded table."""
    from migcheck.rehearse.seed import quote_ident

    queries = []
    for table in tables.values():
        if table.qualname not in result.seeded or not result.seeded[table.qualname]:
            continue
        key = next((u for u in table.unique if len(u) == 1), None)
        if key is None:
            continue
        text = f"SELECT * FROM {table.sql} WHERE {quote_ident(key[0])} = $1"
        queries.append((Query(text, f"primary-key lookup on {table.qualname}", "old", "sql"), 1.0))
    note = (
        "no app queries given (--old-queries, --table-stats, --app-schema): the traffic "
        "is primary-key lookups on the seeded tables"
    )
    if queries and note not in result.notes:
        result.notes.append(note)
    return queries


def _blocking_targets(
    conn: psycopg.Connection, change: list[MigrationPlan]
) -> dict[tuple[str, int], tuple[str, str]]:
    """(path, index) → (quoted table, the lock the long transaction holds on it), for
    the statements whose lock on a table that exists before the changeset makes app
    queries wait (read statically, as the linter does)."""
    from migcheck.locks import lock_for
    from migcheck.model import name_parts
    from migcheck.rehearse.holder import hold_mode
    from migcheck.sql.parse import parse_statement
    from migcheck.sql.split import split_sql

    targets = {}
    for plan in change:
        for statement in plan.statements:
            if statement.control is not None:
                continue
            split = split_sql(statement.text)
            if not split.statements:
                continue
            raw = split.statements[0]
            ops, _ = parse_statement(statement.text, raw.tokens)
            for op in ops:
                lock = lock_for(op)
                held = hold_mode(lock[0]) if lock is not None else None
                if lock is None or held is None or not lock[1]:
                    continue
                *schema, table = name_parts(lock[1])
                name = _resolve(conn, schema[-1] if schema else None, table)
                if name is not None:
                    targets[(statement.path, statement.index)] = (name, held)
                    break
    return targets


def _resolve(conn: psycopg.Connection, schema: str | None, table: str) -> str | None:
    row = conn.execute(
        "SELECT c.oid::regclass::text FROM pg_catalog.pg_class c"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relname = %s AND c.relkind IN ('r', 'p')"
        " AND (n.nspname = %s OR (%s::text IS NULL AND pg_catalog.pg_table_is_visible(c.oid)))"
        " LIMIT 1",
        (table, schema, schema),
    ).fetchone()
    return str(row[0]) if row else None
