"""One lint run from request to result: discovery, rule selection, engine.

The CLI builds a ``RunRequest`` and prints what ``run`` returns; tests call ``run``
directly. Nothing here formats output.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from migcheck.config import Config, is_excluded, per_file_ignored
from migcheck.engine import Options, Result, default_rule_ids, lint
from migcheck.model import Finding, InputError
from migcheck.rules import all_rules
from migcheck.sources import History

if TYPE_CHECKING:
    from collections.abc import Callable

    from migcheck.baseline import BaselineEntry
    from migcheck.configreport import ConfigReport

DEFAULT_PG_VERSION = 14
CATEGORIES = ("compatibility", "locking", "data", "style", "meta")


@dataclass
class RunRequest:
    paths: list[str]
    stdin_text: str | None = None
    stdin_filename: str | None = None
    pg_version: int | None = None
    select: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    assume_in_transaction: bool = False
    changeset: bool | None = None
    prisma_version: str | None = None
    max_bytes: int = 10_000_000
    max_total_bytes: int = 64_000_000  # SQL one run reads in total (--max-total-size)
    exclude: list[str] = field(default_factory=list)
    alembic_import: bool = False
    include_downgrade: bool = False
    severity: dict[str, str] = field(default_factory=dict)
    transaction_per_migration: bool | None = None
    lock_timeout_role_level: bool = False
    config: Config | None = None
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
    # walked directory, an unreadable file read only as history).
    notes: list[InputError] = field(default_factory=list)


def select_rules(select: Sequence[str], extend: Sequence[str], ignore: Sequence[str]) -> list[str]:
    """Resolve ids and category names to rule ids. Unknown names raise ValueError."""
    rules = all_rules()

    def expand(names: Sequence[str]) -> list[str]:
        out: list[str] = []
        for name in names:
            if name in rules:
                out.append(name)
            elif name in CATEGORIES:
                out.extend(rid for rid, r in rules.items() if r.category == name)
            elif name.upper() == "ALL":
                out.extend(rules)
            else:
                raise ValueError(
                    f"unknown rule or category {name!r}; `migcheck rules` lists the rule ids, "
                    f"categories are {', '.join(CATEGORIES)}"
                )
        return out

    chosen = expand(select) if select else default_rule_ids()
    chosen += [r for r in expand(extend) if r not in chosen]
    dropped = set(expand(ignore))
    return [r for r in chosen if r not in dropped]


def parse_prisma_version(value: str | None) -> tuple[int, int] | None:
    from migcheck.sources.prisma import parse_version_spec

    if not value:
        return None
    version = parse_version_spec(value.strip())
    if version is None:
        raise ValueError(f"--prisma-version {value!r} is not a version like 5.22")
    return version


_SKIP_DIRS = frozenset({".git", "node_modules", "__pycache__", ".venv", "venv", "site-packages"})


def _alembic_roots(path: str, depth: int = 4) -> list[str]:
    """Alembic projects inside a directory given to migcheck (``alembic.ini``, or ``env.py``
    next to ``versions/``). The SQL walk skips ``.py`` files, so without this a plain
    ``migcheck repo/`` would miss them."""
    found: list[str] = []
    base = path.rstrip("/").count(os.sep)
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        if "alembic.ini" in files or ("env.py" in files and "versions" in dirs):
            found.append(root)
            dirs[:] = []
        elif root.count(os.sep) - base >= depth:
            dirs[:] = []
    return found


def _load_alembic(
    req: RunRequest, paths: list[str]
) -> tuple[list[History], list[InputError], list[Finding]]:
    histories: list[History] = []
    errors: list[InputError] = []
    if not paths:
        return histories, errors, []
    from migcheck.engine import meta_finding
    from migcheck.model import Span
    from migcheck.sources.alembic import load_alembic

    notes: list[Finding] = []
    if req.alembic_import and req.announce is not None:
        req.announce(
            f"importing Alembic revisions (runs their code) because {req.alembic_import_reason}"
        )
    for path in paths:
        hs, errs, nts = load_alembic(
            path, import_revisions=req.alembic_import, include_downgrade=req.include_downgrade
        )
        for history in hs:
            if req.transaction_per_migration is not None:
                history.settings["transaction_per_migration"] = req.transaction_per_migration
            for migration in history.migrations:
                # An excluded revision still builds the schema; it is just not judged.
                if is_excluded(req.config, migration.path):
                    migration.selected = False
        histories.extend(hs)
        errors.extend(errs)
        for n in nts:
            span = Span(n.line or 1, n.column or 1, n.line or 1, n.column or 1)
            notes.append(meta_finding("alembic-not-evaluated", n.path, span, n.message))
    return histories, errors, notes


@dataclass
class Collected:
    """Every history the paths name, the input errors, and the Alembic reader's notes."""

    histories: list[History]
    errors: list[InputError]
    notes: list[Finding]
    input_notes: list[InputError] = field(default_factory=list)


def collect(req: RunRequest) -> Collected:
    """Find the histories under ``req.paths``: Alembic projects and SQL layouts."""
    from migcheck.sources.alembic import is_alembic_path
    from migcheck.sources.discover import DiscoveryResult, discover
    from migcheck.sources.reading import is_inside, named_boundary

    alembic_paths: list[str] = []
    sql_paths: list[str] = []
    for p in req.paths:
        if p != "-" and not is_inside(p, named_boundary(p)):
            sql_paths.append(p)  # a link out of the tree: discovery reports it, unread
            continue
        if p != "-" and is_alembic_path(p):
            alembic_paths.append(p)
            continue
        sql_paths.append(p)
        if p != "-" and os.path.isdir(p):
            alembic_paths.extend(_alembic_roots(p))
    alembic_paths = [p for p in alembic_paths if not is_excluded(req.config, p)]
    found = (
        discover(
            sql_paths,
            stdin_text=req.stdin_text,
            stdin_filename=req.stdin_filename,
            exclude=req.exclude,
            max_bytes=req.max_bytes,
            max_total_bytes=req.max_total_bytes,
        )
        if sql_paths
        else DiscoveryResult()
    )
    a_hist, a_errors, a_notes = _load_alembic(req, alembic_paths)
    if a_hist:
        # A directory holding only an Alembic project is not "without migrations".
        found.errors = [e for e in found.errors if not e.message.startswith("no SQL migrations")]
    return Collected(found.histories + a_hist, found.errors + a_errors, a_notes, found.notes)


def discover_histories(req: RunRequest) -> tuple[list[History], list[InputError]]:
    found = collect(req)
    return found.histories, found.errors


def run(req: RunRequest) -> RunResult:
    rule_ids = select_rules(req.select, req.extend_select, req.ignore)
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
            return RunResult(config=req.config_report)
        # The changed files inside their histories: earlier migrations build the schema,
        # the changed ones are judged together as one deploy.
        req = dataclasses.replace(req, paths=diff.paths)
    found = collect(req)
    options = Options(
        pg_version=req.pg_version or DEFAULT_PG_VERSION,
        rules=rule_ids,
        assume_in_transaction=req.assume_in_transaction,
        changeset=req.changeset,
        prisma_version=parse_prisma_version(req.prisma_version),
        severity=dict(req.severity),
        rule_options={"lock_timeout_role_level": req.lock_timeout_role_level},
    )
    linted = lint(found.histories, options, found.notes)
    if req.config is not None:
        ignored: dict[str, set[str]] = {}
        for f in linted.findings:
            if f.path not in ignored:
                ignored[f.path] = per_file_ignored(req.config, f.path)
        linted.findings = [f for f in linted.findings if f.rule not in ignored[f.path]]
    result = RunResult(
        findings=sorted(
            linted.findings,
            key=lambda f: (f.path, f.span.line, f.span.column, f.rule),
        ),
        errors=found.errors + linted.errors,
        files=linted.files,
        statements=linted.statements,
        unrecognized=linted.unrecognized,
        suppressed=linted.suppressed,
        config=req.config_report,
        notes=found.input_notes,
    )
    if diff is not None and "edited-applied-migration" in rule_ids:
        from migcheck.gitdiff import edited_findings

        result.findings = sorted(
            result.findings + edited_findings(diff),
            key=lambda f: (f.path, f.span.line, f.span.column, f.rule),
        )
    result.fatal = bool(result.errors) and not found.histories
    # Last, once every source of findings has added its own.
    if req.write_baseline:
        from migcheck.baseline import write_baseline

        result.baseline_written = write_baseline(req.write_baseline, result.findings)
    if baseline is not None:
        selected = [m.path for h in found.histories for m in h.migrations if m.selected]
        new, matched, stale = baseline.filter(result.findings, selected)
        result.findings = new
        result.baselined = len(matched)
        result.stale_baseline = stale
        result.baseline_path = req.baseline
    return result
