"""Split a PostgreSQL migration file into statements, once, with exact positions.

The file is tokenized a single time with sqlglot's Postgres tokenizer. Statements are the
runs of tokens between semicolons, split the way psql splits them: a semicolon inside
parentheses (``CREATE RULE ... DO (a; b)``) or inside the ``BEGIN ATOMIC ... END`` body of
``CREATE FUNCTION``/``PROCEDURE`` does not end the statement. Comments, which sqlglot keeps
without positions, are recovered by lexing the gaps between tokens.

A file that does not tokenize (an unterminated quote, dollar-quote or ``/*`` comment) gives
a ``SplitError`` at the opener, found by a small scanner of our own, plus the statements
before the broken one. Lines whose first non-blank character is a backslash are psql
meta-commands (``\\connect db``, ``\\set x 1``): they end the current statement and are
otherwise ignored.

Three sqlglot quirks are corrected: the STRING token it makes of everything after a
"command" keyword (LOCK, VACUUM, DO...) gets its true start/end, a ``/*`` right after
``/*`` nests as in Postgres (sqlglot closes the comment early), and a positional parameter
followed by another ``$`` (``IN ($1,$2)``) stays a parameter: sqlglot would read ``$1,$`` as
a dollar-quote opener, while a Postgres dollar-quote tag cannot start with a digit.

Whenever our scanner has read the file (for meta-commands, ``/*/*`` or a ``$`` that sqlglot
would misread), sqlglot's semicolons are checked against the scanner's: where they differ,
sqlglot has misread a literal, and the statement is reported as a ``SplitError`` rather
than merged with the next one or cut short. A ``SplitError`` is the only way text goes
missing: every statement before the one it is in is returned, that one and the rest not.

Positions: offsets are 0-based indexes into the text given to ``split_sql``, and
``Span.start``/``Span.end`` are half-open, so ``text[span.start:span.end] == stmt.text``.
Lines and columns are 1-based and inclusive and count characters; a tab is one column,
``\\r\\n``, ``\\n`` and a lone ``\\r`` each end a line, and a leading BOM takes no column.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from contextlib import suppress
from dataclasses import dataclass
from typing import ClassVar

from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from migcheck.lazyre import lazy
from migcheck.model import Span
from migcheck.sql import scanner
from migcheck.sql.positions import BOM, LineIndex, line_col

__all__ = [
    "Comment",
    "LineIndex",
    "RawStatement",
    "SplitError",
    "SplitResult",
    "line_col",
    "split_sql",
]


@dataclass
class RawStatement:
    text: str  # the original text from first token start to last token end (no trailing ';')
    span: Span  # start = first token, end = last token (inclusive), 1-based line/col
    tokens: list[Token]  # sqlglot tokens of this statement (not including the ';')
    index: int  # 0-based ordinal among statements in the file


@dataclass
class Comment:
    text: str  # comment body without the -- or /* */ markers, stripped
    line: int  # 1-based line where it starts
    column: int
    end_line: int
    own_line: bool  # True when nothing but whitespace precedes it on its line


@dataclass
class SplitError:
    message: str  # Postgres's wording: "unterminated quoted string", "unterminated /* comment"...
    line: int
    column: int


@dataclass
class SplitResult:
    statements: list[RawStatement]
    comments: list[Comment]
    errors: list[SplitError]


# Stands in for the "$" of each positional parameter ($1) when sqlglot could misread one:
# our tokenizer makes it a PARAMETER token, as sqlglot makes the "$" of a "$1 " it reads
# right, so the tokens are those of a spaced "$1 " (the digits after it are a NUMBER, never
# a decimal) and only the text "$" is to be given back. NUL cannot occur in a Postgres
# query, so no real text is tokenized differently.
_MASK = "\x00"


class _Tokenizer(Postgres.Tokenizer):
    SINGLE_TOKENS: ClassVar[dict[str, TokenType]] = {
        **Postgres.Tokenizer.SINGLE_TOKENS,
        _MASK: TokenType.PARAMETER,
    }


_DIALECT = Postgres()
_TOKENIZER_CLASS = Postgres.tokenizer_class
_COMMANDS = frozenset(_TOKENIZER_CLASS.COMMANDS)
_COMMAND_PREFIX = frozenset(_TOKENIZER_CLASS.COMMAND_PREFIX_TOKENS)
_SEMICOLON = TokenType.SEMICOLON
_L_PAREN = TokenType.L_PAREN
_R_PAREN = TokenType.R_PAREN
_STRING = TokenType.STRING
_PARAMETER = TokenType.PARAMETER
_BEGIN = TokenType.BEGIN
_CASE = TokenType.CASE
_END = TokenType.END
_MARK_TYPES = frozenset({_SEMICOLON, _L_PAREN, _R_PAREN, _BEGIN, _CASE, _END})
_ROUTINE = ([TokenType.FUNCTION], [TokenType.PROCEDURE])
_OR_REPLACE = [TokenType.OR, TokenType.REPLACE]


def _tokenize(src: str) -> list[Token]:
    # A tokenizer keeps its state on itself; a fresh one (about 20 µs) keeps this thread-safe.
    return _Tokenizer(_DIALECT).tokenize(src)


def split_sql(text: str) -> SplitResult:
    """Split ``text`` into statements and comments; never raises on bad SQL."""
    index = LineIndex(text)
    # sqlglot would glue a BOM to the first word ("\ufeffselect"); a space keeps every offset.
    src = " " + text[1:] if text.startswith(BOM) else text
    src, lexed, scan = _prepare(src)
    tokens, limit, scan, errors = _tokens(src, lexed, scan, index)
    commands = _fix_command_strings(lexed, src, tokens)
    if scan is not None and scan.params:
        _unmask(tokens, scan.params)
    statements = _group(text, tokens, index, keep_tail=not errors)
    comments = _comments(src, tokens, commands, limit, index)
    return SplitResult(statements, comments, errors)


def _prepare(src: str) -> tuple[str, str, scanner.Scan | None]:
    """``(src, lexed, scan)``: psql meta-commands blanked from ``src``, and what sqlglot
    is to tokenize, which differs from src only where sqlglot would get it wrong. The scan
    is made only when the text holds something sqlglot misreads."""
    lexed = src
    # The common file has none of these, and pays for nothing more than these searches.
    if not (
        ("\\" in src and scanner.META_LINE.search(src))
        or "/*/*" in src
        or ("$" in src and scanner.MISREAD_DOLLAR.search(src))
    ):
        return src, lexed, None
    scan = scanner.scan(src, 0, len(src))
    if scan.meta:
        src = lexed = scanner.blank(src, scan.meta, ";")
    if "/*/*" in src:
        # sqlglot does not nest a "/*" that directly follows "/*", Postgres does: hide
        # the comments from sqlglot, they are found in src all the same.
        lexed = scanner.blank(src, [c for c in scan.comments if src[c[0] + 1] == "*"], " ")
    if scan.params:
        lexed = scanner.blank(lexed, [(at, at + 1) for at in scan.params], _MASK)
    return src, lexed, scan


def _tokens(
    src: str, lexed: str, scan: scanner.Scan | None, index: LineIndex
) -> tuple[list[Token], int, scanner.Scan | None, list[SplitError]]:
    """sqlglot's tokens of ``lexed``, checked against the scan when there is one; on a
    tokenizer error or a disagreement, the tokens up to the error, where the good text
    ends, and the error."""
    tokens: list[Token] | None = None
    if scan is None or scan.error is None:
        with suppress(TokenError):
            tokens = _tokenize(lexed)
        if tokens is not None and scan is not None and not _agrees(tokens, scan, len(src)):
            tokens = None
    if tokens is not None:
        return tokens, len(src), scan, []
    if scan is None:
        scan = scanner.scan(src, 0, len(src))
    tokens, limit, error = _tokenize_prefix(lexed, scan, index)
    return tokens, limit, scan, [error]


def _group(text: str, tokens: list[Token], index: LineIndex, keep_tail: bool) -> list[RawStatement]:
    # Only these tokens decide where statements end; walking just them keeps this fast.
    marks = [i for i, tok in enumerate(tokens) if tok.token_type in _MARK_TYPES]
    statements: list[RawStatement] = []
    first = 0
    depth = 0
    # psql's rule for SQL-standard routine bodies: inside CREATE [OR REPLACE]
    # FUNCTION/PROCEDURE, BEGIN ... END (and CASE ... END within it) hides semicolons.
    routine = _is_routine(tokens, 0)
    body = 0
    for i in marks:
        kind = tokens[i].token_type
        if kind is _SEMICOLON:
            if depth or body:
                continue
            if i > first:
                statements.append(_statement(text, tokens, first, i, len(statements), index))
            first = i + 1
            routine = _is_routine(tokens, first)
        elif kind is _L_PAREN:
            depth += 1
        elif kind is _R_PAREN:
            if depth:
                depth -= 1
        elif routine and not depth:
            if kind is _BEGIN:
                body += 1
            elif kind is _CASE:
                if body:
                    body += 1
            elif body:
                body -= 1
    # After an error the tail is a statement cut short, which Postgres never sees whole.
    if keep_tail and first < len(tokens):
        statements.append(_statement(text, tokens, first, len(tokens), len(statements), index))
    return statements


def _is_routine(tokens: list[Token], i: int) -> bool:
    kinds = [tok.token_type for tok in tokens[i : i + 4]]
    if kinds[:1] != [TokenType.CREATE]:
        return False
    return kinds[1:2] in _ROUTINE or (kinds[1:3] == _OR_REPLACE and kinds[3:4] in _ROUTINE)


def _statement(
    text: str, tokens: list[Token], first: int, stop: int, ordinal: int, index: LineIndex
) -> RawStatement:
    start = tokens[first].start
    end = tokens[stop - 1].end + 1
    return RawStatement(text[start:end], index.span(start, end), tokens[first:stop], ordinal)


_NON_SPACE = lazy(r"\S")


def _fix_command_strings(lexed: str, src: str, tokens: list[Token]) -> list[Token]:
    """Give correct offsets to the STRING sqlglot makes of the rest of a "command".

    After a command keyword at the start of a statement (LOCK, VACUUM, REINDEX, REFRESH,
    DO, CALL, SHOW, RESET, EXPLAIN...), sqlglot swallows the rest of the statement into one
    STRING token whose ``text`` is the raw SQL (stripped) but whose ``start``/``end`` are
    those of the last swallowed token. ``lexed`` is what sqlglot read; the text is taken
    back from ``src`` where the two differ (masked ``$1``, hidden ``/*/*`` comments).
    Returns the tokens fixed, because comments inside them must be found by our own scanner.
    """
    fixed: list[Token] = []
    for i in [i for i, tok in enumerate(tokens) if tok.token_type in _COMMANDS]:
        if (
            i + 1 < len(tokens)
            and tokens[i + 1].token_type is _STRING
            and (i == 0 or tokens[i - 1].token_type in _COMMAND_PREFIX)
        ):
            tok = tokens[i + 1]
            match = _NON_SPACE.search(lexed, tokens[i].end + 1)
            if match is None or not lexed.startswith(tok.text, match.start()):
                continue
            tok.start = match.start()
            tok.end = match.start() + len(tok.text) - 1
            if lexed is not src:
                tok.text = src[tok.start : tok.end + 1]
            fixed.append(tok)
    return fixed


def _unmask(tokens: list[Token], params: list[int]) -> None:
    """Give the "$" back to the PARAMETER token of each masked positional parameter."""
    masked = set(params)
    for tok in tokens:
        if tok.start in masked and tok.token_type is _PARAMETER:
            tok.text = "$"


def _agrees(tokens: list[Token], scan: scanner.Scan, stop: int) -> bool:
    """True when sqlglot ends statements where our scanner does, up to offset ``stop``.

    A semicolon that only one of them sees means sqlglot read a literal or comment
    differently from Postgres: trusting it would merge two statements, or cut one.
    """
    expected = scan.semicolons[: bisect_left(scan.semicolons, stop)]
    return [t.start for t in tokens if t.token_type is _SEMICOLON] == expected


def _comments(
    src: str, tokens: list[Token], commands: list[Token], limit: int, index: LineIndex
) -> list[Comment]:
    # Every comment opener outside a token starts a comment: the tokenizer skipped only
    # whitespace and comments between tokens. Openers inside tokens are inside literals.
    starts = [t.start for t in tokens]
    found: list[tuple[int, int]] = []
    covered = 0
    for match in scanner.COMMENT_OPEN.finditer(src, 0, limit):
        at = match.start()
        if at < covered:
            continue
        k = bisect_right(starts, at) - 1
        if k >= 0 and at <= tokens[k].end:
            continue
        stop = starts[k + 1] if k + 1 < len(starts) else limit
        if match.group() == "--":
            covered = scanner.line_end(src, at, stop)
        else:
            covered = scanner.block_end(src, at, stop)
            if covered < 0:
                covered = stop
        found.append((at, covered))
    for tok in commands:
        found.extend(scanner.scan(src, tok.start, tok.end + 1).comments)
    if commands:
        found.sort()
    return [_comment(src, start, end, index) for start, end in found]


def _comment(src: str, start: int, end: int, index: LineIndex) -> Comment:
    body = src[start + 2 : end] if src.startswith("--", start) else src[start + 2 : end - 2]
    line, column = index.position(start)
    end_line = index.position(end - 1)[0]
    own_line = not src[index.line_start(line) : start].strip()
    return Comment(body.strip(), line, column, end_line, own_line)


def _tokenize_prefix(
    src: str, scan: scanner.Scan, index: LineIndex
) -> tuple[list[Token], int, SplitError]:
    """Tokenize the statements before the one sqlglot cannot tokenize.

    Returns those tokens, the offset where the broken statement starts (comments up to
    there are still reported: one may be a ``migcheck: ignore`` for the statement before),
    and the error to report.
    """
    if scan.error is not None:
        opener, message = scan.error
        cut = _boundary_before(scan.boundaries, opener)
        tokens = _tokenize_until(src, cut, scan)
        if tokens is not None:
            return tokens, _skip_trivia(src, cut), SplitError(message, *index.position(opener))
    # sqlglot rejects something our scanner accepts (e.g. a lone "$" at the very end), or
    # reads it differently: find the first statement where it does by bisecting over
    # statement boundaries, a handful of tokenizer runs.
    bounds = [0, *scan.boundaries]
    if scan.error is not None:
        bounds = bounds[: bisect_right(bounds, scan.error[0])]
    good, bad = 0, len(bounds)
    tokens = []
    while bad - good > 1:
        middle = (good + bad) // 2
        candidate = _tokenize_until(src, bounds[middle], scan)
        if candidate is None:
            bad = middle
        else:
            good, tokens = middle, candidate
    at = _skip_trivia(src, bounds[good])
    return tokens, at, SplitError("could not tokenize statement", *index.position(at))


def _tokenize_until(src: str, cut: int, scan: scanner.Scan) -> list[Token] | None:
    """The tokens of ``src[:cut]``, or None if sqlglot rejects it or misreads a literal."""
    try:
        tokens = _tokenize(src[:cut])
    except TokenError:
        return None
    return tokens if _agrees(tokens, scan, cut) else None


def _boundary_before(boundaries: list[int], offset: int) -> int:
    k = bisect_right(boundaries, offset)
    return boundaries[k - 1] if k else 0


def _skip_trivia(src: str, pos: int) -> int:
    """Offset of the first character at or after ``pos`` that is not whitespace or comment."""
    while True:
        match = _NON_SPACE.search(src, pos)
        if match is None:
            return len(src)
        pos = match.start()
        if src.startswith("--", pos):
            pos = scanner.line_end(src, pos, len(src))
        elif src.startswith("/*", pos) and scanner.block_end(src, pos, len(src)) > 0:
            pos = scanner.block_end(src, pos, len(src))
        else:
            return pos
