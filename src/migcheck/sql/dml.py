"""DML and anything the token-level readers do not know, read through sqlglot's parser.

``UPDATE``, ``DELETE``, ``INSERT``, ``MERGE``, ``COPY`` and queries become ops; a statement
sqlglot cannot parse comes back with the reason, which the engine reports. sqlglot is
imported inside the functions: the CLI's cached start-up path never needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlglot.tokens import Token

from migcheck.lazyre import lazy
from migcheck.model import DOT_IN_NAME, INDEX_KEY_SEP, Op
from migcheck.sql.ddl import ParseResult

_READ_ONLY = frozenset({"SELECT", "VALUES", "TABLE", "SHOW", "EXPLAIN"})

# A query says nothing more to the rules than "select"; nothing changes an op once it is
# parsed, so every one shares this instance (a file of a million SELECTs holds one op).
_SELECT = Op("select")


def with_sqlglot(source: str, tokens: Sequence[Token]) -> ParseResult:
    from sqlglot import exp
    from sqlglot.dialects.postgres import Postgres
    from sqlglot.errors import ErrorLevel, ParseError

    try:
        trees = Postgres().parser(error_level=ErrorLevel.RAISE).parse(list(tokens), source)
    except (ParseError, Exception) as err:  # sqlglot raises several error types
        first = tokens[0].text.upper()
        if first in _READ_ONLY:
            # A query sqlglot cannot parse (``OFFSET $2``...) still only reads: it takes
            # ACCESS SHARE locks and changes nothing a rule looks at.
            return [Op("select", source="tokens")], None
        return [], f"{first} statement could not be parsed ({_short(str(err))})"
    tree = trees[0] if trees else None
    if tree is None:
        return [], None
    if isinstance(tree, exp.Command):
        return [], f"{tree.name.upper()} statement is not understood by sqlglot or migcheck"
    ops = _dml_ops(tree)
    if ops is None:
        word = tokens[0].text.upper()
        return [], f"{word} is not a statement migcheck knows"
    return ops, None


def _dml_ops(tree: object) -> list[Op] | None:
    from sqlglot import exp

    def table_name(node: exp.Expr | None) -> str | None:
        if not isinstance(node, exp.Table):
            node = node.find(exp.Table) if isinstance(node, exp.Expr) else None
        if not isinstance(node, exp.Table):
            return None
        parts = [
            p.name.replace(".", DOT_IN_NAME) if p.args.get("quoted") else p.name.lower()
            for p in node.parts
        ]
        name = ".".join(parts)
        return name[len("public.") :] if name.startswith("public.") else name

    assert isinstance(tree, exp.Expr)
    if isinstance(tree, exp.Update):
        where = tree.args.get("where")
        from_ = tree.args.get("from_")
        return [
            Op(
                "update",
                table_name(tree.this),
                # ``UPDATE t SET ... FROM s WHERE t.id = s.t_id`` names no row to skip: its
                # WHERE only joins, so it rewrites every row of t that s covers.
                has_where=_filters(where) and not (from_ is not None and _joins_only(where)),
                options={
                    "from": from_ is not None,
                    "always_true": _always_true(where),
                    "fills": INDEX_KEY_SEP.join(_fills(tree)),
                    "reads": INDEX_KEY_SEP.join(_reads(tree, table_name)),
                },
            )
        ]
    if isinstance(tree, exp.Delete):
        where = tree.args.get("where")
        return [
            Op(
                "delete",
                table_name(tree.this),
                has_where=_filters(where),
                options={"always_true": _always_true(where)},
            )
        ]
    if isinstance(tree, exp.Insert):
        src = tree.expression
        from_select = isinstance(src, (exp.Select, exp.Union))
        sel_table = table_name(src) if from_select else None
        has_where = bool(from_select and src is not None and _filters(src.args.get("where")))
        return [
            Op(
                "insert",
                table_name(tree.this),
                has_where=has_where,
                options={
                    "select": from_select,
                    "select_from": sel_table,
                    # A VALUES list reads no table: its rows need no walk.
                    "reads": INDEX_KEY_SEP.join(_reads(tree, table_name) if from_select else ()),
                },
            )
        ]
    if isinstance(tree, exp.Merge):
        return [Op("merge", table_name(tree.this))]
    if isinstance(tree, (exp.Select, exp.Union)):
        into = tree.args.get("into")
        if isinstance(into, exp.Into):
            # ``SELECT ... INTO [TEMP] TABLE t`` creates t, as CREATE TABLE t AS SELECT does.
            name = table_name(into.this)
            return [Op("create_table", name, name=name, options={"as_select": True})]
        return [_SELECT]
    if isinstance(tree, exp.Copy):
        return [Op("copy", table_name(tree.this))]
    if isinstance(tree, (exp.Create, exp.Drop, exp.Alter, exp.Command, exp.Alias, exp.Column)):
        return None
    return [Op("other")]


def _reads(tree: object, table_name: Callable[[Any], str | None]) -> list[str]:
    """The tables a data-changing statement reads rows from (its subqueries, FROM and
    SELECT), apart from the one it writes: where a migration copies rows out of a table
    before dropping it (drop-table)."""
    from sqlglot import exp

    assert isinstance(tree, exp.Expr)
    target = table_name(tree.this)
    out: list[str] = []
    for node in tree.find_all(exp.Table):
        if node is tree.this or node.parent is tree.this:
            continue
        name = table_name(node)
        if name and name != target and name not in out:
            out.append(name)
    return out


def _fills(tree: object) -> list[str]:
    """The columns this UPDATE leaves without a NULL: it sets them to a value that is never
    NULL (a constant, a COALESCE or CASE ending in one) on every row, or on every row
    where they are NULL (``WHERE col IS NULL``). Anything else (a FROM join, another
    filter, a column value) may leave NULLs, so it fills nothing."""
    from sqlglot import exp

    assert isinstance(tree, exp.Update)
    if tree.args.get("from_") is not None:
        return []
    where = tree.args.get("where")
    only_null = _null_test(where.this) if isinstance(where, exp.Where) else None
    if isinstance(where, exp.Where) and only_null is None and not _always_true(where):
        return []
    out = []
    for item in tree.expressions:
        if not isinstance(item, exp.EQ) or not isinstance(item.this, exp.Column):
            continue
        col = _column_name(item.this)
        if only_null not in (None, col):
            continue
        if _never_null(item.expression):
            out.append(col)
    return out


def _column_name(node: object) -> str:
    from sqlglot import exp

    assert isinstance(node, exp.Column)
    ident = node.this
    quoted = isinstance(ident, exp.Identifier) and bool(ident.args.get("quoted"))
    return node.name.replace(".", DOT_IN_NAME) if quoted else node.name.lower()


def _null_test(cond: object) -> str | None:
    """The column of ``col IS NULL`` (None for any other condition)."""
    from sqlglot import exp

    while isinstance(cond, exp.Paren):
        cond = cond.this
    if (
        isinstance(cond, exp.Is)
        and isinstance(cond.expression, exp.Null)
        and isinstance(cond.this, exp.Column)
    ):
        return _column_name(cond.this)
    return None


def _never_null(node: object) -> bool:
    """Whether an expression is never NULL, whatever the row: a non-NULL constant (maybe
    cast), the current time, a COALESCE with such an argument, a CASE whose every branch
    and ELSE are such."""
    from sqlglot import exp

    while isinstance(node, (exp.Paren, exp.Cast)):
        node = node.this
    if isinstance(node, (exp.Literal, exp.Boolean)):
        return True
    if isinstance(node, (exp.CurrentTimestamp, exp.CurrentDate)):
        return True
    if isinstance(node, exp.Coalesce):
        return any(_never_null(a) for a in [node.this, *node.expressions])
    if isinstance(node, exp.Case):
        default = node.args.get("default")
        return default is not None and all(
            _never_null(x) for x in [default, *(i.args.get("true") for i in node.args["ifs"])]
        )
    return False


# A WHERE clause bigger than this is taken to filter rows without simplifying it: the
# simplifier's cost grows with the clause, and a tautology is short.
_SIMPLIFY_NODES = 64


def _always_true(where: object) -> bool:
    """True when a WHERE clause holds for every row (``1 = 1``, ``TRUE``, ``NOT FALSE``):
    such a statement touches every row, exactly as one without WHERE."""
    from sqlglot import exp
    from sqlglot.optimizer.simplify import simplify

    if not isinstance(where, exp.Where):
        return False
    cond = where.this
    if sum(1 for _ in cond.walk()) > _SIMPLIFY_NODES:
        return False
    try:
        simplified = simplify(cond.copy())
    except Exception:  # the simplifier is best effort: an odd clause is taken to filter
        return False
    return isinstance(simplified, exp.Boolean) and simplified.this is True


def _filters(where: object) -> bool:
    """True when there is a WHERE clause that can leave rows out."""
    return where is not None and not _always_true(where)


def _joins_only(where: object) -> bool:
    """True when a WHERE clause is only ``a.x = b.y`` conditions between columns of two
    different tables, ANDed: a join, not a filter."""
    from sqlglot import exp

    assert isinstance(where, exp.Expr)
    cond = where.this if isinstance(where, exp.Where) else where
    while isinstance(cond, exp.Paren):
        cond = cond.this
    if isinstance(cond, exp.And):
        return _joins_only(cond.left) and _joins_only(cond.right)
    if not isinstance(cond, exp.EQ):
        return False
    # Each side may be a column or an expression over one table's columns
    # (``date_trunc('hour', t.created_at) = s.hour``, ``lower(t.email) = s.email``): still
    # a join, as long as the two sides name columns of two different tables.
    left, right = _side_table(cond.left), _side_table(cond.right)
    return left is not None and right is not None and left != right


def _side_table(side: object) -> str | None:
    """The one table qualifier every column of ``side`` names, or None (no column, an
    unqualified column, columns of several tables, or a subquery)."""
    from sqlglot import exp

    assert isinstance(side, exp.Expr)
    if side.find(exp.Select) is not None:
        return None
    tables = {c.table for c in side.find_all(exp.Column)}
    if len(tables) != 1:
        return None
    (table,) = tables
    return table or None


# sqlglot's messages name tokens by their repr (``<Token token_type: TokenType.L_BRACE,
# text: {, line: 7, ...>``): a user needs only the text.
_TOKEN_REPR = lazy(r"<Token token_type: [^,]*, text: (.*?), line: \d+, col: \d+[^>]*>")


def _short(msg: str) -> str:
    first = msg.strip().splitlines()[0] if msg.strip() else "syntax error"
    return _TOKEN_REPR.sub(lambda m: repr(m.group(1)), first)[:120]
