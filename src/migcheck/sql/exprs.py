"""Reduce type names and value expressions (as tokens) to the facts rules ask about.

Volatility is read from the tokens, not from sqlglot's tree, because sqlglot renames
functions while normalising them (``gen_random_uuid()`` becomes ``exp.Uuid``), and the
question "which Postgres function is this?" needs the name as written.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot.tokens import Token, TokenType

from migcheck import pgcatalog
from migcheck.model import ColumnType, Expression
from migcheck.sql.tokens import CLOSE, OPEN, STRING_TYPES, fold, is_name, is_word, text_of

# Words followed by "(" that are SQL syntax, not catalog functions.
_SYNTAX_CALLS = frozenset(
    {
        "cast",
        "coalesce",
        "nullif",
        "greatest",
        "least",
        "array",
        "row",
        "extract",
        "position",
        "substring",
        "trim",
        "overlay",
        "exists",
        "any",
        "all",
        "some",
        "in",
        "values",
        "and",
        "or",
        "not",
        "is",
        "like",
        "between",
        "as",
        "when",
        "then",
        "else",
        "interval",
        "varchar",
        "char",
        "character",
        "numeric",
        "decimal",
        "timestamp",
        "timestamptz",
        "time",
        "bit",
        "float",
        "over",
        "filter",
        "within",
    }
)
# Functions Postgres spells as bare keywords (no parentheses).
_KEYWORD_FUNCTIONS = frozenset(
    {
        "current_timestamp",
        "current_date",
        "current_time",
        "localtimestamp",
        "localtime",
        "current_user",
        "session_user",
        "user",
        "current_role",
        "current_schema",
        "current_catalog",
    }
)


def analyse_expression(source: str, tokens: Sequence[Token]) -> Expression:
    """Functions called in an expression and the combined volatility Postgres would see."""
    functions = _called_functions(tokens)
    vol = pgcatalog.combine_volatility(pgcatalog.function_volatility(f) for f in functions)
    text = text_of(source, tokens)
    return Expression(
        text=text, functions=tuple(functions), volatility=vol, is_null=_is_null(tokens)
    )


def _called_functions(tokens: Sequence[Token]) -> list[str]:
    """The (qualified, folded) names of the functions an expression calls, in order."""
    functions: list[str] = []
    for i, tok in enumerate(tokens):
        if not is_name(tok):
            continue
        prev = tokens[i - 1] if i > 0 else None
        # A name after "::" is a type (``'x'::text``), not a call; a name after "." was
        # read with its qualifier.
        if prev is not None and prev.token_type in (TokenType.DCOLON, TokenType.DOT):
            continue
        name, j = _qualified_name(tokens, i)
        nxt = tokens[j] if j < len(tokens) else None
        if nxt is not None and nxt.token_type == TokenType.L_PAREN:
            if name not in _SYNTAX_CALLS:
                functions.append(name)
        elif is_word(tok) and name in _KEYWORD_FUNCTIONS:
            functions.append(name)
    return functions


def _qualified_name(tokens: Sequence[Token], i: int) -> tuple[str, int]:
    """The dotted name starting at ``tokens[i]``, folded, and the index after it."""
    name = fold(tokens[i])
    j = i + 1
    while j + 1 < len(tokens) and tokens[j].token_type == TokenType.DOT and is_name(tokens[j + 1]):
        name += "." + fold(tokens[j + 1])
        j += 2
    return name, j


def _is_null(tokens: Sequence[Token]) -> bool:
    """NULL, NULL::type, CAST(NULL AS type) and (NULL) are all "no default"."""
    words = [t for t in tokens if t.token_type not in (TokenType.L_PAREN, TokenType.R_PAREN)]
    if len(words) > 2 and is_word(words[0]) and words[0].text.upper() == "CAST":
        return words[1].text.upper() == "NULL" and words[2].text.upper() == "AS"
    return (
        bool(words)
        and is_word(words[0])
        and words[0].text.upper() == "NULL"
        and (len(words) == 1 or words[1].token_type == TokenType.DCOLON)
    )


def column_type(source: str, tokens: Sequence[Token]) -> ColumnType | None:
    """``character varying(255)[]`` → ColumnType('varchar', (255,), 1)."""
    words, params, array = _type_parts(tokens)
    if not words:
        return None
    raw = " ".join(words).replace(". ", ".")
    if raw.upper() == "ARRAY":
        return None
    if raw.endswith(" array"):
        raw = raw[: -len(" array")]
        array += 1
    # "timestamp with time zone" keeps its params in the middle: (3) applies to the base.
    name = pgcatalog.canonical_type(raw)
    if "." in name and name.split(".", 1)[0] == "public":
        name = name.split(".", 1)[1]
    return ColumnType(name=name, params=tuple(params), array=array, text=text_of(source, tokens))


def _type_parts(tokens: Sequence[Token]) -> tuple[list[str], list[int], int]:
    """The folded words of a type name, its integer modifiers, and its ``[]`` count; a
    string (the start of a DEFAULT or the like) ends the type."""
    words: list[str] = []
    params: list[int] = []
    array = 0
    depth = 0
    for i, tok in enumerate(tokens):
        if tok.token_type in OPEN:
            if tok.token_type == TokenType.L_BRACKET and depth == 0:
                array += 1
            depth += 1
        elif tok.token_type in CLOSE:
            depth -= 1
        elif depth == 1 and tokens[i - 1].token_type in OPEN | {TokenType.COMMA}:
            if tok.token_type == TokenType.NUMBER and tok.text.isdigit():
                params.append(int(tok.text))
        elif depth == 0 and not _type_word(tok, words):
            break
    return words, params, array


def _type_word(tok: Token, words: list[str]) -> bool:
    """Add a depth-0 token to the type's words; False when it ends the type."""
    if is_name(tok):
        # The quoted "char" is a one-byte internal type, not char(1) (bpchar).
        quoted_char = tok.token_type == TokenType.IDENTIFIER and tok.text == "char"
        words.append('"char"' if quoted_char else fold(tok))
    elif tok.token_type == TokenType.DOT and words:
        words[-1] += "."
    return tok.token_type not in STRING_TYPES
