"""Turn one statement's tokens into normalised ``Op`` values.

Two readers sit behind one function:

* DDL is read by the token-level recogniser (``ddl.py``). sqlglot's tree for DDL is
  lossy in exactly the places a safety linter looks (see that module), and its grammar
  is keyword-driven, so reading sqlglot's own tokens is exact.
* DML (``UPDATE``, ``DELETE``, ``INSERT``, ``MERGE``, ``WITH``...) and anything the
  recogniser does not know is handed to sqlglot's parser, reusing the tokens the
  splitter already produced. A statement neither reader understands comes back with
  ``unrecognized`` set, which the engine reports as an ``info`` finding.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlglot.tokens import Token, TokenType

from migcheck.model import DOT_IN_NAME, ColumnDef, Constraint, Op
from migcheck.sql.ddl import Recogniser
from migcheck.sql.tokens import (
    Cursor,
    expand_multiword,
    name_list,
    split_top,
    string_value,
    text_of,
)

# sqlglot logs "contains unsupported syntax. Falling back to parsing as a 'Command'" for
# every statement it leaves opaque; migcheck reports those itself, precisely.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_LOCK_MODES = (
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
)

ParseResult = tuple[list[Op], str | None]

_READ_ONLY = frozenset({"SELECT", "VALUES", "TABLE", "SHOW", "EXPLAIN"})


# A query says nothing more to the rules than "select"; nothing changes an op once it is
# parsed, so every one shares this instance (a file of a million SELECTs holds one op).
_SELECT = Op("select")


def parse_statement(source: str, tokens: Sequence[Token]) -> ParseResult:
    """Ops for one statement (``tokens`` index into ``source``) and, when not understood,
    the reason."""
    if not tokens:
        return [], None
    # sqlglot's parser needs its own multi-word keyword tokens (``ORDER BY``, ``GROUP BY``
    # in a subquery): the word-per-token form is only for the recogniser.
    raw = _expand_command(source, tokens)
    tokens = expand_multiword(raw)
    cur = Cursor(tokens)
    rec = Recogniser(source, tokens)
    first = cur.kw()
    handler = _HANDLERS.get(first)
    if handler is not None:
        cur.pos = 1
        result = handler(rec, cur)
        if result is not None:
            return result
    return _with_sqlglot(source, raw)


_COMMAND_TYPES = frozenset(
    {
        TokenType.COMMAND,
        TokenType.LOCK,
        TokenType.RENAME,
        TokenType.EXECUTE,
        TokenType.FETCH,
        TokenType.SHOW,
    }
)


def _expand_command(source: str, tokens: Sequence[Token]) -> Sequence[Token]:
    """sqlglot's tokenizer swallows everything after a "command" keyword (VACUUM, LOCK,
    REINDEX, REFRESH...) into one string token. Tokenize that text again, keeping file
    offsets, so the recogniser sees real tokens. DO keeps its body string."""
    if (
        len(tokens) != 2
        or tokens[0].token_type not in _COMMAND_TYPES
        or tokens[1].token_type != TokenType.STRING
        or tokens[0].text.upper() == "DO"
    ):
        return tokens
    from sqlglot.dialects.postgres import Postgres
    from sqlglot.errors import TokenError

    base = tokens[1].start
    text = source[base : tokens[1].end + 1]
    try:
        inner = Postgres().tokenizer().tokenize(text)
    except TokenError:
        return tokens
    shifted = [
        Token(t.token_type, t.text, t.line, t.col, t.start + base, t.end + base, t.comments)
        for t in inner
    ]
    return [tokens[0], *shifted]


# -- transactions and session -------------------------------------------------------------


def _begin(rec: Recogniser, cur: Cursor) -> ParseResult:
    return [Op("begin", source="tokens")], None


def _start(rec: Recogniser, cur: Cursor) -> ParseResult | None:
    if cur.accept("TRANSACTION"):
        return [Op("begin", source="tokens")], None
    return None


def _commit(rec: Recogniser, cur: Cursor) -> ParseResult:
    return [Op("commit", source="tokens")], None


def _rollback(rec: Recogniser, cur: Cursor) -> ParseResult:
    cur.accept("WORK") or cur.accept("TRANSACTION")
    if cur.accept("TO"):
        cur.accept("SAVEPOINT")
        return [Op("rollback_to", name=cur.name(), source="tokens")], None
    if cur.accept("PREPARED"):
        return [Op("other", source="tokens")], None
    return [Op("rollback", source="tokens")], None


def _savepoint(rec: Recogniser, cur: Cursor) -> ParseResult:
    return [Op("savepoint", name=cur.name(), source="tokens")], None


def _release(rec: Recogniser, cur: Cursor) -> ParseResult:
    cur.accept("SAVEPOINT")
    return [Op("release", name=cur.name(), source="tokens")], None


def _set(rec: Recogniser, cur: Cursor) -> ParseResult:
    mode = "session"
    if cur.accept("LOCAL"):
        mode = "local"
    else:
        cur.accept("SESSION")
    if cur.at("TRANSACTION") or cur.at("CONSTRAINTS") or cur.at("ROLE"):
        return [Op("set", name=cur.kw().lower(), mode=mode, source="tokens")], None
    name = cur.name()
    if not (cur.accept("TO") or cur.accept_type(TokenType.EQ)):
        cur.accept("TIME", "ZONE")
    value_toks = cur.rest()
    value = text_of(rec.source, value_toks)
    sval = string_value(value_toks[0]) if len(value_toks) == 1 else None
    return [
        Op(
            "set",
            name=name,
            mode=mode,
            values=(sval if sval is not None else value,),
            source="tokens",
        )
    ], None


def _reset(rec: Recogniser, cur: Cursor) -> ParseResult:
    return [Op("reset", name=cur.name(), source="tokens")], None


# -- DDL ----------------------------------------------------------------------------------


def _alter(rec: Recogniser, cur: Cursor) -> ParseResult | None:
    if cur.accept("TABLE") or cur.accept("FOREIGN", "TABLE"):
        ops = rec.alter_table(cur)
        return (ops, None) if ops else None
    if cur.accept("TYPE") or cur.accept("DOMAIN"):
        return rec.alter_type(cur), None
    if cur.accept("INDEX"):
        ie = cur.accept("IF", "EXISTS")
        name = cur.relation()
        if cur.accept("RENAME", "TO"):
            return [Op("rename_index", name=name, new_name=cur.name(), if_exists=ie)], None
        if cur.accept("SET", "TABLESPACE"):
            return [Op("alter_index", name=name, mode="tablespace")], None
        return [Op("alter_index", name=name, if_exists=ie)], None
    materialized = cur.accept("MATERIALIZED")
    if cur.accept("VIEW"):
        ie = cur.accept("IF", "EXISTS")
        name = cur.relation()
        opts: dict[str, object] = {"materialized": materialized, "relkind": "view"}
        if cur.accept("RENAME", "TO"):
            return [
                Op("rename_view", name, name=name, new_name=cur.name(), if_exists=ie, options=opts)
            ], None
        if cur.accept("RENAME"):
            cur.accept("COLUMN")
            old = cur.name()
            cur.accept("TO")
            return [
                Op(
                    "rename_column",
                    name,
                    column=old,
                    new_name=cur.name(),
                    if_exists=ie,
                    options=opts,
                )
            ], None
        return [Op("alter_other", name, name=name, options=opts)], None
    if cur.accept("SEQUENCE"):
        cur.accept("IF", "EXISTS")
        return [Op("alter_sequence", name=cur.relation())], None
    if cur.accept("SCHEMA"):
        name = cur.name()
        if cur.accept("RENAME", "TO"):
            return [Op("rename_schema", name=name, new_name=cur.name())], None
        return [Op("alter_other", name=name)], None
    kind = cur.kw()
    return [Op("alter_other", name=kind.lower())], None


def _create(rec: Recogniser, cur: Cursor) -> ParseResult | None:
    replace = cur.accept("OR", "REPLACE")
    unique = cur.accept("UNIQUE")
    if cur.accept("INDEX"):
        return [_create_index(rec, cur, unique)], None
    for words in (
        ("TEMPORARY",),
        ("TEMP",),
        ("UNLOGGED",),
        ("GLOBAL", "TEMPORARY"),
        ("LOCAL", "TEMPORARY"),
    ):
        if cur.accept(*words):
            break
    if cur.accept("TABLE"):
        return [_create_table(rec, cur)], None
    materialized = cur.accept("MATERIALIZED")
    cur.accept("RECURSIVE")
    if cur.accept("VIEW"):
        cur.accept("IF", "NOT", "EXISTS")
        name = cur.relation()
        return [
            Op(
                "create_view",
                name,
                name=name,
                options={"materialized": materialized, "replace": replace},
            )
        ], None
    if cur.accept("TYPE"):
        name = cur.relation()
        if cur.accept("AS", "ENUM"):
            values = tuple(v for t in cur.group() if (v := string_value(t)) is not None)
            return [Op("create_enum", name, name=name, values=values)], None
        return [Op("create_type", name, name=name)], None
    if cur.accept("DOMAIN"):
        cur.accept("IF", "NOT", "EXISTS")
        name = cur.relation()
        return [Op("create_type", name, name=name)], None
    if cur.accept("SCHEMA"):
        cur.accept("IF", "NOT", "EXISTS")
        return [Op("create_schema", name=cur.name())], None
    if cur.accept("SEQUENCE"):
        cur.accept("IF", "NOT", "EXISTS")
        return [Op("create_sequence", name=cur.relation())], None
    if cur.accept("EXTENSION"):
        cur.accept("IF", "NOT", "EXISTS")
        return [Op("create_extension", name=cur.name())], None
    if cur.accept("FUNCTION") or cur.accept("PROCEDURE"):
        name = cur.relation()
        body = next(
            (
                t.text
                for t in cur.rest()
                if t.token_type == TokenType.HEREDOC_STRING
                or (t.token_type == TokenType.STRING and len(t.text) > 20)
            ),
            None,
        )
        return [Op("create_function", name=name, body=body)], None
    if cur.accept("TRIGGER") or cur.accept("CONSTRAINT", "TRIGGER"):
        name = cur.name()
        cur.until_keyword(("ON",))
        table = cur.relation() if cur.accept("ON") else None
        return [Op("create_trigger", table, name=name)], None
    if cur.accept("POLICY"):
        name = cur.name()
        table = cur.relation() if cur.accept("ON") else None
        return [Op("create_policy", table, name=name)], None
    return [Op("create_other", name=cur.kw().lower())], None


def _create_index(rec: Recogniser, cur: Cursor, unique: bool) -> Op:
    conc = cur.accept("CONCURRENTLY")
    ine = cur.accept("IF", "NOT", "EXISTS")
    name = None if cur.at("ON") else cur.relation()
    table = None
    only = False
    if cur.accept("ON"):
        only = cur.accept("ONLY")
        table = cur.relation()
    method = cur.name() if cur.accept("USING") else None
    cols = name_list(cur.group())
    rest = cur.rest()
    where = any(t.text.upper() == "WHERE" for t in rest)
    return Op(
        "create_index",
        table,
        name=name,
        concurrently=conc,
        unique=unique,
        only=only,
        names=cols,
        has_where=where,
        mode=method,
        source="tokens",
        options={"if_not_exists": ine},
    )


def _create_table(rec: Recogniser, cur: Cursor) -> Op:
    ine = cur.accept("IF", "NOT", "EXISTS")
    table = cur.relation()
    opts: dict[str, object] = {"if_not_exists": ine}
    if cur.accept("PARTITION", "OF"):
        opts["partition_of"] = cur.relation()
    columns: list[ColumnDef] = []
    constraints: list[Constraint] = []
    body = cur.group()
    for part in split_top(body):
        head = part[0].text.upper() if part else ""
        if head in ("CONSTRAINT", "CHECK", "UNIQUE", "PRIMARY", "FOREIGN", "EXCLUDE"):
            con = rec.table_constraint(part)
            if con is not None:
                constraints.append(con)
        elif head == "LIKE":
            c = Cursor(part, 1)
            opts["like"] = c.relation()
        else:
            col = rec.column_def(part)
            if col is not None:
                columns.append(col)
    rest = cur.rest()
    if any(t.text.upper() == "AS" for t in rest[:1]):
        opts["as_select"] = True
    if any(t.text.upper() == "PARTITION" for t in rest):
        opts["partitioned"] = True
    return Op(
        "create_table",
        table,
        name=table,
        columns=tuple(columns),
        constraints=tuple(constraints),
        source="tokens",
        options=opts,
    )


def _drop(rec: Recogniser, cur: Cursor) -> ParseResult | None:
    ops = rec.drop(cur)
    return ops, None


def _truncate(rec: Recogniser, cur: Cursor) -> ParseResult:
    cur.accept("TABLE")
    cur.accept("ONLY")
    names = []
    for part in split_top(cur.rest()):
        c = Cursor(part)
        c.accept("ONLY")
        n = c.relation()
        if n:
            names.append(n)
    return [Op("truncate", n, source="tokens") for n in names], None


def _reindex(rec: Recogniser, cur: Cursor) -> ParseResult:
    cur.group()  # (VERBOSE, CONCURRENTLY ...) options
    kind = cur.kw().lower()
    cur.next()
    conc = cur.accept("CONCURRENTLY")
    name = cur.relation()
    opt_text = text_of(rec.source, rec.tokens).upper()
    conc = conc or "CONCURRENTLY" in opt_text.split("(", 1)[-1].split(")", 1)[0]
    table = name if kind == "table" else None
    return [Op("reindex", table, name=name, mode=kind, concurrently=conc, source="tokens")], None


def _refresh(rec: Recogniser, cur: Cursor) -> ParseResult | None:
    if not cur.accept("MATERIALIZED", "VIEW"):
        return None
    conc = cur.accept("CONCURRENTLY")
    name = cur.relation()
    return [Op("refresh_matview", name, name=name, concurrently=conc, source="tokens")], None


def _lock(rec: Recogniser, cur: Cursor) -> ParseResult:
    cur.accept("TABLE")
    cur.accept("ONLY")
    toks = cur.until_keyword(("IN", "NOWAIT"))
    names = []
    for part in split_top(toks):
        c = Cursor(part)
        c.accept("ONLY")
        n = c.relation()
        if n:
            names.append(n)
    mode = "ACCESS EXCLUSIVE"
    if cur.accept("IN"):
        words = [t.text.upper() for t in cur.until_keyword(("MODE",))]
        mode = " ".join(words)
    cur.accept("MODE")
    nowait = cur.accept("NOWAIT")
    return [
        Op("lock", n, mode=mode, source="tokens", options={"nowait": nowait}) for n in names
    ], None


def _vacuum(rec: Recogniser, cur: Cursor) -> ParseResult:
    full = False
    group = cur.group()
    if group:
        full = any(t.text.upper() == "FULL" for t in group) and not any(
            t.text.upper() in ("FALSE", "OFF", "0") for t in group
        )
    while cur.kw() in ("FULL", "FREEZE", "VERBOSE", "ANALYZE", "ANALYSE"):
        full = full or cur.kw() == "FULL"
        cur.next()
    names = []
    for part in split_top(cur.rest()):
        n = Cursor(part).relation()
        if n:
            names.append(n)
    mode = "full" if full else None
    if not names:
        return [Op("vacuum", None, mode=mode, source="tokens")], None
    return [Op("vacuum", n, mode=mode, source="tokens") for n in names], None


def _cluster(rec: Recogniser, cur: Cursor) -> ParseResult:
    cur.group()
    cur.accept("VERBOSE")
    table = cur.relation()
    index = cur.name() if cur.accept("USING") else None
    return [Op("cluster", table, name=index, source="tokens")], None


def _do(rec: Recogniser, cur: Cursor) -> ParseResult:
    body = next((t.text for t in cur.rest() if string_value(t) is not None), "")
    return [Op("do", body=body, source="tokens")], None


def _simple(kind: str):  # type: ignore[no-untyped-def]
    def handler(rec: Recogniser, cur: Cursor) -> ParseResult:
        return [Op(kind, source="tokens")], None

    return handler


_HANDLERS = {
    "BEGIN": _begin,
    "START": _start,
    "COMMIT": _commit,
    "END": _commit,
    "ROLLBACK": _rollback,
    "ABORT": _rollback,
    "SAVEPOINT": _savepoint,
    "RELEASE": _release,
    "SET": _set,
    "RESET": _reset,
    "ALTER": _alter,
    "CREATE": _create,
    "DROP": _drop,
    "TRUNCATE": _truncate,
    "REINDEX": _reindex,
    "REFRESH": _refresh,
    "LOCK": _lock,
    "VACUUM": _vacuum,
    "CLUSTER": _cluster,
    "DO": _do,
    "ANALYZE": _simple("analyze"),
    "ANALYSE": _simple("analyze"),
    "COMMENT": _simple("comment"),
    "GRANT": _simple("grant"),
    "REVOKE": _simple("revoke"),
    "CALL": _simple("call"),
    "NOTIFY": _simple("other"),
    "LISTEN": _simple("other"),
    "DISCARD": _simple("other"),
    "CHECKPOINT": _simple("other"),
}


# -- DML through sqlglot ----------------------------------------------------------------


def _with_sqlglot(source: str, tokens: Sequence[Token]) -> ParseResult:
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
                has_where=where is not None and not (from_ is not None and _joins_only(where)),
                options={"from": from_ is not None},
            )
        ]
    if isinstance(tree, exp.Delete):
        return [Op("delete", table_name(tree.this), has_where=tree.args.get("where") is not None)]
    if isinstance(tree, exp.Insert):
        src = tree.expression
        from_select = isinstance(src, (exp.Select, exp.Union))
        sel_table = table_name(src) if from_select else None
        has_where = bool(from_select and src is not None and src.args.get("where") is not None)
        return [
            Op(
                "insert",
                table_name(tree.this),
                has_where=has_where,
                options={"select": from_select, "select_from": sel_table},
            )
        ]
    if isinstance(tree, exp.Merge):
        return [Op("merge", table_name(tree.this))]
    if isinstance(tree, (exp.Select, exp.Union)):
        return [_SELECT]
    if isinstance(tree, exp.Copy):
        return [Op("copy", table_name(tree.this))]
    if isinstance(tree, (exp.Create, exp.Drop, exp.Alter, exp.Command, exp.Alias, exp.Column)):
        return None
    return [Op("other")]


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


def _short(msg: str) -> str:
    first = msg.strip().splitlines()[0] if msg.strip() else "syntax error"
    return first[:120]
