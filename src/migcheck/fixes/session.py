"""``check --fix`` / ``--show-fixes`` and the fixes of the SARIF and JSON reports: after
a run, the files with fixable findings are read again, their fixes planned and attached
to the result; with ``--fix`` the allowed files are written, then everything is linted
again so the report shows what remains.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from migcheck.fixes.model import FileFixes
    from migcheck.runner import RunRequest, RunResult


@dataclass
class Outcome:
    """What a fix stage did: the diff shown, the files written, those left alone."""

    diff: str = ""
    written: list[str] = field(default_factory=list)
    fixed: int = 0
    left: list[tuple[str, str]] = field(default_factory=list)


def planned_fixes(req: RunRequest, result: RunResult) -> list[FileFixes]:
    """Each file of the result with a fixable finding, and its fixes; the fixes are also
    attached to ``result.fixes`` for the reports."""
    from migcheck.fixes.plan import plan, wants_fix
    from migcheck.model import Options
    from migcheck.runner import DEFAULT_PG_VERSION, collect, parse_prisma_version

    paths = sorted({f.path for f in result.findings if wants_fix(f) and os.path.isfile(f.path)})
    if not paths:
        return []
    again = dataclasses.replace(req, paths=paths, stdin_text=None, diff_base=None, announce=None)
    histories = collect(again).histories
    settings = req.settings
    options = Options(
        pg_version=settings.pg_version or DEFAULT_PG_VERSION,
        assume_in_transaction=settings.assume_in_transaction,
        prisma_version=parse_prisma_version(settings.prisma_version),
    )
    planned = plan(result.findings, histories, options)
    for file in planned:
        seen: set[int] = set()
        for finding, fix in file.fixes:
            if id(fix) in seen:
                continue  # one lock_timeout per file: on its first finding only
            seen.add(id(fix))
            fix.locate(file.text)
            result.fixes.setdefault(finding.sort_key, []).append(fix)
    return planned


def fix_stage(
    req: RunRequest,
    result: RunResult,
    *,
    write: bool,
    show: bool,
    say: Callable[[str], None],
) -> tuple[RunResult, Outcome]:
    """Plan the fixes of ``result``; show and/or write them; with ``write`` the result of
    linting again after writing (the same result when nothing was written)."""
    from migcheck.fixes.apply import WriteError, editable, unified_diff, write_fixes
    from migcheck.sources.reading import boundary_for

    planned = planned_fixes(req, result)
    out = Outcome()
    if not (write or show) or not planned:
        return result, out
    allowed = editable(req.diff_base)
    boundary = boundary_for(os.getcwd())
    for file in planned:
        unapplied = [fix for _, fix in file.fixes if fix.applicability != "safe"]
        for fix in {id(f): f for f in unapplied}.values():
            out.left.append((file.path, f"{fix.rule}: {fix.title}: not applied, shown only"))
        if not file.edits:
            continue
        out.diff += unified_diff(file)
        if allowed.refused:
            out.left.append((file.path, allowed.refused))
            continue
        if file.path not in allowed.allowed:
            out.left.append((file.path, allowed.committed_reason))
            continue
        if write:
            try:
                write_fixes(file, boundary)
            except (WriteError, OSError) as err:
                out.left.append((file.path, str(err)))
                continue
            out.written.append(file.path)
            out.fixed += sum(1 for _, fix in file.fixes if fix.applicability == "safe")
    for path, reason in out.left:
        say(f"fix left alone: {path}: {reason}")
    if not write or not out.written:
        return result, out
    n = len(out.written)
    say(
        f"fixed {out.fixed} finding{'s' if out.fixed != 1 else ''} in {n} "
        f"file{'s' if n != 1 else ''} ({', '.join(out.written)}); linting again"
    )
    from migcheck.runner import run

    again = run(req)
    planned_fixes(req, again)  # what still has a fix, for the reports
    return again, out
