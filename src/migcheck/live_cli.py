"""``migcheck live``: find the migrations, run the live check, print the report.

Kept apart from ``cli.py`` so the linter's start-up path never imports any of this.
"""

from __future__ import annotations

import json
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


def run_live_command(req: LiveRequest) -> int:
    from migcheck.live import (
        LiveError,
        LiveInterrupted,
        render_markdown,
        render_text,
        run_live,
        to_findings,
    )
    from migcheck.runner import RunRequest, discover_histories

    histories, errors = discover_histories(RunRequest(paths=req.paths))
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
    elif req.fmt == "json":
        from migcheck.report.json import as_dict
        from migcheck.runner import RunResult

        data = as_dict(
            RunResult(
                findings=findings,
                errors=list(result.input_errors),
                files=sum(1 for h in histories for m in h.migrations if m.selected),
            )
        )
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(render_text(result))
    rank = {"info": 0, "warning": 1, "error": 2}
    if req.fail_on == "never":
        return EXIT_CLEAN
    worst = max((rank.get(f.severity, 0) for f in findings), default=-1)
    return EXIT_FINDINGS if worst >= rank[req.fail_on] else EXIT_CLEAN
