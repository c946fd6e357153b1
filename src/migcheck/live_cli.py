"""``migcheck live``: find the migrations, run the live check, print the report.

Kept apart from ``cli.py`` so the linter's start-up path never imports any of this.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


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


def run_live_command(req: LiveRequest) -> int:
    from migcheck.errors import UserError
    from migcheck.live import (
        LiveError,
        LiveInterrupted,
        render_markdown,
        render_text,
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
    for history in histories:
        # With no changeset named, the changeset is the last migration of the history.
        if all(m.selected for m in history.migrations) and history.migrations:
            for m in history.migrations[:-1]:
                m.selected = False
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
        )
    except LiveInterrupted:
        print(
            "migcheck live: interrupted; server and scratch databases cleaned up", file=sys.stderr
        )
        return EXIT_INTERRUPTED
    except LiveError as err:
        print(f"migcheck live: {err}", file=sys.stderr)
        return EXIT_USAGE
    findings = to_findings(result)
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
    rank = {"info": 0, "warning": 1, "error": 2}
    if req.fail_on == "never":
        return EXIT_CLEAN
    worst = max((rank.get(f.severity, 0) for f in findings), default=-1)
    return EXIT_FINDINGS if worst >= rank[req.fail_on] else EXIT_CLEAN
