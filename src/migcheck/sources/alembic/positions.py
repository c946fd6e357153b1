"""Source positions for revision files: line/column conversion and chunk provenance.

``ast`` reports columns as UTF-8 byte offsets; migcheck reports 1-based character
columns, so every position handed to the engine goes through ``SourceMap``.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable
from pathlib import Path

from migcheck.sources import SqlChunk

_QUOTES = ('"""', "'''", '"', "'")


def display_path(path: Path) -> str:
    """The path as shown to users: relative to the working directory when under it."""
    resolved = path.absolute()
    try:
        rel = resolved.relative_to(Path.cwd())
    except ValueError:
        return resolved.as_posix()
    text = rel.as_posix()
    return text if text != "." else "."


def normalise_newlines(text: str) -> str:
    """Python treats CRLF and CR as one line break each; so must our line table."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


class SourceMap:
    """Line table for one (newline-normalised) source text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.split("\n")

    def char_col(self, lineno: int, byte_offset: int) -> int:
        """Convert an ``ast`` byte offset on ``lineno`` into a 0-based character offset."""
        if lineno < 1 or lineno > len(self.lines):
            return byte_offset
        line = self.lines[lineno - 1]
        if line.isascii():
            return byte_offset
        return len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="replace"))

    def start(self, node: ast.AST) -> tuple[int, int]:
        """1-based (line, column) where ``node`` starts."""
        lineno: int = getattr(node, "lineno", None) or 1
        return lineno, self.char_col(lineno, getattr(node, "col_offset", 0)) + 1

    def end(self, node: ast.AST) -> tuple[int, int]:
        """1-based inclusive (line, column) of ``node``'s last character."""
        end_line: int = getattr(node, "end_lineno", None) or getattr(node, "lineno", None) or 1
        end_off = getattr(node, "end_col_offset", None)
        if end_off is None:
            return end_line, 1
        return end_line, max(self.char_col(end_line, end_off), 1)

    def string_content_start(self, node: ast.Constant) -> tuple[int, int] | None:
        """Where the first character of a string literal's value sits (1-based), or None.

        None when positions inside the value cannot be mapped one-to-one onto the source:
        escape sequences, line continuations or implicit concatenation of several literals
        make the value differ from the raw text between the quotes.
        """
        if not isinstance(node.value, str) or node.end_lineno is None:
            return None
        if node.end_col_offset is None:
            return None
        line_no = node.lineno
        start = self.char_col(line_no, node.col_offset)
        end_line = node.end_lineno
        end = self.char_col(end_line, node.end_col_offset)
        first = self.lines[line_no - 1]
        i = start
        while i < len(first) and first[i] in "rRuUbBfF":
            i += 1
        quote = next((q for q in _QUOTES if first.startswith(q, i)), None)
        if quote is None:
            return None
        content_start = i + len(quote)
        content_end = end - len(quote)
        if end_line == line_no:
            raw = first[content_start:content_end]
        else:
            parts = [first[content_start:]]
            parts.extend(self.lines[line_no : end_line - 1])
            parts.append(self.lines[end_line - 1][:content_end])
            raw = "\n".join(parts)
        if raw != node.value:
            return None
        return line_no, content_start + 1


def call_lines(first: int, last: int) -> list[int]:
    """A call's own lines plus the line above it (where suppression comments sit)."""
    return list(range(max(first - 1, 1), last + 1))


def make_chunk(
    source: SourceMap,
    node: ast.AST,
    sql: str,
    *,
    call_sites: Iterable[ast.AST] = (),
    autocommit: bool = False,
    origin: str = "",
    sql_start: tuple[int, int] | None = None,
) -> SqlChunk:
    """A chunk located at ``node``; ``call_sites`` are enclosing helper calls whose lines
    (and the lines above them) also accept suppression comments."""
    line, column = source.start(node)
    end_line, end_column = source.end(node)
    lines = set(call_lines(line, end_line))
    for site in call_sites:
        site_line = getattr(site, "lineno", line)
        site_end = getattr(site, "end_lineno", None) or site_line
        lines.update(call_lines(site_line, site_end))
    return SqlChunk(
        sql=sql,
        line=line,
        column=column,
        end_line=end_line,
        end_column=end_column,
        comment_lines=tuple(sorted(lines)),
        sql_line=sql_start[0] if sql_start else None,
        sql_column=sql_start[1] if sql_start else None,
        autocommit=autocommit,
        origin=origin,
    )


def same_file(a: str, b: str) -> bool:
    """Whether two filesystem paths name the same file (used for frame filenames)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)
