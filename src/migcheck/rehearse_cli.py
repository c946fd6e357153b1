"""``migcheck rehearse``: its options, and the run from paths to report and exit code.

Registered by the CLI from here; importing this module costs only click option
definitions. The rehearsal (psycopg, the server) is imported when the command runs.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from migcheck.live_cli import query_options, server_options
from migcheck.report import FORMATS
from migcheck.vocabulary import FAIL_ON

if TYPE_CHECKING:
    from migcheck.model import Finding
    from migcheck.rehearse.options import RehearseOptions
    from migcheck.rehearse.runner import RehearseResult

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


@dataclass
class RehearseRequest:
    paths: list[str]
    old_queries: list[str] = field(default_factory=list)
    table_stats: str | None = None
    pg_bin: str | None = None
    dsn: str | None = None
    pg_version: int | None = None
    statement_timeout: float = 60.0
    # ``--app-schema`` (alias ``--prisma-schema``): read as live reads it, in the tree.
    app_schema: list[str] = field(default_factory=list)
    sqlalchemy_metadata: str | None = None
    old_ref: str | None = None
    fmt: str = "text"
    fail_on: str = "error"
    use_cache: bool = True
    diff_base: str | None = None
    allow_extensions: list[str] = field(default_factory=list)
    report: str | None = None
    progress: bool | None = None  # None: on a terminal, for the text format only
    clients: int = 8
    rate: float | None = None
    max_stall: float = 0.5
    app_timeout: float | None = None  # None: 10 × max_stall
    rows: int = 100_000
    scale: float = 1.0
    long_transaction: float | None = None
    warmup_seconds: float = 3.0
    max_seconds: float = 300.0
    cooldown_seconds: float = 1.0  # not a flag: tests shorten it


def run_rehearse_command(req: RehearseRequest) -> int:
    from migcheck.config import ConfigError
    from migcheck.errors import UserError
    from migcheck.live import LiveError, LiveInterrupted
    from migcheck.live_cli import (
        NO_APP_REF,
        _app_schema,
        _changeset_is_last,
        _exit_code,
        diff_changeset,
    )
    from migcheck.rehearse.options import RehearseOptions
    from migcheck.rehearse.runner import run_rehearsal
    from migcheck.runner import RunRequest, discover_histories
    from migcheck.tablestats import TableStats, load_table_stats

    try:
        table_rows, config_stats = _from_config(req.paths)
    except ConfigError as bad:
        print(f"migcheck rehearse: {bad}", file=sys.stderr)
        return EXIT_USAGE
    options = RehearseOptions(
        clients=req.clients,
        rate=req.rate,
        max_stall_s=req.max_stall,
        app_timeout_s=req.app_timeout,
        rows=req.rows,
        scale=req.scale,
        long_transaction_s=req.long_transaction,
        warmup_s=req.warmup_seconds,
        cooldown_s=req.cooldown_seconds,
        max_seconds=req.max_seconds,
        table_rows=table_rows,
    )
    stats: TableStats | None = None
    stats_path = req.table_stats if req.table_stats is not None else config_stats
    try:
        options.validate()
        if stats_path is not None:
            stats = load_table_stats(stats_path)
    except (LiveError, UserError) as bad:
        print(f"migcheck rehearse: {bad}", file=sys.stderr)
        return EXIT_USAGE
    changeset = diff_changeset("rehearse", req.paths, req.diff_base)
    if isinstance(changeset, int):
        return changeset
    paths, base_commit = changeset
    histories, errors = discover_histories(RunRequest(paths=paths))
    for err in errors:
        where = f"{err.path}:{err.line}" if err.line else err.path
        print(f"{where}: error: {err.message}", file=sys.stderr)
    if not histories:
        return EXIT_USAGE
    _changeset_is_last(histories)
    prisma_schema = None
    if req.app_schema:
        prisma_schema, problems, notes = _app_schema(req.paths, req.app_schema)
        for line in notes:
            print(f"migcheck rehearse: note: {line}", file=sys.stderr)
        if problems:
            for line in problems:
                print(f"migcheck rehearse: {line}", file=sys.stderr)
            return EXIT_USAGE
    show = _Progress.wanted(req)
    # As for live and check: without --app-ref the deployed app is the --diff merge base.
    old_ref = req.old_ref if req.old_ref is not None else (base_commit if prisma_schema else None)
    refs = (old_ref, "") if old_ref is not None else None
    if prisma_schema and refs is None:
        print(f"migcheck rehearse: note: {NO_APP_REF}", file=sys.stderr)
    try:
        result = run_rehearsal(
            histories,
            options=options,
            old_queries=req.old_queries,
            stats=stats,
            pg_bin=req.pg_bin,
            dsn=req.dsn,
            pg_version=req.pg_version,
            statement_timeout_s=req.statement_timeout,
            prisma_ref=refs if prisma_schema else None,
            prisma_schema=prisma_schema,
            sqlalchemy_metadata=req.sqlalchemy_metadata,
            sqlalchemy_ref=refs if req.sqlalchemy_metadata else None,
            use_cache=req.use_cache,
            progress=show.line if show else None,
            bar=show.bar if show else None,
            allow_extensions=req.allow_extensions,
        )
    except LiveInterrupted as stop:
        print(
            "migcheck rehearse: interrupted; load stopped, server and scratch databases cleaned up",
            file=sys.stderr,
        )
        return 128 + stop.signum
    except LiveError as err:
        print(f"migcheck rehearse: {err}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if show:
            show.done()
    findings = _findings(result, options)
    _write_report(req, result, options, findings)
    if req.report is not None:
        code = _write_html(req.report, result, options)
        if code:
            return code
    return _exit_code(findings, req.fail_on)


def _from_config(paths: list[str]) -> tuple[dict[str, int], str | None]:
    """``[rehearse] rows`` and ``table-stats`` of the config file the paths find."""
    from migcheck.config import find_config, load_config

    found = find_config(paths, None)
    if found is None:
        return {}, None
    config = load_config(found)
    return dict(config.rehearse_rows or {}), config.table_stats


def _findings(result: RehearseResult, options: RehearseOptions) -> list[Finding]:
    from migcheck.model import Finding, Span
    from migcheck.rehearse.verdicts import findings

    found: list[Finding] = []
    failure = result.base_failure
    if failure is not None:
        state = f" [{failure.sqlstate}]" if failure.sqlstate else ""
        found.append(
            Finding(
                rule="live-migration-failed",
                severity="error",
                category="meta",
                path=failure.path,
                span=failure.span or Span(1, 1, 1, 1),
                message="PostgreSQL rejected this statement while replaying the base schema: "
                f"{failure.message}{state}",
                help="PostgreSQL rejected this statement; the migration would fail.",
                statement=failure.text,
            )
        )
    if result.passes:
        main = result.passes[0]
        other = result.passes[1] if len(result.passes) > 1 else None
        found += findings(
            main.statements,
            main.baseline,
            options,
            result.seeded,
            other.statements if other else None,
            other.lock_timeout_ms if other else None,
            main.spans,
        )
    found.sort(key=lambda f: f.sort_key)
    return found


def _write_report(
    req: RehearseRequest,
    result: RehearseResult,
    options: RehearseOptions,
    findings: list[Finding],
) -> None:
    import json

    from migcheck.rehearse.report import rehearsal_dict, render_table
    from migcheck.report import render
    from migcheck.report.escape import json_text
    from migcheck.runner import RunResult

    statements = sum(len(p.statements) for p in result.passes[:1])
    run = RunResult(
        findings=findings, errors=list(result.input_errors), files=1, statements=statements
    )
    if req.fmt == "json":
        data = json.loads(render(run, "json"))
        data["rehearsal"] = rehearsal_dict(result, options)
        sys.stdout.write(json_text(json.dumps(data, indent=2, ensure_ascii=False)) + "\n")
    elif req.fmt == "text":
        sys.stdout.write(render_table(result, options))
        sys.stdout.write(render(run, "text"))
    else:
        sys.stdout.write(render(run, req.fmt))


def _write_html(path: str, result: RehearseResult, options: RehearseOptions) -> int:
    from migcheck.rehearse.report import rehearsal_dict

    try:
        from migcheck.rehearse.html import render as render_html  # type: ignore[import-not-found,unused-ignore]
    except ImportError as err:
        print(f"migcheck rehearse: --report needs the HTML report ({err})", file=sys.stderr)
        return EXIT_USAGE
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(render_html(rehearsal_dict(result, options)))
    except OSError as err:
        print(f"migcheck rehearse: cannot write {path}: {err.strerror or err}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_CLEAN


class _Progress:
    """Progress on stderr, only on a terminal (or when asked): never in a CI log."""

    def __init__(self) -> None:
        self._bar = False

    @staticmethod
    def wanted(req: RehearseRequest) -> _Progress | None:
        if req.progress is None:
            tty = sys.stderr.isatty() and not os.environ.get("CI")
            return _Progress() if tty and req.fmt == "text" else None
        return _Progress() if req.progress else None

    def line(self, text: str) -> None:
        from migcheck.report.escape import visible

        self.done()
        print(f"migcheck rehearse: {visible(text)}", file=sys.stderr)

    def bar(self, label: str, done: int, total: int) -> None:
        from migcheck.report.escape import visible

        width = 30
        filled = width * done // max(total, 1)
        sys.stderr.write(
            f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {visible(label)[:40]:40}"
        )
        sys.stderr.flush()
        self._bar = True

    def done(self) -> None:
        if self._bar:
            sys.stderr.write("\n")
            self._bar = False


@click.command("rehearse")
@click.argument("paths", nargs=-1, type=click.Path(), required=True)
@query_options
@click.option(
    "--table-stats",
    default=None,
    type=click.Path(),
    help="Production statistics (migcheck stats -o FILE): row counts to seed and, with "
    "its queries, the traffic mix weighted by calls.",
)
@click.option(
    "--rows",
    type=int,
    default=100_000,
    show_default=True,
    help="Rows per seeded table when the statistics file does not list it.",
)
@click.option(
    "--scale",
    type=float,
    default=1.0,
    show_default=True,
    help="Seed this fraction of the volume; durations are extrapolated to full size.",
)
@click.option(
    "--clients",
    type=int,
    default=8,
    show_default=True,
    help="App connections replaying the queries.",
)
@click.option(
    "--rate",
    type=float,
    default=None,
    help="Total queries per second over all clients (default: a closed loop).",
)
@click.option(
    "--max-stall",
    type=float,
    default=0.5,
    show_default=True,
    help="Seconds an app query may wait on a statement's lock (held, or queued for) "
    "before the statement is rehearse-blocked-traffic.",
)
@click.option(
    "--app-timeout",
    type=float,
    default=None,
    metavar="SECONDS",
    help="statement_timeout of each app query (default: 2 x --max-stall), so a slow query "
    "cannot pin a client; these cancellations are counted apart from app errors.",
)
@click.option(
    "--long-transaction",
    type=float,
    default=None,
    metavar="SECONDS",
    help="Before each statement that makes app queries wait, hold a lock on its table for "
    "this long that makes the statement wait (ACCESS SHARE, a slow report, before ACCESS "
    "EXCLUSIVE; ROW EXCLUSIVE, a session idle after a write, before SHARE and the like), "
    "and show the lock queue; with and without lock_timeout.",
)
@click.option(
    "--warmup-seconds",
    type=float,
    default=3.0,
    show_default=True,
    help="Seconds of traffic alone before the changeset (the baseline).",
)
@click.option(
    "--max-seconds",
    type=float,
    default=300.0,
    show_default=True,
    help="Upper bound on the whole rehearsal's traffic.",
)
@click.option(
    "--report",
    "report",
    default=None,
    type=click.Path(),
    help="Also write a self-contained HTML page with the timeline.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress on stderr (default: on a terminal, text format only).",
)
@server_options
@click.option("--no-cache", is_flag=True, help="Keep no template (base or seeded).")
@click.option(
    "--diff",
    "diff_base",
    metavar="BASE",
    default=None,
    help="The changeset is the migrations added or modified since BASE (as for check --diff).",
)
@click.option(
    "--format",
    "--output-format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
)
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="error", show_default=True)
def rehearse_command(
    paths: tuple[str, ...],
    old_queries: tuple[str, ...],
    app_schema: tuple[str, ...],
    sqlalchemy_metadata: str | None,
    old_ref: str | None,
    table_stats: str | None,
    rows: int,
    scale: float,
    clients: int,
    rate: float | None,
    max_stall: float,
    app_timeout: float | None,
    long_transaction: float | None,
    warmup_seconds: float,
    max_seconds: float,
    report: str | None,
    progress: bool | None,
    pg_version: str | None,
    pg_bin: str | None,
    dsn: str | None,
    statement_timeout: float,
    no_cache: bool,
    allow_extensions: tuple[str, ...],
    diff_base: str | None,
    fmt: str,
    fail_on: str,
) -> None:
    """Rehearse the changeset on seeded data while the old app's queries keep running:
    per statement, how long it held which lock and what the app felt."""
    req = RehearseRequest(
        paths=list(paths),
        old_queries=list(old_queries),
        table_stats=table_stats,
        rows=rows,
        scale=scale,
        clients=clients,
        rate=rate,
        max_stall=max_stall,
        app_timeout=app_timeout,
        long_transaction=long_transaction,
        warmup_seconds=warmup_seconds,
        max_seconds=max_seconds,
        report=report,
        progress=progress,
        app_schema=list(app_schema),
        sqlalchemy_metadata=sqlalchemy_metadata,
        old_ref=old_ref,
        pg_version=int(pg_version) if pg_version else None,
        pg_bin=pg_bin,
        dsn=dsn,
        statement_timeout=statement_timeout,
        use_cache=not no_cache,
        allow_extensions=list(allow_extensions),
        diff_base=diff_base,
        fmt=fmt,
        fail_on=fail_on,
    )
    sys.exit(run_rehearse_command(req))
