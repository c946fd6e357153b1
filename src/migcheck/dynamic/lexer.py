"""Lexing PL/pgSQL: unwrap a ``DO`` block or function body, then cut it into tokens.

Comments, ``'...'`` with ``''``, ``E'...'``, ``$tag$...$tag$`` and quoted identifiers are
read as PostgreSQL reads them. Nothing here raises on malformed input: an unterminated
literal or comment ends the body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from migcheck.lazyre import lazy

_DOLLAR = lazy(r"\$([^\W\d]\w*)?\$")
_LANGUAGE = lazy(r"^\s*LANGUAGE\s+(\"[^\"]+\"|'[^']+'|\w+)\s*", re.I)
_LANGUAGE_END = lazy(r"\s*LANGUAGE\s+(\"[^\"]+\"|'[^']+'|\w+)\s*$", re.I)


def unwrap(body: str) -> tuple[str, str, int]:
    """(the code, its language, where the code starts in ``body`` or -1 when it is not
    verbatim there). ``body`` is either a DO statement's text after ``DO`` (``$$ ... $$``
    or ``'...'``, maybe with ``LANGUAGE x`` before or after) or a function body already
    unquoted by the tokenizer."""
    start = len(body) - len(body.lstrip())
    text = body.strip()
    language = "plpgsql"
    m = _LANGUAGE.match(text)
    if m and text[m.end() : m.end() + 1] in ("$", "'", "E", "e"):
        language = m.group(1).strip("\"'").lower()
        text = text[m.end() :]
        start += m.end()
    m = _LANGUAGE_END.search(text)
    if m and text[: m.start()].rstrip()[-1:] in ("$", "'"):
        language = m.group(1).strip("\"'").lower()
        text = text[: m.start()].rstrip()
    m = _DOLLAR.match(text)
    if m and text.endswith(m.group()) and len(text) >= 2 * len(m.group()):
        return text[m.end() : len(text) - len(m.group())], language, start + m.end()
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        return text[1:-1].replace("''", "'"), language, -1
    if len(text) >= 3 and text[0] in "Ee" and text[1] == "'" and text[-1] == "'":
        return _unescape_e(text[2:-1]), language, -1
    return body, language, 0


_E_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


def _unescape_e(s: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append(_E_ESCAPES.get(s[i + 1], s[i + 1]))
            i += 2
        elif c == "'" and s[i + 1 : i + 2] == "'":
            out.append("'")
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


@dataclass
class Tok:
    kind: str  # word | ident | string | number | op | ; | ( | ) | ,
    text: str  # as written
    start: int
    end: int  # exclusive
    value: str = ""  # unquoted value of a string, folded name of a word/ident

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.value.upper() in words


_WORD_RE = lazy(r"[^\W\d][\w$]*")
_NUMBER_RE = lazy(r"\d+(\.\d*)?([eE][+-]?\d+)?|\.\d+")
_OP_CHARS = "+-*/<>=~!@#%^&|`?:."
_DIRECTIVE = lazy(r"#(variable_conflict|print_strict_params|option)\b", re.I)


# A scanner looks at ``src[i]``: None when the text there is not its kind, else where
# the text it read ends and the token (None for comments and directives).
_Scanned = tuple[int, Tok | None] | None


def _line_end(src: str, i: int) -> int:
    j = src.find("\n", i)
    return len(src) if j < 0 else j + 1


def _comment(src: str, i: int) -> _Scanned:
    if src.startswith("--", i):
        return _line_end(src, i), None
    if src.startswith("/*", i):
        return _block_comment_end(src, i), None
    if src[i] == "#" and _DIRECTIVE.match(src, i):
        # #variable_conflict / #print_strict_params: compiler options, to end of line
        return _line_end(src, i), None
    return None


def _string(src: str, i: int) -> _Scanned:
    c = src[i]
    if c == "'" or (
        c in "EeNnBbXx"
        and src[i + 1 : i + 2] == "'"
        and not (i and (src[i - 1].isalnum() or src[i - 1] in "_$"))
    ):
        q = i if c == "'" else i + 1
        end, value = _quoted(src, q + 1, c in "Ee")
        return end, Tok("string", src[i:end], i, end, value)
    if c == '"':
        end, value = _quoted(src, i + 1, False, '"')
        return end, Tok("ident", src[i:end], i, end, value)
    return None


def _dollar(src: str, i: int) -> _Scanned:
    if src[i] != "$":
        return None
    if m := _DOLLAR.match(src, i):
        close = src.find(m.group(), m.end())
        end = len(src) if close < 0 else close + len(m.group())
        return end, Tok(
            "string", src[i:end], i, end, src[m.end() : close if close >= 0 else len(src)]
        )
    j = i + 1
    while j < len(src) and src[j].isdigit():
        j += 1
    # $1: a positional parameter, read as a word; a lone $ is left to the operators.
    return (j, Tok("word", src[i:j], i, j, src[i:j])) if j > i + 1 else None


def _word_or_number(src: str, i: int) -> _Scanned:
    if m := _WORD_RE.match(src, i):
        return m.end(), Tok("word", m.group(), i, m.end(), m.group().lower())
    if m := _NUMBER_RE.match(src, i):
        return m.end(), Tok("number", m.group(), i, m.end(), m.group())
    return None


def _punctuation(src: str, i: int) -> _Scanned:
    c = src[i]
    if c in ";(),[]":
        return i + 1, Tok({"[": "(", "]": ")"}.get(c, c), c, i, i + 1)
    j = i
    while j < len(src) and src[j] in _OP_CHARS and not src.startswith(("--", "/*"), j):
        j += 1
    j = max(j, i + 1)  # any other character is an operator of its own
    return j, Tok("op", src[i:j], i, j, src[i:j])


# Tried in order at each position; the last one always reads something.
_SCANNERS = (_comment, _string, _dollar, _word_or_number, _punctuation)


def lex(src: str) -> list[Tok]:
    toks: list[Tok] = []
    i = 0
    while i < len(src):
        if src[i].isspace():
            i += 1
            continue
        for scan in _SCANNERS:
            scanned = scan(src, i)
            if scanned is not None:
                i, tok = scanned
                if tok is not None:
                    toks.append(tok)
                break
    return toks


def _block_comment_end(src: str, i: int) -> int:
    depth = 0
    n = len(src)
    while i < n:
        if src.startswith("/*", i):
            depth += 1
            i += 2
        elif src.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def _quoted(src: str, i: int, escape: bool, quote: str = "'") -> tuple[int, str]:
    """(end offset, value) of a quoted literal whose body starts at ``i``."""
    out: list[str] = []
    n = len(src)
    while i < n:
        c = src[i]
        if escape and c == "\\" and i + 1 < n:
            out.append(_E_ESCAPES.get(src[i + 1], src[i + 1]))
            i += 2
        elif c == quote:
            if src[i + 1 : i + 2] == quote:
                out.append(quote)
                i += 2
            else:
                return i + 1, "".join(out)
        else:
            out.append(c)
            i += 1
    return n, "".join(out)
