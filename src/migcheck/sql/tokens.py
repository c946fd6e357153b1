"""Small helpers over sqlglot's tokens: a cursor, name folding and depth-0 splitting.

The token-level recogniser (``ddl.py``) and the tree converter (``parse.py``) both read
names and keywords through these helpers, so identifiers are folded the same way
everywhere: unquoted names lower-cased, quoted names kept, ``public.`` dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sqlglot.tokens import Token, TokenType

from migcheck.model import DOT_IN_NAME

# A bare word: a letter, "_" or any non-ASCII character of the BMP first, then word
# characters, "$" or non-ASCII BMP characters. The BMP is spelt as "not ASCII, not
# astral": the range "\x80-\uffff" in one class with \w costs re ~5 ms to compile (a
# 64K-entry table), this spelling 0.2 ms, and both match exactly the same characters.
_NOT_ASCII_BMP = r"[^\x00-\x7f\U00010000-\U0010ffff]"
_WORD = re.compile(rf"^(?:[A-Za-z_]|{_NOT_ASCII_BMP})(?:[\w$]|{_NOT_ASCII_BMP})*$")

STRING_TYPES = frozenset(
    {
        TokenType.STRING,
        TokenType.BYTE_STRING,
        TokenType.NATIONAL_STRING,
        TokenType.HEREDOC_STRING,
        TokenType.RAW_STRING,
        TokenType.BIT_STRING,
        TokenType.HEX_STRING,
        TokenType.UNICODE_STRING,
    }
)
OPEN = frozenset({TokenType.L_PAREN, TokenType.L_BRACKET})
CLOSE = frozenset({TokenType.R_PAREN, TokenType.R_BRACKET})

# Postgres resolves unqualified names through search_path, which is ``public`` in
# practically every migration history; treating ``public.t`` and ``t`` as one object
# is what lets a later ``ALTER TABLE public.t`` find the ``CREATE TABLE t``.
DEFAULT_SCHEMA = "public"


def expand_multiword(tokens: Sequence[Token]) -> list[Token]:
    """Split sqlglot's multi-word keyword tokens (``PRIMARY KEY``, ``FOREIGN KEY``,
    ``DOUBLE PRECISION``...) into one token per word, so keyword matching is uniform."""
    out: list[Token] = []
    for tok in tokens:
        if (
            " " in tok.text
            and tok.token_type not in STRING_TYPES
            and (tok.token_type != TokenType.IDENTIFIER)
        ):
            offset = tok.start
            for word in tok.text.split():
                start = tok.start + tok.text.index(word, offset - tok.start)
                out.append(
                    Token(TokenType.VAR, word, tok.line, tok.col, start, start + len(word) - 1)
                )
                offset = start + len(word)
        else:
            out.append(tok)
    return out


def is_word(tok: Token) -> bool:
    """An unquoted word: a keyword or an unquoted identifier."""
    return (
        tok.token_type not in STRING_TYPES
        and tok.token_type != TokenType.IDENTIFIER
        and bool(_WORD.match(tok.text))
    )


def is_name(tok: Token) -> bool:
    return tok.token_type == TokenType.IDENTIFIER or is_word(tok)


def fold(tok: Token) -> str:
    """The name Postgres sees: quoted kept as written, unquoted folded to lower case."""
    if tok.token_type == TokenType.IDENTIFIER:
        return tok.text.replace(".", DOT_IN_NAME)
    return tok.text.lower()


def strip_default_schema(name: str) -> str:
    prefix = DEFAULT_SCHEMA + "."
    return name[len(prefix) :] if name.startswith(prefix) else name


def string_value(tok: Token) -> str | None:
    return tok.text if tok.token_type in STRING_TYPES else None


class Cursor:
    """A forward cursor over a statement's tokens with keyword matching."""

    def __init__(self, tokens: Sequence[Token], pos: int = 0) -> None:
        self.tokens = tokens
        self.pos = pos

    def peek(self, k: int = 0) -> Token | None:
        i = self.pos + k
        return self.tokens[i] if 0 <= i < len(self.tokens) else None

    def kw(self, k: int = 0) -> str:
        """The upper-cased keyword at ``pos + k``, or '' when it is not an unquoted word."""
        tok = self.peek(k)
        return tok.text.upper() if tok is not None and is_word(tok) else ""

    def at(self, *words: str) -> bool:
        return all(self.kw(k) == w for k, w in enumerate(words))

    def accept(self, *words: str) -> bool:
        if self.at(*words):
            self.pos += len(words)
            return True
        return False

    def accept_type(self, token_type: TokenType) -> bool:
        tok = self.peek()
        if tok is not None and tok.token_type == token_type:
            self.pos += 1
            return True
        return False

    def at_end(self) -> bool:
        return self.pos >= len(self.tokens)

    def next(self) -> Token | None:
        tok = self.peek()
        if tok is not None:
            self.pos += 1
        return tok

    def name(self) -> str | None:
        """Read a possibly qualified name (``a.b.c``); None when no name is here."""
        tok = self.peek()
        if tok is None or not is_name(tok):
            return None
        parts = [fold(tok)]
        self.pos += 1
        while self.peek() is not None and self.peek().token_type == TokenType.DOT:  # type: ignore[union-attr]
            nxt = self.peek(1)
            if nxt is None or not is_name(nxt):
                break
            parts.append(fold(nxt))
            self.pos += 2
        return ".".join(parts)

    def relation(self) -> str | None:
        """A relation name with the default schema stripped."""
        name = self.name()
        return strip_default_schema(name) if name else None

    def group(self) -> list[Token]:
        """Consume a parenthesised group and return the tokens inside it (empty if none)."""
        tok = self.peek()
        if tok is None or tok.token_type != TokenType.L_PAREN:
            return []
        depth = 0
        start = self.pos
        while self.pos < len(self.tokens):
            t = self.tokens[self.pos]
            self.pos += 1
            if t.token_type in OPEN:
                depth += 1
            elif t.token_type in CLOSE:
                depth -= 1
                if depth == 0:
                    return list(self.tokens[start + 1 : self.pos - 1])
        return list(self.tokens[start + 1 :])

    def rest(self) -> list[Token]:
        out = list(self.tokens[self.pos :])
        self.pos = len(self.tokens)
        return out

    def until_keyword(self, stops: Iterable[str]) -> list[Token]:
        """Consume tokens up to (not including) a depth-0 keyword in ``stops``."""
        stop = set(stops)
        depth = 0
        start = self.pos
        while self.pos < len(self.tokens):
            t = self.tokens[self.pos]
            if depth == 0 and is_word(t) and t.text.upper() in stop:
                break
            if t.token_type in OPEN:
                depth += 1
            elif t.token_type in CLOSE:
                depth -= 1
            self.pos += 1
        return list(self.tokens[start : self.pos])


def split_top(tokens: Sequence[Token], sep: TokenType = TokenType.COMMA) -> list[list[Token]]:
    """Split tokens at depth-0 separators (commas by default)."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for t in tokens:
        if t.token_type in OPEN:
            depth += 1
        elif t.token_type in CLOSE:
            depth -= 1
        if depth == 0 and t.token_type == sep:
            parts.append([])
        else:
            parts[-1].append(t)
    return [p for p in parts if p]


def name_list(tokens: Sequence[Token]) -> tuple[str, ...]:
    """Names in a comma list such as ``(a, "B", c DESC)``: the first name of each item."""
    out = []
    for part in split_top(tokens):
        cur = Cursor(part)
        n = cur.name()
        if n:
            out.append(n)
    return tuple(out)


def text_of(source: str, tokens: Sequence[Token]) -> str:
    """The original source text spanned by ``tokens`` (empty for no tokens)."""
    if not tokens:
        return ""
    return source[tokens[0].start : tokens[-1].end + 1]
