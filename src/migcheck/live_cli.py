"""``migcheck live``: its options, and the run from paths to report and exit code.

The CLI registers the command from here; importing this module costs only click option
definitions. The live check itself (psycopg, the embedded server) is imported when the
command runs, so the linter's start-up path never pays for it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

from migcheck.report import FORMATS
from migcheck.vocabulary import FAIL_ON

if TYPE_CHECKING:
    from migcheck.live import LiveResult
    from migcheck.model import Finding
    from migcheck.sources import History

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
# The deployed app's queries come from its schema at a commit: without one, none are
# derived, and a run that was asked for them says so rather than testing nothing.
NO_APP_REF = (
    "the app schema's queries come from the deployed commit, and none was given: no "
    "queries derived from it (pass --app-ref, e.g. --app-ref origin/main, or --diff)"
)


@dataclass
class LiveRequest:
    paths: list[str]
    old_queries: list[str] = field(default_factory=list)
    new_queries: list[str] = field(default_factory=list)
    pg_bin: str | None = None
    dsn: str | None = None
    pg_version: int | None = None
    statement_timeout: float = 60.0
    # ``--app-schema`` (alias ``--prisma-schema``), as ``check`` takes it; when empty, the
    # config file's ``app-schema``, then the schema.prisma beside the migrations.
    app_schema: list[str] = field(default_factory=list)
    sqlalchemy_metadata: str | None = None
    old_ref: str | None = None  # ``--app-ref`` (alias ``--old-ref``); default: --diff's base
    new_ref: str = ""
    fmt: str = "text"
    fail_on: str = "error"
    use_cache: bool = True
    diff_base: str | None = None
    allow_extensions: list[str] = field(default_factory=list)


def run_live_command(req: LiveRequest) -> int:
    from migcheck.live import (
        LiveError,
        LiveInterrupted,
        run_live,
        to_findings,
    )
    from migcheck.runner import RunRequest, discover_histories

    changeset = diff_changeset("live", req.paths, req.diff_base)
    if isinstance(changeset, int):
        return changeset
    paths, base_commit = changeset
    prisma_schema, problems, notes = _app_schema(req.paths, req.app_schema)
    for line in problems:
        print(f"migcheck live: {line}", file=sys.stderr)
    for line in notes:
        print(f"migcheck live: note: {line}", file=sys.stderr)
    if problems:
        return EXIT_USAGE
    histories, errors = discover_histories(RunRequest(paths=paths))
    for err in errors:
        where = f"{err.path}:{err.line}" if err.line else err.path
        print(f"{where}: error: {err.message}", file=sys.stderr)
    if not histories:
        return EXIT_USAGE
    _changeset_is_last(histories)
    old_ref = req.old_ref
    if old_ref is None and prisma_schema is not None:
        old_ref = base_commit  # as for check: the deployed app is the --diff merge base
    refs = (old_ref, req.new_ref) if old_ref is not None else None
    if prisma_schema is not None and refs is None:
        print(f"migcheck live: note: {NO_APP_REF}", file=sys.stderr)
    # A schema named, or found by convention as check finds it (unless the run names only
    # SQLAlchemy models).
    use_prisma = prisma_schema is not None or (
        not req.sqlalchemy_metadata and any(h.tool == "prisma" for h in histories)
    )
    try:
        result = run_live(
            histories,
            old_queries=req.old_queries,
            new_queries=req.new_queries,
            pg_bin=req.pg_bin,
            dsn=req.dsn,
            pg_version=req.pg_version,
            statement_timeout_s=req.statement_timeout,
            prisma_ref=refs if use_prisma else None,
            prisma_schema=prisma_schema,
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


def diff_changeset(
    command: str, paths: list[str], diff_base: str | None
) -> tuple[list[str], str | None] | int:
    """The paths to run and the ``--diff`` base's commit, or the exit code when there is
    nothing to run: the same changeset as the static linter's ``--diff`` (the migrations
    this branch adds or edits, inside their histories)."""
    if diff_base is None:
        return paths, None
    from pathlib import Path

    from migcheck.errors import UserError
    from migcheck.gitdiff import changed_migration_paths

    try:
        diff = changed_migration_paths(diff_base, Path.cwd(), pathspecs=paths)
    except UserError as problem:
        print(f"migcheck {command}: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if not diff.paths:
        print(f"migcheck {command}: no migration changed since {diff_base}", file=sys.stderr)
        return EXIT_CLEAN
    return diff.paths, diff.base_commit


def _app_schema(paths: list[str], named: list[str]) -> tuple[str | None, list[str], list[str]]:
    """The Prisma schema (a file or a ``schema/`` folder) the live check derives queries
    from, named as ``check`` names it (``--app-schema``, ``named`` here, else the config
    file's ``app-schema`` for the ``paths``), then the errors and the notes to print.
    None without errors means "find it by convention", as before."""
    import os

    from migcheck.appschema.gating import schema_files
    from migcheck.config import ConfigError, load_config, locate_config
    from migcheck.sources.reading import boundary_for, display_path

    patterns: tuple[str, ...] = tuple(named)
    if not patterns:
        try:
            found, _ = locate_config(paths, None)
            config = load_config(found) if found is not None else None
        except ConfigError as err:
            return None, [str(err)], []
        patterns = (config.app_schema or ()) if config is not None else ()
    # The same reading as check's: inside the repository only, one error per name.
    files, folders, errors = schema_files(patterns, boundary_for(os.getcwd()))
    problems = [f"{e.path}: {e.message}" for e in errors]
    notes = []
    others = [f for f in files if not f.endswith(".prisma")]
    if others:
        # check reads SQLAlchemy models too; here their queries come from
        # --sqlalchemy-metadata, so a shared config file must not stop the run.
        shown = ", ".join(display_path(f) for f in others[:3])
        notes.append(f"{shown}: not a Prisma schema; live derives Prisma queries only from one")
    # A multi-file schema named file by file (``prisma/schema/*.prisma``) is its folder.
    by_folder: dict[str, list[str]] = {}
    for f in files:
        if f.endswith(".prisma") and os.path.dirname(f) not in folders:
            by_folder.setdefault(os.path.dirname(f), []).append(f)
    choices = list(folders)
    choices += [d if len(named) > 1 else named[0] for d, named in sorted(by_folder.items())]
    if len(choices) > 1:
        shown = ", ".join(display_path(c) for c in choices[:3])
        problems.append(f"app schema: give one schema.prisma or one schema/ folder, not {shown}")
    if problems or not choices:
        return None, problems, notes
    return choices[0], [], notes


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


F = TypeVar("F", bound=Callable[..., Any])

# The options that choose the server and bound what runs on it, the same for ``live``
# and ``rehearse`` (the rehearsal runs on the live check's machinery).
_SERVER_OPTIONS = [
    click.option(
        "--pg-version",
        type=click.Choice(["16", "18"]),
        default=None,
        help="Bundled PostgreSQL major version to run (default: the newest bundled).",
    ),
    click.option(
        "--pg-bin",
        default=None,
        type=click.Path(),
        help="Use the PostgreSQL binaries in this directory instead of the bundled ones.",
    ),
    click.option(
        "--dsn",
        default=None,
        help="Use an existing server: migcheck works only in scratch databases it creates and drops.",
    ),
    click.option(
        "--statement-timeout",
        type=float,
        default=60.0,
        show_default=True,
        help="Seconds any one migration statement may run.",
    ),
    click.option(
        "--allow-extension",
        "allow_extensions",
        multiple=True,
        metavar="NAME[,NAME...]",
        help="Let migcheck create this extension as superuser when a migration's plain "
        "CREATE EXTENSION asks for it (migrations never run as superuser; trusted "
        "extensions need no flag). Repeatable.",
    ),
]


def server_options(command: F) -> F:
    """Add ``_SERVER_OPTIONS`` to a click command, in order."""
    for option in reversed(_SERVER_OPTIONS):
        command = option(command)
    return command


# Where the deployed (old) app's queries come from, the same for ``live`` and
# ``rehearse``; ``live`` adds the new version's (--new-queries, --new-ref).
_QUERY_OPTIONS = [
    click.option(
        "--old-queries",
        multiple=True,
        type=click.Path(),
        help="Queries of the app version deployed before the migration, which keeps "
        "running while it runs (.sql, or a pg_stat_statements export .csv/.json, its calls "
        "column weighing each query): checked by live, replayed as traffic by rehearse. "
        "Repeatable.",
    ),
    click.option(
        "--app-schema",
        "--prisma-schema",
        "app_schema",
        multiple=True,
        metavar="PATH",
        help="The app's schema.prisma (or prisma/schema/ folder): derive the app's queries "
        "from it at --app-ref (live: also the new app's at --new-ref; default: the config "
        "file's app-schema, else the schema beside the migrations). --prisma-schema is an "
        "alias.",
    ),
    click.option(
        "--sqlalchemy-metadata",
        default=None,
        help="SQLAlchemy model files (path or glob; module:attr names the module's file) to "
        "derive the app's queries from, read statically without importing them (at "
        "--app-ref; live: also at --new-ref).",
    ),
    click.option(
        "--app-ref",
        "--old-ref",
        "old_ref",
        default=None,
        metavar="REF",
        help="Git ref of the old (deployed) app version, e.g. origin/main (live's default "
        "with --diff and an app schema: the merge base). --old-ref is an alias.",
    ),
]


def query_options(command: F) -> F:
    """Add ``_QUERY_OPTIONS`` to a click command, in order."""
    for option in reversed(_QUERY_OPTIONS):
        command = option(command)
    return command


@click.command("live")
@click.argument("paths", nargs=-1, type=click.Path(), required=True)
@query_options
@click.option(
    "--new-queries",
    multiple=True,
    type=click.Path(),
    help="Queries of the app version being deployed. Repeatable.",
)
@click.option(
    "--new-ref", default="", help="Git ref of the new app version (default: working tree)."
)
@server_options
@click.option("--no-cache", is_flag=True, help="Replay the whole history; keep no template.")
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
    "--output-format",
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
    app_schema: tuple[str, ...],
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
        app_schema=list(app_schema),
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
