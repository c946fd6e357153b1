"""migcheck's own scanner of PostgreSQL text, for what sqlglot's tokenizer gets wrong.

sqlglot's TokenError does not say where an unterminated literal starts, and sqlglot reads
psql meta-commands as SQL. This scanner knows just enough of Postgres's lexer for both: it
reads only what decides where statements end: comments (``/*`` nesting as in
Postgres), quoted strings and identifiers, ``E''`` escapes, dollar-quotes, positional
parameters and psql meta-command lines. ``split.py`` runs it when a file holds something
sqlglot misreads, checks sqlglot's semicolons against it, and uses it to place an
unterminated opener precisely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from migcheck.lazyre import lazy

COMMENT_OPEN = lazy(r"--|/\*")
_BLOCK_MARK = lazy(r"/\*|\*/")
_EOL = lazy(r"[\r\n]")
_SQUOTE = lazy(r"'")
_SQUOTE_OR_BACKSLASH = lazy(r"['\\]")
_DQUOTE = lazy(r'"')
META_LINE = lazy(r"(?:^|\r)[ \t\f\v]*\\", re.MULTILINE)
# Where sqlglot misreads a "$": it takes "$", the text up to the next "$" and that "$" for a
# dollar-quote opener unless the text is digits or has a blank in it, so "$1,$" of
# "IN ($1,$2)" opens a quote for it. For Postgres a tag is a name, so this is a parameter
# (or junk). A file without such a "$" has no parameter sqlglot gets wrong. (Written as
# lookaheads, blank-free text to a "$" first, because that is the fastest to search.)
MISREAD_DOLLAR = lazy(r"\$(?=[^\s$]+\$)(?![^\W\d]\w*\$|\d+\$)")
# Every branch starts with a literal so that re can skip to candidates quickly; what
# precedes a match (an E'' prefix, a line start before a backslash) is checked by hand.
_SCAN = lazy(r"--|/\*|;|'|\"|\$(?:[^\W\d]\w*)?\$|\$\d|\\")
_IDENT_CHAR = lazy(r"[\w$]")
# Postgres's own messages, keyed by the first character of the literal.
_STRING_ERRORS = {
    "'": "unterminated quoted string",
    "B": "unterminated bit string literal",
    "b": "unterminated bit string literal",
    "X": "unterminated hexadecimal string literal",
    "x": "unterminated hexadecimal string literal",
}


@dataclass
class Scan:
    boundaries: list[int]  # offsets just past each ';' and each meta-command line
    meta: list[tuple[int, int]]  # [backslash, end of line) of each psql meta-command
    comments: list[tuple[int, int]]  # [opener, end) of each comment
    # Where sqlglot must see a SEMICOLON token: each ';' and each meta-command's backslash
    # (split_sql blanks a meta-command line to ';' and spaces).
    semicolons: list[int] = field(default_factory=list)
    params: list[int] = field(default_factory=list)  # the '$' of each $1 outside literals
    error: tuple[int, str] | None = None  # offset of an unterminated opener, and what it is


def scan(src: str, pos: int, end: int) -> Scan:
    result = Scan([], [], [])
    # Where the last literal or comment ended: a name cannot reach back across it.
    floor = pos
    while True:
        match = _SCAN.search(src, pos, end)
        if match is None:
            return result
        found = match.group()
        at = match.start()
        pos = match.end()
        message = ""
        if found == ";":
            result.boundaries.append(pos)
            result.semicolons.append(at)
        elif found == "--":
            pos = floor = line_end(src, at, end)
            result.comments.append((at, pos))
        elif found == "/*":
            pos = floor = block_end(src, at, end)
            if pos < 0:
                message = "unterminated /* comment"
            else:
                result.comments.append((at, pos))
        elif found == "'":
            # N'' is not in the list: Postgres reads the N as a keyword and reports the quote.
            at = _literal_prefix(src, at, "EeBbXx", floor)
            pos = floor = _quote_end(src, pos, end, "'", src[at] in "Ee")
            message = "" if pos >= 0 else _STRING_ERRORS.get(src[at], _STRING_ERRORS["'"])
        elif found == '"':
            at = _literal_prefix(src, at, "", floor)
            pos = floor = _quote_end(src, pos, end, '"', False)
            message = "unterminated quoted identifier" if pos < 0 else ""
        elif found == "\\":
            if not _starts_line(src, at):
                continue
            pos = floor = line_end(src, pos, end)
            result.meta.append((at, pos))
            result.boundaries.append(pos)
            result.semicolons.append(at)
        elif _continues_name(src, at, floor):
            # "$" continues a name (foo$bar$ and a$1 are names): no dollar-quote, no $1.
            pos = at + 1
        elif found[-1] != "$":
            # A positional parameter: a dollar-quote tag cannot start with a digit.
            result.params.append(at)
        else:
            close = src.find(found, pos, end)
            pos = floor = close + len(found) if close >= 0 else -1
            message = f"unterminated dollar-quoted string {found}" if pos < 0 else ""
        if message:
            result.error = (at, message)
            return result


def _continues_name(src: str, at: int, floor: int) -> bool:
    """True when the "$" at ``at`` is part of a name (``foo$bar$``, ``a$1``).

    It is when the run of word characters and "$" before it starts like a name; not when
    it starts like a number (``1$$``) or a parameter (``$1$$``), and the run never reaches
    back into the literal or comment that ended at ``floor``.
    """
    start = at
    while start > floor and _IDENT_CHAR.match(src, start - 1):
        start -= 1
    return start < at and src[start] != "$" and not src[start].isdigit()


def _literal_prefix(src: str, quote_at: int, letters: str, floor: int) -> int:
    """Where the literal whose quote is at ``quote_at`` starts: at its U& or one-letter prefix.

    The prefix must not continue a name, nor reach back into the literal ended at ``floor``.
    """
    for start, allowed in ((quote_at - 2, "Uu"), (quote_at - 1, letters)):
        if (
            start >= floor
            and src[start] in allowed
            and (allowed != "Uu" or src[start + 1] == "&")
            and not (start > floor and _IDENT_CHAR.match(src, start - 1))
        ):
            return start
    return quote_at


def _starts_line(src: str, at: int) -> bool:
    """True when only blanks precede ``at`` on its line."""
    while at and src[at - 1] in " \t\f\v":
        at -= 1
    return not at or src[at - 1] in "\r\n"


def line_end(src: str, pos: int, end: int) -> int:
    match = _EOL.search(src, pos, end)
    return match.start() if match else end


def block_end(src: str, at: int, end: int) -> int:
    """End of the (nestable) block comment opened at ``at``, or -1 if it is not closed."""
    depth = 1
    pos = at + 2
    while depth:
        match = _BLOCK_MARK.search(src, pos, end)
        if match is None:
            return -1
        depth += 1 if match.group() == "/*" else -1
        pos = match.end()
    return pos


def _quote_end(src: str, pos: int, end: int, quote: str, backslash: bool) -> int:
    """End of a quoted literal whose body starts at ``pos``, or -1 if it is not closed."""
    pattern = _SQUOTE_OR_BACKSLASH if backslash else _SQUOTE if quote == "'" else _DQUOTE
    while True:
        match = pattern.search(src, pos, end)
        if match is None:
            return -1
        pos = match.end()
        # Skip what a backslash escapes, or the second quote of a doubled quote.
        if match.group() == "\\" or (pos < end and src[pos] == quote):
            pos += 1
        else:
            return pos


def blank(src: str, ranges: list[tuple[int, int]], first: str) -> str:
    """Replace each range with ``first`` then spaces, so that no offset moves.

    A psql meta-command line becomes ";" and spaces: it ends the statement before it.
    """
    parts: list[str] = []
    last = 0
    for start, stop in ranges:
        parts += (src[last:start], first, " " * (stop - start - 1))
        last = stop
    parts.append(src[last:])
    return "".join(parts)
