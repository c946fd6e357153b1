"""The one path a finding takes after the rules ran, until it is reported.

In order: ``migcheck: ignore`` comments (and the findings about the comments
themselves), ``severity`` overrides, ``per-file-ignores``, the ``--diff`` edits of
shipped migrations, one sort into report order (``Finding.sort_key``), the re-grading by
what production proves (``rescale``: the deployed app's schema, table sizes), and last the
baseline (recorded with ``--write-baseline``, or hiding what ``--baseline`` records).
The engine and the runner call these steps; nothing else filters or sorts findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from migcheck.model import Finding, InputError, Options, Result
from migcheck.settings import Settings
from migcheck.suppress import Directive, apply_suppressions

if TYPE_CHECKING:
    from migcheck.appschema.gating import DeployedSchema
    from migcheck.baseline import Baseline, BaselineEntry
    from migcheck.schema import Schema
    from migcheck.sources import History
    from migcheck.tablestats import TableStats


@dataclass
class Walked:
    """What the engine's walk over the histories found, before the steps here."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    files: int = 0
    statements: int = 0
    unrecognized: int = 0
    # The ``migcheck: ignore`` comments of each judged migration, by path.
    directives: dict[str, list[Directive]] = field(default_factory=dict)
    # The ids of the rules that ran: only their suppressions can be judged unused.
    enabled: frozenset[str] = frozenset()
    # Each history with the schema its migrations build once all of them are replayed.
    schemas: list[tuple[History, Schema]] = field(default_factory=list)


def settle(
    walked: Walked,
    options: Options,
    source_findings: Iterable[Finding] = (),
    *,
    ignored: Callable[[str], set[str]] | None = None,
    edits: Sequence[Finding] = (),
) -> Result:
    """The findings of a walk, judged by the comments and the settings, in report order.

    ``source_findings`` (a reader's notes) are judged by the same comments as the rules'
    findings. ``ignored(path)`` gives the rule ids ``per-file-ignores`` turns off there.
    ``edits`` (``--diff``'s edited-applied-migration findings) are about the change, not
    the file's text, so comments, overrides and per-file ignores leave them as they are.
    """
    findings = [*walked.findings, *source_findings]
    kept, suppressed, meta = apply_suppressions(findings, walked.directives, walked.enabled)
    findings = kept + meta
    for f in findings:
        f.severity = options.severity.get(f.rule, f.severity)
    if ignored is not None:
        off: dict[str, set[str]] = {}
        for f in findings:
            if f.path not in off:
                off[f.path] = ignored(f.path)
        findings = [f for f in findings if f.rule not in off[f.path]]
    findings.extend(edits)
    findings.sort(key=lambda f: f.sort_key)
    return Result(
        findings=findings,
        errors=list(walked.errors),
        files=walked.files,
        statements=walked.statements,
        unrecognized=walked.unrecognized,
        suppressed=suppressed,
    )


def rescale(
    findings: Sequence[Finding],
    *,
    deployed: Sequence[DeployedSchema] = (),
    stats: TableStats | None = None,
    small_rows: int = Settings.small_table_rows,
    small_bytes: int = Settings.small_table_bytes,
) -> None:
    """Re-grade findings, in place, by what the run knows of production: first the
    contract steps the deployed app's schema proves safe, then lock findings by table size.
    Each lowered finding keeps ``original_severity`` and says its ``evidence``."""
    if deployed:
        from migcheck.appschema.gating import gate

        gate(findings, deployed)
    if stats is not None:
        from migcheck.tablestats import scale_by_size

        scale_by_size(findings, stats, small_rows, small_bytes)


def record_baseline(path: str, findings: Sequence[Finding]) -> int:
    """``--write-baseline``: record every finding left, once all sources added theirs."""
    from migcheck.baseline import write_baseline

    return write_baseline(path, findings)


def filter_baseline(
    baseline: Baseline, findings: Sequence[Finding], linted: Sequence[str]
) -> tuple[list[Finding], int, list[BaselineEntry]]:
    """``--baseline``: (the findings it does not record, how many it hid, its entries
    for ``linted`` paths that match nothing any more)."""
    new, matched, stale = baseline.filter(findings, linted)
    return new, len(matched), stale
