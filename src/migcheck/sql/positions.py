"""Positions in a migration's text: 0-based character offsets to 1-based (line, column).

A tab is one column; ``\\r\\n``, ``\\n`` and a lone ``\\r`` each end a line; a leading BOM
takes no column, because editors do not show it.
"""

from __future__ import annotations

from bisect import bisect_right

from migcheck.model import LINE_BREAK, Span

BOM = "\ufeff"


class LineIndex:
    """Turns 0-based character offsets of one text into 1-based (line, column)."""

    __slots__ = ("_bom", "_starts")

    def __init__(self, text: str) -> None:
        self._starts = [0, *[m.end() for m in LINE_BREAK.finditer(text)]]
        self._bom = text.startswith(BOM)

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self._starts, offset)
        column = offset - self._starts[line - 1] + 1
        # Editors do not show the BOM, so it must not shift the columns of line 1.
        if line == 1 and self._bom and offset > 0:
            column -= 1
        return line, column

    def line_start(self, line: int) -> int:
        """Offset of the first character of a 1-based line."""
        return self._starts[line - 1]

    def span(self, start: int, end: int) -> Span:
        """The span of ``text[start:end]``; ``end`` is exclusive and greater than ``start``."""
        line, column = self.position(start)
        end_line, end_column = self.position(end - 1)
        return Span(line, column, end_line, end_column, start, end)


def line_col(text_index: LineIndex, offset: int) -> tuple[int, int]:
    """The 1-based (line, column) of a 0-based offset."""
    return text_index.position(offset)
