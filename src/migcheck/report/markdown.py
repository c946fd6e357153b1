"""The ``--format markdown`` report: one pull-request comment, one section per statement.

Each statement with findings is shown once, as a fenced SQL excerpt, followed by a table
of its findings with the lock the statement takes and what that lock blocks (the question
a reviewer asks first), and the statement's one safe sequence (``combine``) folded under ``<details>``. The first line is a hidden
marker, so the GitHub Action finds its own earlier comment and updates it in place instead
of adding one per push. Everything from the pull request is escaped (``report/mdtext``).
GitHub refuses comments over 65,536 characters: past a budget, the remaining statements
are counted, not shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from migcheck.model import Finding, Result
from migcheck.report._common import repo_path
from migcheck.report.mdtext import cell, code, fenced

# The first line: a hidden comment, ``<!-- migcheck-report findings=N errors=M -->``.
MARKER = "<!-- migcheck-report"
_BUDGET = 60_000
_SEVERITY = {"error": "**error**", "warning": "warning", "info": "info"}


@dataclass
class _Block:
    path: str
    statement: str
    findings: list[Finding] = field(default_factory=list)


def _blocks(findings: Sequence[Finding]) -> list[_Block]:
    """Findings grouped by the statement they are on, in report order."""
    blocks: list[_Block] = []
    index: dict[tuple[str, str], _Block] = {}
    for f in findings:
        key = (f.path, f.statement) if f.statement.strip() else (f.path, f"\0{f.span.line}")
        block = index.get(key)
        if block is None:
            block = index[key] = _Block(f.path, f.statement)
            blocks.append(block)
        block.findings.append(f)
    return blocks


def _section(block: _Block, root: str | None) -> str:
    first = block.findings[0]
    where = f"{repo_path(block.path, root)[0]}:{first.span.line}"
    out = [f"#### {code(where)}", ""]
    if block.statement.strip():
        out += [fenced(block.statement, "sql"), ""]
    out += ["| Severity | Rule | Lock | Blocks | Finding |", "|---|---|---|---|---|"]
    from migcheck.locks import BLOCKS

    for f in block.findings:
        if f.lock is not None:
            mode, table = f.lock
            lock = f"{mode} on {code(table)}" if table else mode
            blocks = cell(BLOCKS.get(mode, ""))
        else:
            lock = blocks = "–"
        out.append(
            f"| {_SEVERITY.get(f.severity, f.severity)} | {code(f.rule)} | {lock} | {blocks} "
            f"| {cell(f.message)} |"
        )
    from migcheck.report.combine import combine

    for part in combine(block.findings):
        title = f"How to fix ({cell(part.finding.rule)})"
        out += ["", f"<details><summary>{title}</summary>", "", fenced(part.text), ""]
        if part.covers:
            out += [f"These steps also answer {', '.join(code(r) for r in part.covers)}.", ""]
        out.append("</details>")
    return "\n".join(out) + "\n"


def render(result: Result, *, root: str | None = None) -> str:
    from migcheck.configreport import config_lines
    from migcheck.report.text import summary_line

    # The counts let the Action skip a comment on a clean pull request.
    head = f"{MARKER} findings={len(result.findings)} errors={len(result.errors)} -->"
    out = [head, f"### migcheck: {cell(summary_line(result))}", ""]
    for line in config_lines(result):
        out.append(f"> {cell(line)}")
    if config_lines(result):
        out.append("")
    if result.errors:
        out += ["**Input errors:**", ""]
        for e in result.errors:
            where = repo_path(e.path, root)[0] + (f":{e.line}" if e.line else "")
            out.append(f"- {code(where)}: {cell(e.message)}")
        out.append("")
    if not result.findings:
        out += ["No unsafe operation found.", ""]
    size = sum(len(line) + 1 for line in out)
    blocks = _blocks(result.findings)
    for shown, block in enumerate(blocks):
        section = _section(block, root)
        if size + len(section) > _BUDGET:
            rest = len(blocks) - shown
            out.append(
                f"… and {rest} more statement{'s' if rest != 1 else ''} with findings, "
                "not shown here (GitHub limits a comment's size): see the job log."
            )
            break
        out.append(section)
        size += len(section) + 1
    return "\n".join(out).rstrip("\n") + "\n"
