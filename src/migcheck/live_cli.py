"""``migcheck live``: its options, and the run from paths to report and exit code.

The CLI registers the command from here; importing this module costs only click option
definitions. The live check itself (psycopg, the embedded server) is imported when the
command runs, so the linter's start-up path never pays for it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from migcheck.report import FORMATS
from migcheck.vocabulary import FAIL_ON

if TYPE_CHECKING:
    from migcheck.live import LiveResult
    from migcheck.model import Finding
    from migcheck.sources import History

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


@dataclass
class LiveRequest:
    paths: list[str]
    old_queries: list[str] = field(default_factory=list)
    new_queries: list[str] = field(default_factory=list)
    pg_bin: str | None = None
    dsn: str | None = None
    pg_version: int | None = None
    statement_timeout: float = 60.0
    prisma_schema: str | None = None
    sqlalchemy_metadata: str | None = None
    old_ref: str | None = None
    new_ref: str = ""
    fmt: str = "text"
    fail_on: str = "error"
    use_cache: bool = True
    diff_base: str | None = None
    allow_extensions: list[str] = field(default_factory=list)


def run_live_command(req: LiveRequest) -> int:
    from migcheck.errors import UserError
    from migcheck.live import (
        LiveError,
        LiveInterrupted,
        run_live,
        to_findings,
    )
    from migcheck.runner import RunRequest, discover_histories

    paths = req.paths
    if req.diff_base is not None:
        # The same changeset as the static linter's --diff: the migrations this branch
        # adds or edits, inside their histories.
        from pathlib import Path

        from migcheck.gitdiff import changed_migration_paths

        try:
            diff = changed_migration_paths(req.diff_base, Path.cwd(), pathspecs=req.paths)
        except UserError as problem:
            print(f"migcheck live: {problem}", file=sys.stderr)
            return EXIT_USAGE
        if not diff.paths:
            print(f"migcheck live: no migration changed since {req.diff_base}", file=sys.stderr)
            return EXIT_CLEAN
        paths = diff.paths
    histories, errors = discover_histories(RunRequest(paths=paths))
    for err in errors:
        where = f"{err.path}:{err.line}" if err.line else err.path
        print(f"{where}: error: {err.message}", file=sys.stderr)
    if not histories:
        return EXIT_USAGE
    _changeset_is_last(histories)
    refs = (req.old_ref, req.new_ref) if req.old_ref is not None else None
    try:
        result = run_live(
            histories,
            old_queries=req.old_queries,
            new_queries=req.new_queries,
            pg_bin=req.pg_bin,
            dsn=req.dsn,
            pg_version=req.pg_version,
            statement_timeout_s=req.statement_timeout,
            prisma_ref=refs if req.prisma_schema else None,
            prisma_schema=req.prisma_schema,
            sqlalchemy_metadata=req.sqlalchemy_metadata,
            sqlalchemy_ref=refs if req.sqlalchemy_metadata else None,
            use_cache=req.use_cache,
            progress=lambda line: print(line, file=sys.stderr),
            allow_extensions=req.allow_extensions,
        )
    except LiveInterrupted as stop:
        print(
            "migcheck live: interrupted; server and scratch databases cleaned up", file=sys.stderr
        )
        # The shell convention: 130 after SIGINT, 143 after SIGTERM.
        return 128 + stop.signum
    except LiveError as err:
        print(f"migcheck live: {err}", file=sys.stderr)
        return EXIT_USAGE
    findings = to_findings(result)
    _write_report(req, result, findings, histories)
    return _exit_code(findings, req.fail_on)


def _changeset_is_last(histories: list[History]) -> None:
    """With no changeset named, the changeset is the last migration of each history."""
    for history in histories:
        if all(m.selected for m in history.migrations) and history.migrations:
            for m in history.migrations[:-1]:
                m.selected = False


def _write_report(
    req: LiveRequest, result: LiveResult, findings: list[Finding], histories: list[History]
) -> None:
    from migcheck.live import render_markdown, render_text

    if req.fmt == "markdown":
        sys.stdout.write(render_markdown(result))
    elif req.fmt == "text":
        sys.stdout.write(render_text(result))
    else:
        # json, sarif, github, gitlab, junit: the same findings through the same reporters
        # as the static linter.
        from migcheck.report import render
        from migcheck.runner import RunResult

        files = sum(1 for h in histories for m in h.migrations if m.selected)
        run = RunResult(findings=findings, errors=list(result.input_errors), files=files)
        sys.stdout.write(render(run, req.fmt))


def _exit_code(findings: list[Finding], fail_on: str) -> int:
    from migcheck.model import SEVERITY_RANK

    if fail_on == "never":
        return EXIT_CLEAN
    worst = max((SEVERITY_RANK.get(f.severity, 0) for f in findings), default=-1)
    return EXIT_FINDINGS if worst >= SEVERITY_RANK[fail_on] else EXIT_CLEAN


@click.command("live")
@click.argument("paths", nargs=-1, type=click.Path(), required=True)
@click.option(
    "--old-queries",
    multiple=True,
    type=click.Path(),
    help="Queries of the app version running before the deploy (.sql, or a "
    "pg_stat_statements export .csv/.json). Repeatable.",
)
@click.option(
    "--new-queries",
    multiple=True,
    type=click.Path(),
    help="Queries of the app version being deployed. Repeatable.",
)
@click.option(
    "--app-schema",
    "--prisma-schema",
    "prisma_schema",
    default=None,
    help="schema.prisma (or its schema/ folder), or SQLAlchemy model files (a .py path or "
    "glob): derive each app version's queries from it, read statically (at --old-ref and "
    "--new-ref).",
)
@click.option(
    "--sqlalchemy-metadata",
    default=None,
    help="SQLAlchemy model files (path or glob; module:attr names the module's file) to "
    "derive queries from, read statically without importing them (at --old-ref and "
    "--new-ref).",
)
@click.option(
    "--app-ref",
    "--old-ref",
    "old_ref",
    default=None,
    help="Git ref of the old (deployed) app version, e.g. origin/main.",
)
@click.option(
    "--new-ref", default="", help="Git ref of the new app version (default: working tree)."
)
@click.option(
    "--pg-version",
    type=click.Choice(["16", "18"]),
    default=None,
    help="Bundled PostgreSQL major version to run (default: the newest bundled).",
)
@click.option(
    "--pg-bin",
    default=None,
    type=click.Path(),
    help="Use the PostgreSQL binaries in this directory instead of the bundled ones.",
)
@click.option(
    "--dsn",
    default=None,
    help="Use an existing server: migcheck works only in a scratch database it creates and drops.",
)
@click.option(
    "--statement-timeout",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds any one statement may run.",
)
@click.option("--no-cache", is_flag=True, help="Replay the whole history; keep no template.")
@click.option(
    "--allow-extension",
    "allow_extensions",
    multiple=True,
    metavar="NAME[,NAME...]",
    help="Let migcheck create this extension as superuser when a migration's plain "
    "CREATE EXTENSION asks for it (migrations never run as superuser; trusted "
    "extensions need no flag). Repeatable.",
)
@click.option(
    "--diff",
    "diff_base",
    metavar="BASE",
    default=None,
    help="The changeset is the migrations added or modified since the merge base of BASE "
    "and HEAD (as for `migcheck check --diff`).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="error",
    show_default=True,
)
def live_command(
    paths: tuple[str, ...],
    old_queries: tuple[str, ...],
    new_queries: tuple[str, ...],
    prisma_schema: str | None,
    sqlalchemy_metadata: str | None,
    old_ref: str | None,
    new_ref: str,
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
    """Apply the migrations to a real, throwaway PostgreSQL: trace the locks and rewrites
    of each new statement and run the old and new app's queries against the result."""
    req = LiveRequest(
        paths=list(paths),
        old_queries=list(old_queries),
        new_queries=list(new_queries),
        pg_bin=pg_bin,
        dsn=dsn,
        pg_version=int(pg_version) if pg_version else None,
        statement_timeout=statement_timeout,
        prisma_schema=prisma_schema,
        sqlalchemy_metadata=sqlalchemy_metadata,
        old_ref=old_ref,
        new_ref=new_ref,
        fmt=fmt,
        fail_on=fail_on,
        use_cache=not no_cache,
        diff_base=diff_base,
        allow_extensions=list(allow_extensions),
    )
    sys.exit(run_live_command(req))
