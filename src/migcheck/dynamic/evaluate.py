"""Evaluating an ``EXECUTE`` argument: string literals, ``||``, ``quote_ident`` and
friends, ``format()``, casts, and variables assigned exactly once.

What cannot be evaluated comes back unknown, with the literal prefix seen before it (so
``'ALTER TABLE ' || quote_ident(t)`` still shows its verb). Arguments nested deeper than
``MAX_NESTING`` raise ``TooDeep`` rather than exhaust Python's stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from migcheck.dynamic.lexer import Tok
from migcheck.lazyre import lazy


@dataclass(frozen=True)
class Value:
    known: bool
    text: str  # the full string when known, else the known prefix ("" when none)


UNKNOWN_VALUE = Value(False, "")

# How deep the evaluator recurses (parentheses, call arguments, variables) before giving
# up. Real EXECUTE arguments nest a few levels; 500 nested parentheses would exhaust
# Python's stack, and every level re-scans the tokens inside it.
MAX_NESTING = 40


class TooDeep(Exception):
    """An EXECUTE argument nested deeper than MAX_NESTING."""


class Evaluator:
    def __init__(self, assignments: dict[str, list[list[Tok]]]) -> None:
        self.assignments = assignments
        self.depth = 0  # variables being resolved
        self.nesting = 0  # eval() calls in progress

    def eval(self, toks: list[Tok]) -> Value:
        if self.nesting >= MAX_NESTING:
            raise TooDeep
        self.nesting += 1
        try:
            parts = _split_concat(toks)
            prefix: list[str] = []
            for part in parts:
                v = self.term(part)
                prefix.append(v.text)
                if not v.known:
                    return Value(False, "".join(prefix))
            return Value(True, "".join(prefix))
        finally:
            self.nesting -= 1

    def term(self, toks: list[Tok]) -> Value:
        toks = _strip_cast(toks)
        if not toks:
            return UNKNOWN_VALUE
        if toks[0].kind == "(" and _matching(toks, 0) == len(toks) - 1:
            return self.eval(toks[1:-1])
        if len(toks) == 1:
            t = toks[0]
            if t.kind == "string":
                return Value(True, t.value)
            if t.kind == "number":
                return Value(True, t.text)
            if t.kind in ("word", "ident"):
                return self.variable(t.value)
            return UNKNOWN_VALUE
        if (
            toks[0].kind in ("word", "ident")
            and toks[1].text == "."
            and all(t.kind in ("word", "ident") or t.text == "." for t in toks)
        ):
            return self.variable("".join(t.value or t.text for t in toks))
        if toks[0].kind == "word" and toks[1].kind == "(" and _matching(toks, 1) == len(toks) - 1:
            name = toks[0].value.lower()
            args = [self.eval(a) for a in _split_args(toks[2:-1])]
            return self.call(name, args)
        return UNKNOWN_VALUE

    def variable(self, name: str) -> Value:
        exprs = self.assignments.get(name)
        # Only a variable assigned once has one value wherever EXECUTE runs.
        if not exprs or len(exprs) != 1 or self.depth > 8:
            return UNKNOWN_VALUE
        self.depth += 1
        try:
            return self.eval(exprs[0])
        finally:
            self.depth -= 1

    def call(self, name: str, args: list[Value]) -> Value:
        if name in ("quote_ident", "quote_literal", "quote_nullable") and len(args) == 1:
            if not args[0].known:
                return UNKNOWN_VALUE
            fn = _quote_ident if name == "quote_ident" else _quote_literal
            return Value(True, fn(args[0].text))
        if name in ("format", "pg_catalog.format") and args:
            fmt = args[0]
            if not fmt.known:
                return Value(False, fmt.text)
            return _format(fmt.text, args[1:])
        if name == "concat":
            return self._concat(args)
        if name in ("lower", "upper") and len(args) == 1 and args[0].known:
            return Value(True, args[0].text.lower() if name == "lower" else args[0].text.upper())
        return UNKNOWN_VALUE

    @staticmethod
    def _concat(args: list[Value]) -> Value:
        prefix = ""
        for a in args:
            prefix += a.text
            if not a.known:
                return Value(False, prefix)
        return Value(True, prefix)


def _matching(toks: list[Tok], i: int) -> int:
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].kind == "(":
            depth += 1
        elif toks[j].kind == ")":
            depth -= 1
            if depth == 0:
                return j
    return -1


def _split_concat(toks: list[Tok]) -> list[list[Tok]]:
    parts: list[list[Tok]] = [[]]
    depth = 0
    for t in toks:
        if t.kind == "(":
            depth += 1
        elif t.kind == ")":
            depth -= 1
        if depth == 0 and t.kind == "op" and t.text == "||":
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


def _split_args(toks: list[Tok]) -> list[list[Tok]]:
    if not toks:
        return []
    parts: list[list[Tok]] = [[]]
    depth = 0
    for t in toks:
        if t.kind == "(":
            depth += 1
        elif t.kind == ")":
            depth -= 1
        if depth == 0 and t.kind == ",":
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


def _strip_cast(toks: list[Tok]) -> list[Tok]:
    """``'x'::text`` → ``'x'``; a cast to a string type does not change the value."""
    depth = 0
    for i, t in enumerate(toks):
        if t.kind == "(":
            depth += 1
        elif t.kind == ")":
            depth -= 1
        elif depth == 0 and t.kind == "op" and t.text == "::":
            return toks[:i]
    return toks


# Keywords quote_ident() quotes: every category but "unreserved" (PostgreSQL's
# reserved, type/function-name and column-name keywords).
_RESERVED = frozenset(
    {
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both",
        "case", "cast", "check", "collate", "column", "constraint", "create", "current_catalog",
        "current_date", "current_role", "current_time", "current_timestamp", "current_user",
        "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "false",
        "fetch", "for", "foreign", "from", "grant", "group", "having", "in", "initially",
        "intersect", "into", "lateral", "leading", "limit", "localtime", "localtimestamp", "not",
        "null", "offset", "on", "only", "or", "order", "placing", "primary", "references",
        "returning", "select", "session_user", "some", "symmetric", "system_user", "table", "then",
        "to", "trailing", "true", "union", "unique", "user", "using", "variadic", "when", "where",
        "window", "with", "authorization", "binary", "collation", "concurrently", "cross",
        "current_schema", "freeze", "full", "ilike", "inner", "is", "isnull", "join", "left",
        "like", "natural", "notnull", "outer", "overlaps", "right", "similar", "tablesample",
        "verbose", "between", "bigint", "bit", "boolean", "char", "character", "coalesce", "dec",
        "decimal", "exists", "extract", "float", "greatest", "grouping", "inout", "int", "integer",
        "interval", "least", "national", "nchar", "none", "normalize", "nullif", "numeric", "out",
        "overlay", "position", "precision", "real", "row", "setof", "smallint", "substring",
        "time", "timestamp", "treat", "trim", "values", "varchar",
    }
)  # fmt: skip


def _quote_ident(name: str) -> str:
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(value: str) -> str:
    if "\\" in value:
        return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
    return "'" + value.replace("'", "''") + "'"


_SPEC = lazy(r"%(?:(\d+)\$)?(-)?(\*(?:\d+\$)?|\d+)?([sIL%])")


def _format(fmt: str, args: list[Value]) -> Value:
    """PostgreSQL's ``format()`` when every argument it needs is known; else the prefix
    before the first unknown one."""
    out: list[str] = []
    pos = 0
    nxt = 0
    for m in _SPEC.finditer(fmt):
        out.append(fmt[pos : m.start()])
        pos = m.end()
        if m.group(4) == "%":
            out.append("%")
            continue
        if m.group(3):  # width from an argument or fixed width: rare in DDL, give up
            return Value(False, "".join(out))
        index = int(m.group(1)) - 1 if m.group(1) else nxt
        nxt = index + 1
        if index >= len(args) or not args[index].known:
            return Value(False, "".join(out))
        value = args[index].text
        spec = m.group(4)
        out.append(
            _quote_ident(value) if spec == "I" else _quote_literal(value) if spec == "L" else value
        )
    out.append(fmt[pos:])
    return Value(True, "".join(out))
