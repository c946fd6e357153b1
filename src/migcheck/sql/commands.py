"""Readers of DDL, lock and maintenance statements (ALTER, CREATE, DROP, LOCK, VACUUM...),
one per leading keyword, on the token level.

A reader returns the statement's ops, or None when the statement is not one it knows,
which hands it on to sqlglot (``dml.py``). ``parse.py`` maps keywords to readers.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot.tokens import Token, TokenType

from migcheck.model import ColumnDef, Constraint, Op
from migcheck.sql.alter_table import alter_table, partition_bound
from migcheck.sql.ddl import ParseResult, Recogniser
from migcheck.sql.indexkeys import index_keys, nulls_not_distinct, predicate
from migcheck.sql.tokens import Cursor, is_name, name_list, split_top, string_value, text_of
from migcheck.sql.views import view_columns


def read_alter(rec: Recogniser, cur: Cursor) -> ParseResult | None:
    if cur.accept("TABLE") or cur.accept("FOREIGN", "TABLE"):
        ops = alter_table(rec, cur)
        return (ops, None) if ops else None
    if cur.accept("DOMAIN"):
        return _alter_domain(rec, cur), None
    if cur.accept("TYPE"):
        return rec.alter_type(cur), None
    if cur.accept("INDEX"):
        ie = cur.accept("IF", "EXISTS")
        name = cur.relation()
        if cur.accept("RENAME", "TO"):
            return [Op("rename_index", name=name, new_name=cur.name(), if_exists=ie)], None
        if cur.accept("SET", "TABLESPACE"):
            return [Op("alter_index", name=name, mode="tablespace", new_name=cur.name())], None
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


def read_create(rec: Recogniser, cur: Cursor) -> ParseResult | None:
    replace = cur.accept("OR", "REPLACE")
    unique = cur.accept("UNIQUE")
    if cur.accept("INDEX"):
        return [_create_index(rec, cur, unique)], None
    for words in _PERSISTENCE:
        if cur.accept(*words):
            break
    if cur.accept("TABLE"):
        return [_create_table(rec, cur)], None
    materialized = cur.accept("MATERIALIZED")
    cur.accept("RECURSIVE")
    if cur.accept("VIEW"):
        cur.accept("IF", "NOT", "EXISTS")
        name = cur.relation()
        options: dict[str, object] = {"materialized": materialized, "replace": replace}
        head = Cursor(cur.until_keyword(("AS",)))
        columns = None
        if cur.accept("AS"):
            columns = view_columns(name_list(head.group()), cur.rest())
        options["columns_known"] = columns is not None
        return [Op("create_view", name, name=name, names=columns or (), options=options)], None
    for words, read in _CREATE_OBJECTS:
        if cur.accept(*words):
            return [read(cur)], None
    return [Op("create_other", name=cur.kw().lower())], None


# Words between CREATE and TABLE; at most one is read.
_PERSISTENCE: tuple[tuple[str, ...], ...] = (
    ("TEMPORARY",),
    ("TEMP",),
    ("UNLOGGED",),
    ("GLOBAL", "TEMPORARY"),
    ("LOCAL", "TEMPORARY"),
)


def _create_type(cur: Cursor) -> Op:
    name = cur.relation()
    if cur.accept("AS", "ENUM"):
        values = tuple(v for t in cur.group() if (v := string_value(t)) is not None)
        return Op("create_enum", name, name=name, values=values)
    return Op("create_type", name, name=name)


def _create_domain(cur: Cursor) -> Op:
    cur.accept("IF", "NOT", "EXISTS")
    name = cur.relation()
    return Op("create_type", name, name=name, options={"domain": True})


def _alter_domain(rec: Recogniser, cur: Cursor) -> list[Op]:
    """ALTER DOMAIN's constraint forms, which check every column of the domain, as
    ``alter_domain`` ops (``mode`` says which); the rest reads like ALTER TYPE."""
    start = cur.pos
    name = cur.relation()
    if cur.accept("ADD"):
        con = rec.table_constraint(cur.rest())
        return [
            Op(
                "alter_domain",
                name,
                name=name,
                mode="add_constraint",
                constraint=con,
                source="tokens",
            )
        ]
    if cur.accept("SET", "NOT", "NULL") or cur.accept("DROP", "NOT", "NULL"):
        mode = "set_not_null" if cur.kw(-3) == "SET" else "drop_not_null"
        return [Op("alter_domain", name, name=name, mode=mode, source="tokens")]
    if cur.accept("VALIDATE", "CONSTRAINT"):
        con_name = cur.name()
        return [
            Op(
                "alter_domain",
                name,
                name=name,
                mode="validate_constraint",
                names=(con_name,) if con_name else (),
                source="tokens",
            )
        ]
    cur.pos = start
    return rec.alter_type(cur)


def _create_schema(cur: Cursor) -> Op:
    cur.accept("IF", "NOT", "EXISTS")
    return Op("create_schema", name=cur.name())


def _create_sequence(cur: Cursor) -> Op:
    cur.accept("IF", "NOT", "EXISTS")
    return Op("create_sequence", name=cur.relation())


def _create_extension(cur: Cursor) -> Op:
    cur.accept("IF", "NOT", "EXISTS")
    return Op("create_extension", name=cur.name())


def _create_function(cur: Cursor) -> Op:
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
    return Op("create_function", name=name, body=body)


def _create_trigger(cur: Cursor) -> Op:
    name = cur.name()
    cur.until_keyword(("ON",))
    table = cur.relation() if cur.accept("ON") else None
    return Op("create_trigger", table, name=name)


def _create_policy(cur: Cursor) -> Op:
    name = cur.name()
    table = cur.relation() if cur.accept("ON") else None
    return Op("create_policy", table, name=name)


# CREATE <words> after the index, table and view forms; tried in order.
_CREATE_OBJECTS: tuple[tuple[tuple[str, ...], Callable[[Cursor], Op]], ...] = (
    (("TYPE",), _create_type),
    (("DOMAIN",), _create_domain),
    (("SCHEMA",), _create_schema),
    (("SEQUENCE",), _create_sequence),
    (("EXTENSION",), _create_extension),
    (("FUNCTION",), _create_function),
    (("PROCEDURE",), _create_function),
    (("TRIGGER",), _create_trigger),
    (("CONSTRAINT", "TRIGGER"), _create_trigger),
    (("POLICY",), _create_policy),
)


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
    group = cur.group()
    cols = name_list(group)
    rest = cur.rest()
    where = any(t.text.upper() == "WHERE" for t in rest)
    keys, refs = index_keys(group)
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
        options={
            "if_not_exists": ine,
            "plain_keys": _plain_keys(group),
            "keys": keys,
            "key_refs": refs,
            "where": predicate(rest),
            "nulls_not_distinct": nulls_not_distinct(rest),
        },
    )


def _plain_keys(group: list[Token]) -> int:
    """How many leading keys of the index are plain columns, up to the first expression
    key (``lower(email)``, ``(a + b)``); ``names`` holds those columns first. A count, not
    the names: cached ops hold only scalars in ``options``."""
    n = 0
    for part in split_top(group):
        cur = Cursor(part)
        if cur.name() is None or cur.accept_type(TokenType.L_PAREN):
            break
        n += 1
    return n


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
    key: tuple[str, ...] | None = None
    if any(t.text.upper() == "AS" for t in rest[:1]):
        opts["as_select"] = True
    tail = Cursor(rest)
    if "partition_of" in opts:
        bound = partition_bound(rec, tail)
        opts["default_partition"] = bound.pop("default")
        opts.update(bound)
    tail.until_keyword(("PARTITION",))
    if tail.accept("PARTITION", "BY"):
        opts["partitioned"] = True
        tail.next()  # RANGE | LIST | HASH
        key = _partition_key(tail.group())
        if key is None:
            opts["key_expression"] = True
    return Op(
        "create_table",
        table,
        name=table,
        names=key or (),
        columns=tuple(columns),
        constraints=tuple(constraints),
        source="tokens",
        options=opts,
    )


def _partition_key(toks: list[Token]) -> tuple[str, ...] | None:
    """The key columns of ``PARTITION BY RANGE (a, b)``; None when a part is an
    expression (``(lower(name))``), whose values migcheck cannot relate to a CHECK."""
    names = []
    for part in split_top(toks):
        # A column may be followed by COLLATE or an operator class, never by "(" or ".".
        if not is_name(part[0]) or (len(part) > 1 and not is_name(part[1])):
            return None
        names.append(Cursor(part).name() or "")
    return tuple(names)


def read_drop(rec: Recogniser, cur: Cursor) -> ParseResult | None:
    ops = rec.drop(cur)
    return ops, None


def read_truncate(rec: Recogniser, cur: Cursor) -> ParseResult:
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


_FALSE = frozenset({"false", "off", "0", "no", "f", "n"})


def _option_on(statement: str, option: str) -> bool:
    """Whether ``statement``'s leading option list (``REINDEX (VERBOSE, CONCURRENTLY
    false) …``) turns ``option`` on: named alone or with a true value."""
    rest = statement.split(None, 1)[1] if len(statement.split(None, 1)) > 1 else ""
    if not rest.startswith("("):
        return False
    for item in rest[1:].split(")", 1)[0].split(","):
        words = item.split()
        if words and words[0].upper() == option:
            return len(words) == 1 or words[1].strip("'").lower() not in _FALSE
    return False


def read_reindex(rec: Recogniser, cur: Cursor) -> ParseResult:
    cur.group()  # (VERBOSE, CONCURRENTLY ...) options
    kind = cur.kw().lower()
    cur.next()
    conc = cur.accept("CONCURRENTLY")
    name = cur.relation()
    conc = conc or _option_on(text_of(rec.source, rec.tokens), "CONCURRENTLY")
    table = name if kind == "table" else None
    return [Op("reindex", table, name=name, mode=kind, concurrently=conc, source="tokens")], None


def read_refresh(rec: Recogniser, cur: Cursor) -> ParseResult | None:
    if not cur.accept("MATERIALIZED", "VIEW"):
        return None
    conc = cur.accept("CONCURRENTLY")
    name = cur.relation()
    # WITH NO DATA empties the view (unreadable until the next refresh) instead of
    # recomputing it: instant, and a different risk.
    no_data = cur.accept("WITH", "NO", "DATA")
    return [
        Op(
            "refresh_matview",
            name,
            name=name,
            concurrently=conc,
            source="tokens",
            options={"no_data": no_data},
        )
    ], None


def read_lock(rec: Recogniser, cur: Cursor) -> ParseResult:
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


def read_vacuum(rec: Recogniser, cur: Cursor) -> ParseResult:
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


def read_cluster(rec: Recogniser, cur: Cursor) -> ParseResult:
    cur.group()
    cur.accept("VERBOSE")
    table = cur.relation()
    index = cur.name() if cur.accept("USING") else None
    return [Op("cluster", table, name=index, source="tokens")], None


def read_do(rec: Recogniser, cur: Cursor) -> ParseResult:
    body = next((t.text for t in cur.rest() if string_value(t) is not None), "")
    return [Op("do", body=body, source="tokens")], None
