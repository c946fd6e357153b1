"""The default human report: ``path:line:col: severity[rule] message`` with help and excerpt."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from migcheck.model import Finding, Result, SuppressedFinding
from migcheck.report.escape import log_line, visible

_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m", "info": "\033[1;36m"}
_BOLD = "\033[1m"
_DIM = "\033[2m"
_RESET = "\033[0m"
_EXCERPT_LINES = 4


def use_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def render(
    result: Result, *, colour: bool = False, statistics: bool = False, show_suppressed: bool = False
) -> str:
    paint = _Paint(colour)
    out: list[str] = []
    for err in result.errors:
        path = visible(err.path)
        where = f"{path}:{err.line}" if err.line else path
        error = paint(_COLOURS["error"], "error")
        out.append(f"{paint(_BOLD, where)}: {error}: {visible(err.message)}")
    for f in result.findings:
        out.extend(_finding(f, paint))
    if statistics:
        out.extend(_statistics(result.findings))
    if show_suppressed and result.suppressed:
        # Its paths and reasons come from the input; its newlines are its own layout.
        out.append(visible(render_suppressed(result.suppressed), multiline=True))
    stale = getattr(result, "stale_baseline", None)
    if stale:
        from migcheck.baseline import render_stale

        baseline = getattr(result, "baseline_path", None) or "baseline"
        out.append(visible(render_stale(stale, baseline), multiline=True))
    from migcheck.configreport import config_lines

    out.extend(config_lines(result))
    out.append(summary_line(result))
    # Any line may start with input (a path); a multi-line block may hold several lines.
    return "\n".join(log_line(line) for block in out for line in block.split("\n")) + "\n"


class _Paint:
    """Wraps text in an ANSI style when colour is on."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.colour else text


def _finding(f: Finding, paint: _Paint) -> list[str]:
    """One finding: its line, its help, the statement's first lines, then a blank line."""
    sev = paint(_COLOURS.get(f.severity, ""), visible(f"{f.severity}[{f.rule}]"))
    where = f"{visible(f.path)}:{f.line}:{f.column}"
    out = [f"{paint(_BOLD, where)}: {sev} {visible(f.message)}"]
    if f.help:
        help_lines = visible(f.help, multiline=True).splitlines()
        out.append(f"  {paint(_BOLD, 'help:')} {help_lines[0]}")
        out.extend(f"        {line}" if line else "" for line in help_lines[1:])
    if f.statement:
        out.extend(_excerpt(f, paint))
    out.append("")
    return out


def _excerpt(f: Finding, paint: _Paint) -> list[str]:
    lines = visible(f.statement, multiline=True).splitlines()
    shown = lines[:_EXCERPT_LINES]
    gutter = len(str(f.span.line + len(shown)))
    # A statement rendered from Python (an Alembic op call) is not the text of those
    # source lines: show it as the SQL the call runs, without line numbers.
    rendered = f.path.endswith(".py")
    out = [paint(_DIM, "  runs:")] if rendered else []
    for i, line in enumerate(shown):
        number = "" if rendered else f.span.line + i
        out.append(paint(_DIM, f"  {number:>{gutter}} | ") + line)
    if len(lines) > _EXCERPT_LINES:
        more = len(lines) - _EXCERPT_LINES
        out.append(paint(_DIM, f"  {'':>{gutter}} | ... ({more} more lines)"))
    return out


def _statistics(findings: Sequence[Finding]) -> list[str]:
    counts = Counter((f.rule, f.severity) for f in findings)
    out = [
        f"{n:>5}  {rule:<32} {sev}"
        for (rule, sev), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return [*out, ""] if counts else out


def render_suppressed(items: Sequence[SuppressedFinding]) -> str:
    """The ``--show-suppressed`` lines of the text report (empty when none)."""
    lines = []
    for s in sorted(items, key=lambda s: (s.finding.path, s.finding.line, s.finding.column)):
        f = s.finding
        reason = s.reason or "(no reason given)"
        lines.append(f"suppressed: {f.path}:{f.line}:{f.column} {f.rule} \u2014 {reason}")
    return "\n".join(lines) + "\n" if lines else ""


def summary_line(result: Result) -> str:
    by = Counter(f.severity for f in result.findings)
    parts = [f"{by.get(s, 0)} {s}{'s' if by.get(s, 0) != 1 else ''}" for s in ("error", "warning")]
    info = by.get("info", 0)
    if info:
        parts.append(f"{info} info")
    files = f"{result.files} file{'s' if result.files != 1 else ''}"
    stmts = f"{result.statements} statement{'s' if result.statements != 1 else ''}"
    text = f"Checked {files}, {stmts}: {', '.join(parts)}"
    if result.unrecognized:
        text += f"; {result.unrecognized} statement{'s' if result.unrecognized != 1 else ''} not understood"
    if result.errors:
        text += f"; {len(result.errors)} input error{'s' if len(result.errors) != 1 else ''}"
    return text + "."
