"""ALTER TABLE, one action at a time: a reader per leading keyword of the action.

``alter_table`` splits the statement at its top-level commas and reads each action into
one ``Op``. The first reader whose keywords match the action reads it; an action no reader
knows is ``alter_table_other``, which the rules treat as taking the table's strongest lock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlglot.tokens import Token, TokenType

from migcheck.model import Op
from migcheck.sql.ddl import TABLE_CONSTRAINT_START, Recogniser
from migcheck.sql.exprs import analyse_expression, column_type
from migcheck.sql.tokens import Cursor, split_top


def alter_table(rec: Recogniser, cur: Cursor, kind: str = "table") -> list[Op]:
    """Parse after ``ALTER TABLE``; one Op per action."""
    if_exists = cur.accept("IF", "EXISTS")
    only = cur.accept("ONLY")
    table = cur.relation()
    if table is None:
        return []
    cur.accept_type(TokenType.STAR)
    ops: list[Op] = []
    for action in split_top(cur.rest()):
        op = _alter_action(rec, table, action)
        op.if_exists = op.if_exists or if_exists
        op.only = only
        op.source = "tokens"
        op.text = rec.text(action)
        op.offset = action[0].start
        if kind != "table":
            op.options["relkind"] = kind
        ops.append(op)
    return ops


def _alter_action(rec: Recogniser, table: str, toks: Sequence[Token]) -> Op:
    cur = Cursor(toks)
    for words, read in _ACTIONS:
        if cur.accept(*words):
            return read(rec, table, cur)
    if cur.at("ENABLE") or cur.at("DISABLE"):
        word = cur.kw()
        if cur.kw(1) == "ROW" or cur.kw(1) == "TRIGGER" or cur.kw(2) == "TRIGGER":
            kind = "enable_" if word == "ENABLE" else "disable_"
            return Op(kind + ("rls" if cur.kw(1) == "ROW" else "trigger"), table)
    after_set = cur.peek(1)
    if cur.at("SET") and after_set is not None and after_set.token_type == TokenType.L_PAREN:
        return Op("set_storage_param", table, text=rec.text(toks))
    return Op("alter_table_other", table)


def _rename(rec: Recogniser, table: str, cur: Cursor) -> Op:
    if cur.accept("TO"):
        return Op("rename_table", table, new_name=cur.relation())
    if cur.accept("CONSTRAINT"):
        old = cur.name()
        cur.accept("TO")
        return Op("rename_constraint", table, name=old, new_name=cur.name())
    cur.accept("COLUMN")
    old = cur.name()
    cur.accept("TO")
    return Op("rename_column", table, column=old, new_name=cur.name())


def _add(rec: Recogniser, table: str, cur: Cursor) -> Op:
    if cur.kw() not in TABLE_CONSTRAINT_START:
        cur.accept("COLUMN")
        if_not_exists = cur.accept("IF", "NOT", "EXISTS")
        col = rec.column_def(cur.rest())
        if col is None:
            return Op("alter_table_other", table)
        return Op(
            "add_column",
            table,
            column=col.name,
            column_def=col,
            type=col.type,
            default=col.default,
            options={"if_not_exists": if_not_exists},
        )
    con = rec.table_constraint(cur.rest())
    if con is None:
        return Op("alter_table_other", table)
    return Op("add_constraint", table, name=con.name, constraint=con)


def _drop(rec: Recogniser, table: str, cur: Cursor) -> Op:
    if cur.accept("CONSTRAINT"):
        ie = cur.accept("IF", "EXISTS")
        return Op(
            "drop_constraint",
            table,
            name=cur.name(),
            if_exists=ie,
            options={"cascade": cur.accept("CASCADE")},
        )
    cur.accept("COLUMN")
    ie = cur.accept("IF", "EXISTS")
    dropped = cur.name()
    return Op(
        "drop_column",
        table,
        column=dropped,
        if_exists=ie,
        options={"cascade": cur.accept("CASCADE")},
    )


def _alter(rec: Recogniser, table: str, cur: Cursor) -> Op:
    if cur.accept("CONSTRAINT"):
        return Op("alter_table_other", table, name=cur.name())
    cur.accept("COLUMN")
    return _alter_column(rec, table, cur.name(), cur)


def _attach(rec: Recogniser, table: str, cur: Cursor) -> Op:
    part = cur.relation()
    return Op("attach_partition", table, name=part, options=partition_bound(rec, cur))


def partition_bound(rec: Recogniser, cur: Cursor) -> dict[str, object]:
    """``DEFAULT`` or ``FOR VALUES …`` of a partition, as options: ``default``, and the
    bound's parts as written (``bound_from``/``bound_to`` for a range, ``bound_in`` for a
    list, ``bound_hash`` for a hash partition)."""
    if cur.accept("DEFAULT"):
        return {"default": True}
    bound: dict[str, object] = {"default": False}
    if cur.accept("FOR", "VALUES"):
        if cur.accept("FROM"):
            bound["bound_from"] = rec.text(cur.group())
            if cur.accept("TO"):
                bound["bound_to"] = rec.text(cur.group())
        elif cur.accept("IN"):
            bound["bound_in"] = rec.text(cur.group())
        elif cur.accept("WITH"):
            bound["bound_hash"] = rec.text(cur.group())
    return bound


def _detach(rec: Recogniser, table: str, cur: Cursor) -> Op:
    part = cur.relation()
    conc = cur.accept("CONCURRENTLY")
    return Op(
        "detach_partition",
        table,
        name=part,
        concurrently=conc,
        mode="finalize" if cur.accept("FINALIZE") else None,
    )


def _alter_column(rec: Recogniser, table: str, col: str | None, cur: Cursor) -> Op:
    if cur.accept("SET", "DATA", "TYPE") or cur.accept("TYPE"):
        type_toks = cur.until_keyword(("COLLATE", "USING"))
        if cur.accept("COLLATE"):
            cur.name()
        using = None
        if cur.accept("USING"):
            using = analyse_expression(rec.source, cur.rest())
        return Op(
            "alter_column_type",
            table,
            column=col,
            type=column_type(rec.source, type_toks),
            using=using,
        )
    if cur.accept("SET", "NOT", "NULL"):
        return Op("set_not_null", table, column=col)
    if cur.accept("DROP", "NOT", "NULL"):
        return Op("drop_not_null", table, column=col)
    if cur.accept("SET", "DEFAULT"):
        return Op(
            "set_default",
            table,
            column=col,
            default=analyse_expression(rec.source, cur.rest()),
        )
    if cur.accept("DROP", "DEFAULT"):
        return Op("drop_default", table, column=col)
    if cur.accept("ADD", "GENERATED"):
        return Op("add_identity", table, column=col)
    if cur.accept("DROP", "IDENTITY"):
        return Op("drop_identity", table, column=col, if_exists=cur.accept("IF", "EXISTS"))
    if cur.accept("DROP", "EXPRESSION"):
        return Op("drop_expression", table, column=col)
    if cur.accept("SET", "EXPRESSION"):
        return Op("set_generated", table, column=col)
    if cur.accept("SET", "STATISTICS"):
        return Op("set_statistics", table, column=col)
    if cur.accept("SET", "STORAGE") or cur.accept("SET", "COMPRESSION"):
        return Op("set_storage", table, column=col)
    return Op("alter_table_other", table, column=col)


_Reader = Callable[[Recogniser, str, Cursor], Op]

# Tried in order; each entry's keywords are consumed before its reader runs.
_ACTIONS: tuple[tuple[tuple[str, ...], _Reader], ...] = (
    (("RENAME",), _rename),
    (("SET", "SCHEMA"), lambda rec, table, cur: Op("set_schema", table, new_name=cur.name())),
    (("ADD",), _add),
    (("DROP",), _drop),
    (
        ("VALIDATE", "CONSTRAINT"),
        lambda rec, table, cur: Op("validate_constraint", table, name=cur.name()),
    ),
    (("ALTER",), _alter),
    (("SET", "LOGGED"), lambda rec, table, cur: Op("set_logged", table)),
    (("SET", "UNLOGGED"), lambda rec, table, cur: Op("set_unlogged", table)),
    (
        ("SET", "TABLESPACE"),
        lambda rec, table, cur: Op("set_tablespace", table, new_name=cur.name()),
    ),
    (
        ("SET", "ACCESS", "METHOD"),
        lambda rec, table, cur: Op(
            "set_tablespace", table, new_name=cur.name(), mode="access_method"
        ),
    ),
    (("CLUSTER", "ON"), lambda rec, table, cur: Op("cluster_on", table, name=cur.name())),
    (("ATTACH", "PARTITION"), _attach),
    (("DETACH", "PARTITION"), _detach),
    (("OWNER", "TO"), lambda rec, table, cur: Op("owner_to", table, name=cur.name())),
    (("REPLICA", "IDENTITY"), lambda rec, table, cur: Op("replica_identity", table)),
)
