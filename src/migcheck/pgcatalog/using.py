"""Read ``ALTER COLUMN ... TYPE ... USING`` as a chain of casts on the bare column.

``USING c::text::varchar(9)`` relabels like successive ALTERs, so the type-change analysis
walks the chain; anything else a USING computes means a rewrite. The scanner is linear in
the text: a USING comes from a stranger's migration and may be deeply nested.
"""

from __future__ import annotations

import re

from migcheck.lazyre import lazy
from migcheck.model import ColumnType, Expression
from migcheck.pgcatalog.typenames import parse_type, split_identifier

# A column reference, optionally qualified and quoted: t.c, "C", s.t."C".
_IDENT_RE = lazy(
    r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*))*'
)


def _strip_parens(text: str) -> str:
    # One pass over the text: re-scanning it per parenthesis level is quadratic, and a
    # USING of 5,000 nested parentheses then takes seconds.
    closing: dict[int, int] = {}
    stack: list[int] = []
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            closing[stack.pop()] = i
    start, end = 0, len(text) - 1
    while True:
        while start <= end and text[start].isspace():
            start += 1
        while end >= start and text[end].isspace():
            end -= 1
        if start < end and text[start] == "(" and closing.get(start) == end:
            start, end = start + 1, end - 1
        else:
            return text[start : end + 1]


def _closing(text: str, start: int) -> int:
    """Index of the parenthesis closing the one at ``start`` (quotes respected), or -1."""
    depth, quote = 0, ""
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside quotes and parentheses."""
    parts, depth, quote, last, i = [], 0, "", 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[last:i])
            i += len(sep)
            last = i
            continue
        i += 1
    parts.append(text[last:])
    return parts


# Casts deeper than this are not a real migration's USING: give up (None) rather than
# recurse until Python's stack runs out.
_MAX_CASTS = 32


def _peel_casts(text: str, depth: int = 0) -> tuple[str, list[str]] | None:
    """``CAST(c::text AS varchar(9))`` → ("c", ["text", "varchar(9)"]); None when the
    expression is anything but a column reference under casts."""
    if depth > _MAX_CASTS:
        return None
    text = _strip_parens(text)
    match = re.match(r"cast\s*\(", text, re.I)
    if match and _closing(text, match.end() - 1) == len(text) - 1:
        inner = text[match.end() : -1]
        pieces = re.split(r"\s+as\s+", inner, flags=re.I)
        if len(pieces) < 2:
            return None
        peeled = _peel_casts(" as ".join(pieces[:-1]), depth + 1)
        return None if peeled is None else (peeled[0], [*peeled[1], pieces[-1].strip()])
    parts = _split_top(text, "::")
    if len(parts) > 1:
        peeled = _peel_casts(parts[0], depth + 1)
        return None if peeled is None else (peeled[0], [*peeled[1], *map(str.strip, parts[1:])])
    return (text, []) if _IDENT_RE.fullmatch(text) else None


def using_steps(using: Expression, column: str | None) -> list[ColumnType] | None:
    """The cast types a USING applies to the bare column, or None if it computes anything
    else. Without ``column``, any single column reference is taken to be the column."""
    peeled = _peel_casts(using.text)
    if peeled is None:
        return None
    ref, casts = peeled
    if column is not None:
        parts = split_identifier(ref)
        if not parts or parts[-1] != column:
            return None
    steps: list[ColumnType] = []
    for cast in casts:
        parsed = parse_type(cast)
        if parsed is None:
            return None
        steps.append(parsed)
    return steps
