"""Which findings of a run get which fix: the files are read again and parsed, each
finding's statement rewritten (``sql``, ``alembic``), CONCURRENTLY moved to a migration
of its own where the layout allows (``prisma``), and the edits of one file merged
without overlaps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from migcheck.fixes.model import NEEDS_OWN_MIGRATION, SAFE, FileFixes, Fix, TextEdit
from migcheck.fixes.sql import (
    CONCURRENTLY_TITLE,
    LOCK_TIMEOUT_TITLE,
    Where,
    sql_fixes,
)

if TYPE_CHECKING:
    from migcheck.model import Finding, Options, Statement
    from migcheck.sources import History, Migration

# The rules a fix answers: a run with none of their findings reads nothing again.
FIXABLE = frozenset(
    {
        "non-concurrent-index",
        "non-concurrent-drop-index",
        "non-concurrent-reindex",
        "constraint-without-not-valid",
        "set-not-null-scan",
        "set-not-null",
        "unique-without-index",
        "missing-lock-timeout",
    }
)


def wants_fix(finding: Finding) -> bool:
    """Whether a rewrite may answer the finding (every locking one: the lock_timeout)."""
    return finding.rule in FIXABLE or finding.category == "locking"


def plan(findings: list[Finding], histories: list[History], options: Options) -> list[FileFixes]:
    """Each file with a fixable finding, with its fixes (files without one are left out);
    ``options`` are the run's (target version, what the runner is assumed to do)."""
    by_path: dict[str, list[Finding]] = {}
    for f in findings:
        if wants_fix(f):
            by_path.setdefault(f.path, []).append(f)
    out: list[FileFixes] = []
    for history in histories:
        for migration in history.migrations:
            wanted = by_path.pop(migration.path, None)
            if not wanted:
                continue
            planned = _plan_file(migration, wanted, history, options)
            if planned is not None and planned.fixes:
                out.append(planned)
    return out


def _plan_file(
    migration: Migration, findings: list[Finding], history: History, options: Options
) -> FileFixes | None:
    from migcheck.statements import parse
    from migcheck.transactions import runner_transaction

    pg = options.pg_version
    if migration.tool == "alembic":
        from migcheck.fixes.alembic import alembic_fixes

        return alembic_fixes(migration, findings, pg)
    loaded = parse(migration)
    text = migration.text
    if text is None:
        return None
    statements = loaded.statements
    # The engine's own model of the runner (one fact in one place), and a BEGIN the
    # file writes itself.
    mode, _ = runner_transaction(history, migration, statements, options)
    explicit = any(op.kind == "begin" for s in statements for op in s.ops)
    shared = sum(not s.embedded for s in statements) > 1
    implicit = bool(migration.notes.get("implicit_transaction"))
    where = Where(mode is not None or explicit, pg, shared, implicit)
    planned = FileFixes(migration.path, text, migration.tool)
    for finding in sorted(findings, key=lambda f: f.sort_key):
        for fix in sql_fixes(finding, statements, text, where):
            planned.fixes.append((finding, fix))
    if migration.tool == "prisma":
        from migcheck.fixes.prisma import move_to_own_migrations

        move_to_own_migrations(planned, statements, history)
    _drop_conflicts(planned, statements)
    return planned


def _drop_conflicts(planned: FileFixes, statements: list[Statement]) -> None:
    """Keep the first of overlapping fixes (the rest wait for the next ``--fix``), one
    lock_timeout per file, and none in a file with a statement that must run outside a
    transaction: the SET would make a one-statement file a transaction block, and the
    timeout would also cut short a concurrent build's waits, leaving an INVALID index."""
    outside = any(_outside_tx(s) for s in statements) or any(
        fix.applicability == SAFE and fix.title.startswith(CONCURRENTLY_TITLE) and not fix.new_files
        for _, fix in planned.fixes
    )
    kept: list[tuple[Finding, Fix]] = []
    taken: list[TextEdit] = []
    lock_fix: Fix | None = None
    for finding, fix in planned.fixes:
        if fix.title == LOCK_TIMEOUT_TITLE:
            if outside:
                continue
            lock_fix = lock_fix or fix
            kept.append((finding, lock_fix))  # one edit, shared by every locking finding
            continue
        if fix.applicability == SAFE:
            if any(_overlap(e, t) for e in fix.edits for t in taken if e != t):
                fix.applicability = NEEDS_OWN_MIGRATION
                fix.title += " (overlaps another fix: run --fix again)"
            else:
                taken.extend(fix.edits)
        kept.append((finding, fix))
    planned.fixes = kept


def _outside_tx(stmt: Statement) -> bool:
    return any(op.concurrently or op.kind in ("vacuum", "drop_database") for op in stmt.ops)


def _overlap(a: TextEdit, b: TextEdit) -> bool:
    """Two edits touch the same characters (an insertion only strictly inside another)."""
    return a.start < b.end and b.start < a.end
