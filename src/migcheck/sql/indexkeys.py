"""The keys and the predicate of a CREATE INDEX, as comparable text.

drop-key-constraint asks whether another unique index of the migration still rejects
the duplicates a dropped one rejected, and whether it still answers the same
``ON CONFLICT`` target. Both questions compare keys (``email``, ``lower(email)``) and
predicates (``WHERE "user".state = 'active'``) written differently by different tools,
so they are normalised once here: names folded, qualifiers dropped (an index's
expressions can only name its own table's columns), spacing and outer parentheses gone.
Only scalars go into ``Op.options`` (the statement cache stores them), so each key is
one string and the keys are joined with ``INDEX_KEY_SEP``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot.tokens import Token, TokenType

from migcheck.model import INDEX_KEY_SEP as SEP
from migcheck.sql.tokens import STRING_TYPES, fold, is_name, split_top

_ORDER_WORDS = frozenset({"ASC", "DESC", "NULLS", "FIRST", "LAST"})


def _unqualified(tokens: Sequence[Token]) -> list[Token]:
    """``"user".state`` → ``state``: drop every ``name .`` in front of a name."""
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if (
            is_name(tok)
            and i + 2 < len(tokens)
            and tokens[i + 1].token_type == TokenType.DOT
            and is_name(tokens[i + 2])
        ):
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


def _strip_parens(words: list[str]) -> list[str]:
    while len(words) >= 2 and words[0] == "(" and words[-1] == ")":
        depth = 0
        for k, w in enumerate(words):
            depth += (w == "(") - (w == ")")
            if depth == 0 and k < len(words) - 1:
                return words  # ``(a) + (b)``: the first group closes early
        words = words[1:-1]
    return words


def normalise(tokens: Sequence[Token]) -> str:
    """One spelling for an expression: folded names, quoted strings, single spaces."""
    words = []
    for tok in _unqualified(tokens):
        if tok.token_type in STRING_TYPES:
            words.append("'" + tok.text.replace("'", "''") + "'")
        elif is_name(tok):
            words.append(fold(tok))
        else:
            words.append(tok.text)
    return " ".join(_strip_parens(words))


def _refs(tokens: Sequence[Token]) -> list[str]:
    """The names an expression reads as columns: not a function name (followed by ``(``)
    and not a type after ``::``. Keywords count too, which only makes a key look less
    like another one (the caller then assumes no replacement)."""
    toks = _unqualified(tokens)
    out = []
    for k, tok in enumerate(toks):
        if not is_name(tok):
            continue
        after = toks[k + 1] if k + 1 < len(toks) else None
        before = toks[k - 1] if k else None
        if after is not None and after.token_type == TokenType.L_PAREN:
            continue
        if before is not None and before.token_type == TokenType.DCOLON:
            continue
        out.append(fold(tok))
    return out


def index_keys(group: Sequence[Token]) -> tuple[str, str]:
    """The keys of ``( … )`` of a CREATE INDEX (without ASC/DESC/NULLS FIRST|LAST), and
    the columns they read, each as one ``SEP``-joined string."""
    keys: list[str] = []
    refs: list[str] = []
    for part in split_top(group):
        while (
            part
            and part[-1].token_type not in STRING_TYPES
            and part[-1].text.upper() in (_ORDER_WORDS)
        ):
            part = part[:-1]
        if not part:
            continue
        keys.append(normalise(part))
        refs.extend(r for r in _refs(part) if r not in refs)
    return SEP.join(keys), SEP.join(refs)


def predicate(rest: Sequence[Token]) -> str | None:
    """The normalised WHERE of a partial index (the tail after the key list), or None."""
    depth = 0
    for k, tok in enumerate(rest):
        if tok.token_type == TokenType.L_PAREN:
            depth += 1
        elif tok.token_type == TokenType.R_PAREN:
            depth -= 1
        elif depth == 0 and tok.text.upper() == "WHERE":
            return normalise(rest[k + 1 :])
    return None


def nulls_not_distinct(rest: Sequence[Token]) -> bool:
    """``NULLS NOT DISTINCT`` (PostgreSQL 15+): NULL keys count as equal."""
    words = [t.text.upper() for t in rest]
    return any(words[k : k + 3] == ["NULLS", "NOT", "DISTINCT"] for k in range(len(words)))
