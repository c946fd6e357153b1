"""The source excerpt under a statement's findings: real line numbers, carets under each span.

A finding carries its statement's text and a span whose end is the statement's end
(``Rule.finding`` keeps it for a finding on one action of an ALTER TABLE, and
``split_sql`` guarantees ``file[span.start:span.end] == statement``). So the statement's
first line and each finding's place in its text follow from the finding alone, and the
report never reads the file again. When they do not (a statement rendered from an Alembic
call, one run by a DO block, a live-check trace), the text is shown as what runs,
without line numbers.

Everything shown goes through ``escape.visible`` one character at a time, so a caret
under a tab, a wide character or an escaped control character still lines up.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from migcheck.model import LINE_BREAK, SEVERITY_RANK, Finding
from migcheck.report.escape import visible

TAB_WIDTH = 4
# Statements up to this many lines are shown whole; longer ones around their findings.
WHOLE_LINES = 5
# Lines of context kept on each side of a finding's line in a longer statement.
CONTEXT = 1
# Lines of a statement shown when its findings cannot be placed on file lines.
RUNS_LINES = 4
ELLIPSIS = "\u2026"


@dataclass(frozen=True)
class Placed:
    """Where a finding sits in its statement: the statement's first file line and the
    finding's 0-based character offset into the statement's text."""

    first_line: int
    offset: int


def place(f: Finding) -> Placed | None:
    """The finding's place in its statement's text, or None when its span does not
    describe a slice of the file holding that text."""
    text, span = f.statement, f.span
    start = span.end - len(text)
    if not text or start < 0 or not start <= span.start < span.end:
        return None
    first = span.end_line - len(LINE_BREAK.findall(text))
    rel = span.start - start
    if first < 1 or first + len(LINE_BREAK.findall(text, 0, rel)) != span.line:
        return None
    return Placed(first, rel)


def _char(ch: str, at: int) -> tuple[str, int]:
    """How one input character is shown, and how many terminal cells it takes, when it
    starts at cell ``at``."""
    if ch == "\t":
        n = TAB_WIDTH - at % TAB_WIDTH
        return " " * n, n
    shown = visible(ch)
    if shown != ch:
        return shown, len(shown)
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return ch, 0
    return ch, 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _show(line: str, marks: Sequence[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """``line`` as printed, and each ``(start, end)`` character range as a cell range."""
    last = len(line)
    if line.isascii() and visible(line) == line:
        # ASCII with nothing to escape (no tab either): one cell per character, as
        # ``_char`` gives each of them. Most SQL is that, and an audit prints thousands.
        return line, [(min(a, last), max(min(b, last), min(a, last) + 1)) for a, b in marks]
    cells = [0]
    out = []
    for ch in line:
        shown, width = _char(ch, cells[-1])
        out.append(shown)
        cells.append(cells[-1] + width)
    ranges = []
    for a, b in marks:
        start = cells[min(a, last)]
        ranges.append((start, max(cells[min(b, last)], start + 1)))
    return "".join(out), ranges


@dataclass
class _Mark:
    start: int  # character offsets into the line
    end: int
    rules: list[str]
    severity: str  # the highest of its findings', for the caret's colour


def _marks(
    lines: list[str], starts: list[int], group: Sequence[tuple[Finding, Placed]]
) -> dict[int, list[_Mark]]:
    """The caret ranges of each line index, with the rules they point at."""
    out: dict[int, list[_Mark]] = {}
    for f, placed in group:
        index = f.line - placed.first_line
        line = lines[index]
        col = placed.offset - starts[index]
        # The span runs to the statement's end: underline up to that or the line's end,
        # less trailing blanks and the comma before the next action.
        end = len(line.rstrip().rstrip(",").rstrip()) if index < len(lines) - 1 else len(line)
        end = max(end, col + 1)
        marks = out.setdefault(index, [])
        for m in marks:
            if (m.start, m.end) == (col, end):
                if f.rule not in m.rules:
                    m.rules.append(f.rule)
                if SEVERITY_RANK.get(f.severity, 0) > SEVERITY_RANK.get(m.severity, 0):
                    m.severity = f.severity
                break
        else:
            marks.append(_Mark(col, end, [f.rule], f.severity))
    return out


def _shown_indexes(count: int, targets: set[int]) -> list[int]:
    if count <= WHOLE_LINES:
        return list(range(count))
    keep = {0}
    for t in targets:
        keep.update(range(max(0, t - CONTEXT), min(count, t + CONTEXT + 1)))
    return sorted(keep)


def _plain(text: str) -> str:
    return text


def _unpainted(_severity: str, text: str) -> str:
    return text


def excerpt(
    group: Sequence[Finding],
    dim: Callable[[str], str] = _plain,
    marker: Callable[[str, str], str] = _unpainted,
) -> list[str]:
    """The excerpt lines for the findings of one statement (report order); ``dim``
    paints the gutter, ``marker(severity, text)`` the carets and their label."""
    text = group[0].statement
    placed = [(f, p) for f in group if (p := place(f)) is not None]
    if len(placed) != len(group):
        return _runs(text, dim)
    first = placed[0][1].first_line
    lines = LINE_BREAK.split(text)
    starts = [0, *(brk.end() for brk in LINE_BREAK.finditer(text))]
    marks = _marks(lines, starts, placed)
    label = len({f.rule for f in group}) > 1
    shown = _shown_indexes(len(lines), set(marks))
    width = len(str(first + shown[-1]))
    blank = " " * width
    out: list[str] = []
    previous = -1
    for index in shown:
        if index > previous + 1:
            out.append(dim(f"  {blank} | ") + ELLIPSIS)
        previous = index
        line_marks = marks.get(index, [])
        printed, cells = _show(lines[index], [(m.start, m.end) for m in line_marks])
        printed = printed.rstrip()
        gutter = f"  {first + index:>{width}} |"
        out.append(dim(gutter + " ") + printed if printed else dim(gutter))
        for m, (a, b) in zip(line_marks, cells, strict=True):
            tail = f" {visible(', '.join(m.rules))}" if label else ""
            out.append(dim(f"  {blank} | ") + " " * a + marker(m.severity, "^" * (b - a) + tail))
    rest = len(lines) - 1 - previous
    if rest:
        out.append(
            dim(f"  {blank} | ") + f"{ELLIPSIS} ({rest} more line{'s' if rest != 1 else ''})"
        )
    return out


def _runs(text: str, dim: Callable[[str], str]) -> list[str]:
    """A statement not placed on file lines: the SQL it runs, without line numbers."""
    lines = [visible(line, multiline=True).expandtabs(TAB_WIDTH) for line in LINE_BREAK.split(text)]
    out = [dim("  runs:")]
    out.extend(dim("    | ") + line for line in lines[:RUNS_LINES])
    if len(lines) > RUNS_LINES:
        more = len(lines) - RUNS_LINES
        out.append(dim("    | ") + f"{ELLIPSIS} ({more} more line{'s' if more != 1 else ''})")
    return out
