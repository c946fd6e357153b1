"""Findings as LSP diagnostics, and the hover text of a rule.

Positions: migcheck's spans are 1-based, inclusive, in characters; LSP ranges are
0-based, end-exclusive, in UTF-16 code units (the protocol's default encoding), so a
line with characters beyond the BMP (emoji in a comment) shifts what follows.
Every text taken from the input goes through ``report.escape.visible``: an editor shows
a message as it is, so a control character in a migration must not reach it raw.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types

from migcheck.model import Finding, InputError, Span
from migcheck.report.escape import visible

SOURCE = "migcheck"
_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class Lines:
    """A buffer's lines, to turn (line, column) and character offsets into LSP positions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True) or [""]
        self.starts: list[int] = []
        offset = 0
        for line in self.lines:
            self.starts.append(offset)
            offset += len(line)

    def position(self, line: int, column: int) -> types.Position:
        """The position before the 1-based ``column`` of 1-based ``line``."""
        row = min(max(line, 1), len(self.lines)) - 1
        chars = self.lines[row].rstrip("\r\n")
        return types.Position(row, _utf16(chars[: max(column - 1, 0)]))

    def at_offset(self, offset: int) -> types.Position:
        """The position of the 0-based character ``offset``."""
        import bisect

        offset = min(max(offset, 0), len(self.text))
        row = max(bisect.bisect_right(self.starts, offset) - 1, 0)
        return types.Position(row, _utf16(self.lines[row][: offset - self.starts[row]]))

    def offset(self, position: types.Position) -> int:
        """The character offset of an LSP position (UTF-16 column)."""
        row = min(position.line, len(self.lines) - 1)
        line, units, chars = self.lines[row], 0, 0
        while chars < len(line) and units < position.character:
            units += 2 if ord(line[chars]) > 0xFFFF else 1
            chars += 1
        return self.starts[row] + chars

    def range(self, span: Span) -> types.Range:
        start = self.position(span.line, span.column)
        # An inclusive last column is the exclusive end one character on.
        end = self.position(span.end_line, span.end_column + 1)
        if (end.line, end.character) < (start.line, start.character):
            end = start
        return types.Range(start, end)


def diagnostic(finding: Finding, lines: Lines) -> types.Diagnostic:
    message = visible(finding.message)
    if finding.help:
        message += "\n\nHow to fix: " + visible(finding.help, multiline=True)
    return types.Diagnostic(
        range=lines.range(finding.span),
        message=message,
        severity=_SEVERITY.get(finding.severity, types.DiagnosticSeverity.Warning),
        code=finding.rule,
        source=SOURCE,
    )


def error_diagnostic(error: InputError, lines: Lines) -> types.Diagnostic:
    """An input error (a config file, an unreadable revision) on the line it names."""
    line = error.line or 1
    return types.Diagnostic(
        range=types.Range(lines.position(line, 1), lines.position(line, 1 << 20)),
        message=visible(error.message),
        severity=types.DiagnosticSeverity.Error,
        code="input-error",
        source=SOURCE,
    )


def diagnostics(
    findings: Sequence[Finding], errors: Sequence[InputError], text: str
) -> list[types.Diagnostic]:
    lines = Lines(text)
    return [
        *(error_diagnostic(e, lines) for e in errors),
        *(diagnostic(f, lines) for f in findings),
    ]


def contains(rng: types.Range, pos: types.Position) -> bool:
    return (
        (rng.start.line, rng.start.character)
        <= (pos.line, pos.character)
        <= (
            rng.end.line,
            rng.end.character,
        )
    )


def hover_text(rule_ids: Sequence[str]) -> str | None:
    """The explanation (``rules/<id>.md``) of each rule, as Markdown."""
    from migcheck.docs import rule_doc

    docs = [doc.strip() for rid in dict.fromkeys(rule_ids) if (doc := rule_doc(rid))]
    return "\n\n---\n\n".join(docs) or None
