"""The output column names of a view's defining query, when its SELECT list spells them.

``CREATE OR REPLACE VIEW`` can only append columns, and an app reads a view by its
column names, so the schema model keeps a view's columns when they can be read off the
query: plain column references, ``expr AS name`` and ``expr name``. Anything PostgreSQL
would name by rules we do not model (``*``, an unnamed expression such as ``count(*)`` or
``a::text``) makes the whole list unknown, and rules stay quiet about it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot.tokens import Token, TokenType

from migcheck.sql.tokens import Cursor, fold, is_name, split_top

# Keywords that end a SELECT list at depth 0.
_LIST_END = (
    "FROM",
    "WHERE",
    "GROUP",
    "HAVING",
    "WINDOW",
    "UNION",
    "INTERSECT",
    "EXCEPT",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "FETCH",
    "INTO",
    "FOR",
)

# Tokens after which a trailing name is a bare alias (``count(*) n``, ``a b``, ``'x' label``).
_VALUE_END = frozenset(
    {TokenType.R_PAREN, TokenType.VAR, TokenType.IDENTIFIER, TokenType.STRING, TokenType.NUMBER}
)


# Single words that are values, not column references (PostgreSQL names them otherwise).
_NOT_COLUMNS = frozenset(
    {
        "TRUE",
        "FALSE",
        "NULL",
        "DEFAULT",
        "USER",
        "CURRENT_DATE",
        "CURRENT_TIME",
        "CURRENT_TIMESTAMP",
        "CURRENT_USER",
        "CURRENT_ROLE",
        "CURRENT_CATALOG",
        "CURRENT_SCHEMA",
        "SESSION_USER",
        "LOCALTIME",
        "LOCALTIMESTAMP",
    }
)


def view_columns(names: Sequence[str], query: Sequence[Token]) -> tuple[str, ...] | None:
    """The view's column names: ``names`` from ``CREATE VIEW v (a, b)`` override the
    query's, in order; None when a name cannot be known."""
    selected = select_list_names(query)
    if selected is None:
        # The explicit list still names everything when it covers every column, but we
        # cannot tell how many columns the query has.
        return None
    if len(names) > len(selected):
        return None
    return (*names, *selected[len(names) :])


def select_list_names(query: Sequence[Token]) -> tuple[str, ...] | None:
    """Output names of ``SELECT [DISTINCT [ON (…)]] item, … FROM …``; None for anything
    else (VALUES, WITH, TABLE, ``*``, an unnamed expression)."""
    cur = Cursor(query)
    if not cur.accept("SELECT"):
        return None
    if cur.accept("DISTINCT"):
        if cur.accept("ON"):
            cur.group()
    else:
        cur.accept("ALL")
    items = split_top(cur.until_keyword(_LIST_END))
    names = [_item_name(item) for item in items]
    if not names or any(n is None for n in names):
        return None
    return tuple(n for n in names if n is not None)


def _item_name(item: Sequence[Token]) -> str | None:
    last = item[-1]
    if len(item) >= 2 and is_name(last):
        before = item[-2]
        if before.token_type == TokenType.ALIAS or before.text.upper() == "AS":
            return fold(last)
        if before.token_type == TokenType.DOT:
            # a.b or s.a.b: a column reference is named after its column.
            if all(
                (t.token_type == TokenType.DOT) == (k % 2 == 1) and (k % 2 == 1 or is_name(t))
                for k, t in enumerate(item)
            ):
                return fold(last)
            return None
        if before.token_type in _VALUE_END and last.token_type in (
            TokenType.VAR,
            TokenType.IDENTIFIER,
        ):
            return fold(last)
        return None
    if len(item) == 1 and is_name(last) and last.text.upper() not in _NOT_COLUMNS:
        return fold(last)
    return None
