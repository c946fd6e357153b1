"""The human reports: ``text`` (the default) and ``concise``.

Both give each finding as ``path:line:col: severity[rule] message``. ``text`` groups the
findings of one statement: their lines, the statement's one safe sequence (``combine``),
then one excerpt of the statement pointing at them; a long help is printed at a rule's
first finding only. ``concise`` is
those lines alone (as ruff's ``--output-format concise``), then the summary.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from migcheck.lazyre import lazy
from migcheck.model import Finding, Result, SuppressedFinding
from migcheck.report.combine import Part, combine
from migcheck.report.escape import log_line, visible
from migcheck.report.excerpt import excerpt

_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m", "info": "\033[1;36m"}
_BOLD = "\033[1m"
_DIM = "\033[2m"
_RESET = "\033[0m"
# Help longer than this is printed at a rule's first finding only.
_LONG_HELP_LINES = 3
# What differs between two helps giving the same advice: quoted names, literals, numbers.
_NAMES = lazy(r"\"[^\"]*\"|'[^']*'|`[^`]*`|\d+")


def use_colour(stream: TextIO) -> bool:
    """Colour on a terminal only. ``NO_COLOR`` (any non-empty value) turns it off and
    ``FORCE_COLOR`` (any non-empty value) on, NO_COLOR winning (no-color.org,
    force-color.org); a dumb terminal gets none unless forced."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


def render(
    result: Result,
    *,
    colour: bool = False,
    statistics: bool = False,
    show_suppressed: bool = False,
    concise: bool = False,
) -> str:
    """The text report; ``concise`` gives one line per finding, without help or excerpt."""
    paint = _Paint(colour)
    out: list[str] = []
    for err in result.errors:
        path = visible(err.path)
        where = f"{path}:{err.line}" if err.line else path
        error = paint(_COLOURS["error"], "error")
        out.append(f"{paint(_BOLD, where)}: {error}: {visible(err.message)}")
    if concise:
        out.extend(_header(f, paint) for f in result.findings)
    else:
        helped: dict[object, Finding] = {}
        for group in _by_statement(result.findings):
            out.extend(_block(group, paint, helped))
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

    def dim(self, text: str) -> str:
        return self(_DIM, text)

    def severity(self, severity: str, text: str) -> str:
        return self(_COLOURS.get(severity, ""), text)


def _by_statement(findings: Sequence[Finding]) -> list[list[Finding]]:
    """The findings grouped by statement, each group where its first finding is.

    Findings of one statement share its text and its end (a finding on one action of an
    ALTER TABLE starts at the action and ends with the statement)."""
    groups: dict[object, list[Finding]] = {}
    for i, f in enumerate(findings):
        s = f.span
        key = (f.path, f.statement, s.end_line, s.end_column, s.end) if f.statement else i
        groups.setdefault(key, []).append(f)
    return list(groups.values())


def _header(f: Finding, paint: _Paint) -> str:
    sev = paint.severity(f.severity, visible(f"{f.severity}[{f.rule}]"))
    where = f"{visible(f.path)}:{f.line}:{f.column}"
    return f"{paint(_BOLD, where)}: {sev} {visible(f.message)}"


def _block(group: Sequence[Finding], paint: _Paint, helped: dict[object, Finding]) -> list[str]:
    """One statement: each finding's line, the statement's one help, the excerpt once."""
    out = [_header(f, paint) for f in group]
    for n, part in enumerate(combine(group)):
        out.extend(_help(part, paint, helped, first=n == 0))
    if group[0].statement:
        out.extend(excerpt(group, paint.dim, paint.severity))
    out.append("")
    return out


def _help(part: Part, paint: _Paint, helped: dict[object, Finding], *, first: bool) -> list[str]:
    """One part of a statement's help; a long one is given once per rule, later findings
    point back. A part after the first says which finding it is for."""
    f = part.finding
    label = paint(_BOLD, "help:" if first else f"help ({visible(f.rule)}):")
    lines = visible(f.help, multiline=True).splitlines()
    covers = [f"        {paint.dim('These steps also answer ' + ', '.join(part.covers) + '.')}"]
    if len(lines) > _LONG_HELP_LINES:
        key = (f.rule, _shape(lines))
        earlier = helped.get(key)
        if earlier is not None:
            where = f"{visible(earlier.path)}:{earlier.line}"
            back = f"  {label} see the first {visible(f.rule)} finding above ({where})"
            return [back, *covers] if part.covers else [back]
        helped[key] = f
    out = [f"  {label} {lines[0]}"]
    out.extend(f"        {line}" if line else "" for line in lines[1:])
    return [*out, *covers] if part.covers else out


def _shape(lines: Sequence[str]) -> tuple[str, ...]:
    """The prose of a help, names and numbers masked: two helps of one rule alike but for
    the names and the indented SQL give the same advice, while the advice for another tool
    (an Alembic revision, a Prisma schema) differs in its prose and is printed again."""
    prose = (line for line in lines if line and not line[0].isspace())
    return tuple(_NAMES.sub("_", line) for line in prose)


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
