"""One lint run from request to result: discovery, rule selection, engine.

The CLI builds a ``RunRequest`` and prints what ``run`` returns; tests call ``run``
directly. Nothing here formats output.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from migcheck.config import Config, is_excluded, per_file_ignored
from migcheck.engine import walk
from migcheck.model import Finding, InputError, Options, Result
from migcheck.postlint import filter_baseline, record_baseline, rescale, settle
from migcheck.selection import select_rules
from migcheck.settings import Settings
from migcheck.sources import History
from migcheck.vocabulary import CATEGORIES

if TYPE_CHECKING:
    from collections.abc import Callable

    from migcheck.appschema.gating import DeployedSchema
    from migcheck.baseline import BaselineEntry
    from migcheck.configreport import ConfigReport
    from migcheck.fixes.model import Fix
    from migcheck.schema import Schema

DEFAULT_PG_VERSION = 14


@dataclass
class RunRequest:
    """One lint run: what to read, the settings, and what surrounds the run."""

    paths: list[str]
    settings: Settings = field(default_factory=Settings)
    stdin_text: str | None = None
    stdin_filename: str | None = None
    changeset: bool | None = None
    config: Config | None = None  # for its globs (exclude, per-file-ignores)
    baseline: str | None = None  # report only findings not recorded in this file
    write_baseline: str | None = None  # record the current findings in this file
    diff_base: str | None = None
    allow_fetch: bool = True
    # What the config file used disables; the runner adds the changed migrations it
    # excludes under --diff, and the result carries it to every report.
    config_report: ConfigReport | None = None
    # Why Alembic revisions are imported (for the stderr line saying code runs), and
    # where that line goes; the runner says it once, just before the first import.
    alembic_import_reason: str = "--alembic-import was given"
    announce: Callable[[str], None] | None = None


@dataclass
class RunResult(Result):
    # True when nothing could be read at all: the run is an input error (exit 2).
    fatal: bool = False
    baseline_path: str | None = None
    baselined: int = 0  # findings hidden because the baseline records them
    stale_baseline: list[BaselineEntry] = field(default_factory=list)
    baseline_written: int | None = None  # findings recorded by --write-baseline
    config: ConfigReport | None = None  # the config file used and what it disables
    # Skipped entries that are not input errors (a FIFO or a link out of the tree in a
    # walked directory).
    notes: list[InputError] = field(default_factory=list)
    # Unreadable files read only as history (neither named nor changed): not this run's
    # input errors, reported as one line.
    history_errors: list[InputError] = field(default_factory=list)
    # The fixes of each finding, by ``Finding.sort_key``, when the run asked for them
    # (``--fix``, ``--show-fixes``, the SARIF and JSON reports: ``fixes.session``).
    fixes: dict[tuple[str, int, int, str], list[Fix]] = field(default_factory=dict)


def parse_prisma_version(value: str | None) -> tuple[int, int] | None:
    from migcheck.sources.prisma import parse_version_spec

    if not value:
        return None
    version = parse_version_spec(value.strip())
    if version is None:
        raise ValueError(f"--prisma-version {value!r} is not a version like 5.22")
    return version


@dataclass
class Collected:
    """Every history the paths name, the input errors, and the Alembic reader's notes."""

    histories: list[History]
    errors: list[InputError]
    notes: list[Finding]
    input_notes: list[InputError] = field(default_factory=list)
    history_errors: list[InputError] = field(default_factory=list)


def collect(req: RunRequest) -> Collected:
    """Find the histories under ``req.paths``: Alembic projects and SQL layouts."""
    from migcheck.model import Span
    from migcheck.rules import meta_finding
    from migcheck.sources.alembic.projects import AlembicRequest
    from migcheck.sources.discover import discover

    announce = req.announce
    reason = req.alembic_import_reason
    settings = req.settings
    found = discover(
        req.paths,
        stdin_text=req.stdin_text,
        stdin_filename=req.stdin_filename,
        exclude=settings.exclude,
        max_bytes=settings.max_bytes,
        max_total_bytes=settings.max_total_bytes,
        alembic=AlembicRequest(
            import_revisions=settings.alembic_import,
            include_downgrade=settings.include_downgrade,
            transaction_per_migration=settings.transaction_per_migration,
            announce=None
            if announce is None
            else lambda: announce(
                f"importing Alembic revisions (runs their code) because {reason}"
            ),
        ),
        excluded=lambda path: is_excluded(req.config, path),
    )
    notes = []
    for n in found.alembic_notes:
        span = Span(n.line or 1, n.column or 1, n.line or 1, n.column or 1)
        notes.append(meta_finding("alembic-not-evaluated", n.path, span, n.message))
    return Collected(found.histories, found.errors, notes, found.notes, found.history_errors)


def discover_histories(req: RunRequest) -> tuple[list[History], list[InputError]]:
    found = collect(req)
    return found.histories, found.errors


def run(req: RunRequest) -> RunResult:
    settings = req.settings
    rule_ids = select_rules(settings.select, settings.extend_select, settings.ignore)
    baseline = None
    if req.baseline:
        from migcheck.baseline import load_baseline

        baseline = load_baseline(req.baseline)  # BaselineError: the CLI exits 2
    diff = None
    if req.diff_base is not None:
        from pathlib import Path

        from migcheck.gitdiff import changed_migration_paths

        diff = changed_migration_paths(
            req.diff_base, Path.cwd(), allow_fetch=req.allow_fetch, pathspecs=req.paths
        )
        if req.config_report is not None and req.config is not None:
            excluded = [p for p in diff.paths if is_excluded(req.config, p)]
            report = dataclasses.replace(req.config_report, excluded_changed=excluded)
            req = dataclasses.replace(req, config_report=report)
        if not diff.paths:
            # No migration changed, but the app's schema may have (a field added with no
            # migration): the histories are still replayed for app-schema-mismatch.
            return _drift_only(req, rule_ids)
        # The changed files inside their histories: earlier migrations build the schema,
        # the changed ones are judged together as one deploy.
        req = dataclasses.replace(req, paths=diff.paths)
    found = collect(req)
    options = Options(
        pg_version=settings.pg_version or DEFAULT_PG_VERSION,
        rules=rule_ids,
        assume_in_transaction=settings.assume_in_transaction,
        changeset=req.changeset,
        prisma_version=parse_prisma_version(settings.prisma_version),
        severity=dict(settings.severity),
        rule_options=settings.rule_options,
    )
    edits = []
    if diff is not None and "edited-applied-migration" in rule_ids:
        from migcheck.gitdiff import edited_findings

        edits = edited_findings(diff)
    config = req.config
    walked = walk(found.histories, options, _wants_schema(req, rule_ids))
    drift = _drift(req, walked.schemas, rule_ids, found.notes)
    linted = settle(
        walked,
        options,
        [*found.notes, *drift.findings],
        ignored=None if config is None else lambda path: per_file_ignored(config, path),
        edits=edits,
    )
    result = RunResult(
        findings=linted.findings,
        errors=found.errors + drift.errors + linted.errors,
        files=linted.files,
        statements=linted.statements,
        unrecognized=linted.unrecognized,
        suppressed=linted.suppressed,
        config=req.config_report,
        notes=found.input_notes + _fetch_notes(diff),
        history_errors=found.history_errors,
    )
    result.fatal = bool(result.errors) and not found.histories
    deployed, schema_errors = _deployed_schema(req, diff, found.histories)
    # A schema file unreadable on the deployed version (``main:app/models.py``), or named
    # where it cannot be read, and unreadable on disk is one problem: say it once.
    named = {e.path for e in schema_errors} | {e.path.partition(":")[2] for e in schema_errors}
    result.errors = [e for e in result.errors if e not in drift.errors or e.path not in named]
    result.errors.extend(schema_errors)
    stats = None
    if settings.table_stats is not None:
        from migcheck.tablestats import load_table_stats

        # With --diff the sizes are the base's: a pull request cannot shrink its tables.
        stats = load_table_stats(settings.table_stats, req.diff_base)
        if not stats.tables:
            result.notes.append(
                InputError(stats.source, "lists no table; findings keep their severity")
            )
    result.notes.extend(drift.notes)
    rescale(
        result.findings,
        deployed=deployed,
        stats=stats,
        small_rows=settings.small_table_rows,
        small_bytes=settings.small_table_bytes,
    )
    # Last, once every source of findings has added its own.
    if req.write_baseline:
        result.baseline_written = record_baseline(req.write_baseline, result.findings)
    if baseline is not None:
        selected = [m.path for h in found.histories for m in h.migrations if m.selected]
        result.findings, result.baselined, result.stale_baseline = filter_baseline(
            baseline, result.findings, selected
        )
        result.baseline_path = req.baseline
    return result


def _drift_only(req: RunRequest, rule_ids: list[str]) -> RunResult:
    """``--diff`` with no changed migration: only app-schema-mismatch, over the histories
    under the paths given, every migration replayed and none judged by the rules."""
    if "app-schema-mismatch" not in rule_ids:
        return RunResult(config=req.config_report)
    found = collect(req)
    settings = req.settings
    options = Options(
        pg_version=settings.pg_version or DEFAULT_PG_VERSION,
        rules=[],
        severity=dict(settings.severity),
    )
    walked = walk(found.histories, options, lambda history: True)
    drift = _drift(req, walked.schemas, rule_ids, found.notes)
    walked.findings, walked.files, walked.statements = [], 0, 0
    settled = settle(walked, options, drift.findings)
    return RunResult(
        findings=settled.findings,
        errors=drift.errors,
        notes=drift.notes,
        suppressed=settled.suppressed,
        config=req.config_report,
    )


def _wants_schema(req: RunRequest, rule_ids: list[str]) -> Callable[[History], bool] | None:
    """Which histories' schemas ``_drift`` compares: the walk replays them even when the
    result cache knows their findings."""
    if "app-schema-mismatch" not in rule_ids:
        return None
    if req.settings.app_schema:
        return lambda history: True

    def conventional(history: History) -> bool:
        # Without a schema.prisma there is nothing to compare: a history the cache
        # answers whole is then not replayed at all.
        if history.tool != "prisma" or not any(m.selected for m in history.migrations):
            return False
        from migcheck.appschema.gating import conventional_paths

        return bool(conventional_paths(history))

    return conventional


@dataclass
class _Drift:
    findings: list[Finding] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    notes: list[InputError] = field(default_factory=list)


def _drift(
    req: RunRequest,
    schemas: list[tuple[History, Schema]],
    rule_ids: list[str],
    reader_notes: list[Finding],
) -> _Drift:
    """``app-schema-mismatch``: the app schema at HEAD (the files on disk) against what
    each history's migrations build; nothing without an app schema."""
    out = _Drift()
    if "app-schema-mismatch" not in rule_ids or not schemas:
        return out
    if not req.settings.app_schema and not any(h.tool == "prisma" for h, _ in schemas):
        return out  # no schema named and none found by convention: nothing to import
    from migcheck.appschema.drift import compare, read_head

    head = read_head(schemas, req.settings.app_schema, req.settings.max_bytes)
    out.errors, out.notes = head.errors, head.notes
    # Revisions with an operation the Alembic reader could not evaluate: what it would
    # create is missing from the replay, so its absence proves nothing.
    unread = frozenset(
        n.path
        for n in reader_notes
        if n.rule == "alembic-not-evaluated" and " not evaluated" in n.message
    )
    for history, schema, app in head.by_history:
        if app is not None and any(m.selected for m in history.migrations):
            out.findings.extend(compare(history, schema, app, unread))
    return out


def _deployed_schema(
    req: RunRequest, diff: object, histories: list[History]
) -> tuple[list[DeployedSchema], list[InputError]]:
    """The deployed app's schemas (``appschema.gating``) read from git, and one input error
    per schema file that cannot be read; none without a deployed version (no ``--diff``,
    no ``--app-ref``) or schema file."""
    settings = req.settings
    if settings.app_ref is None and diff is None and not settings.app_schema:
        return [], []
    from pathlib import Path

    from migcheck.appschema.gating import load_all, schema_groups
    from migcheck.gitdiff import base_tree, tree_at
    from migcheck.sources.reading import boundary_for

    groups, errors = schema_groups(settings.app_schema, histories, boundary_for(str(Path.cwd())))
    if settings.app_ref is not None:
        tree = base_tree(settings.app_ref, Path.cwd())
    elif getattr(diff, "base_commit", None):
        commit = str(getattr(diff, "base_commit", ""))
        tree = tree_at(commit, req.diff_base or commit[:12], Path.cwd())
    else:
        return [], errors
    deployed, problems = load_all(groups, tree, settings.max_bytes)
    return deployed, errors + problems


def _fetch_notes(diff: object) -> list[InputError]:
    """Say that --diff fetched history (a shallow CI clone deepened), and how to avoid it."""
    fetched: list[str] = list(getattr(diff, "fetched", None) or [])
    if not fetched:
        return []
    shown = "; ".join(fetched[:3]) + (f"; … ({len(fetched)} fetches)" if len(fetched) > 3 else "")
    return [
        InputError(
            "--diff",
            f"the clone was shallow or lacked the base, so history was fetched: {shown}. "
            "Check out with full history (actions/checkout `fetch-depth: 0`, GitLab "
            "`GIT_DEPTH: 0`) to skip this.",
        )
    ]


# Re-exported: callers resolved rule selection and its vocabulary from here.
__all__ = [
    "CATEGORIES",
    "RunRequest",
    "RunResult",
    "collect",
    "discover_histories",
    "parse_prisma_version",
    "run",
    "select_rules",
]
