"""Help written in the user's own tool: Alembic ``op.`` calls for a revision, SQL otherwise.

An Alembic user writes ``op.add_column(...)``, not ``ALTER TABLE``, so a rule's safe
sequence for a revision is given in that form (``Context.tool == "alembic"``). This module
is the one renderer of those calls: a table's name and ``schema=``, a column type as a
SQLAlchemy type, the column and index operations, a statement Alembic has no operation for
run verbatim with ``op.execute``, and the ``autocommit_block`` that statements which cannot
run in a transaction need. Every call it renders is valid Python: a type migcheck cannot
name keeps its ``# note`` at the end of the line, after the closing parentheses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from migcheck.context import Context
from migcheck.lazyre import LazyPattern, lazy
from migcheck.model import ColumnType, Op, name_parts

# PostgreSQL type name (as the parser folds it) → SQLAlchemy type expression.
_SIMPLE = {
    "text": "sa.Text()",
    "integer": "sa.Integer()",
    "int": "sa.Integer()",
    "int4": "sa.Integer()",
    "bigint": "sa.BigInteger()",
    "int8": "sa.BigInteger()",
    "smallint": "sa.SmallInteger()",
    "int2": "sa.SmallInteger()",
    "boolean": "sa.Boolean()",
    "bool": "sa.Boolean()",
    "date": "sa.Date()",
    "double precision": "sa.Float()",
    "float8": "sa.Float()",
    "real": "sa.REAL()",
    "json": "sa.JSON()",
    "jsonb": "postgresql.JSONB()",
    "uuid": "sa.Uuid()",
    "bytea": "sa.LargeBinary()",
    "interval": "sa.Interval()",
    "timestamptz": "sa.DateTime(timezone=True)",
    "timestamp with time zone": "sa.DateTime(timezone=True)",
    "timestamp": "sa.DateTime()",
    "timestamp without time zone": "sa.DateTime()",
    "time": "sa.Time()",
    "inet": "postgresql.INET()",
    "cidr": "postgresql.CIDR()",
    "serial": "sa.Integer()",
    "bigserial": "sa.BigInteger()",
    "smallserial": "sa.SmallInteger()",
}

_UNKNOWN = "sa.types.NullType()  # the column's type in your model"


def sa_type(ctype: ColumnType | None) -> str:
    """The SQLAlchemy type for a PostgreSQL column type; one migcheck cannot name is
    ``sa.types.NullType()`` followed by a ``# note`` naming it (which must end the line)."""
    if ctype is None:
        return _UNKNOWN
    name = " ".join(ctype.name.lower().split())
    params = list(ctype.params)
    if ctype.array:
        return f"postgresql.ARRAY({sa_type(ColumnType(ctype.name, ctype.params))})"
    if name in ("varchar", "character varying") and params:
        return f"sa.String({params[0]})"
    if name in ("varchar", "character varying"):
        return "sa.String()"
    if name in ("numeric", "decimal"):
        return f"sa.Numeric({', '.join(str(p) for p in params)})" if params else "sa.Numeric()"
    if name in ("char", "character", "bpchar"):
        return f"sa.CHAR({params[0]})" if params else "sa.CHAR()"
    simple = _SIMPLE.get(name)
    if simple is not None:
        return simple
    text = ctype.text or ctype.name or "?"
    return f"sa.types.NullType()  # {' '.join(text.split())}: your model's type"


def _type(ctype: ColumnType | None) -> tuple[str, str]:
    """(SQLAlchemy type expression, trailing ``  # note`` or "")."""
    expr, sep, note = sa_type(ctype).partition("  # ")
    return expr, (f"  # {note}" if sep else "")


def table_args(table: str | None) -> tuple[str, str]:
    """(the table's name as a Python literal, ``', schema="app"'`` or ""): the schema is a
    keyword, so it goes last in the call, e.g. ``op.create_index("i", NAME, ["c"]SCHEMA)``."""
    if not table:
        return '"<table>"', ""
    parts = [_bare(p) for p in name_parts(table)]
    schema = f", schema={_py(parts[-2])}" if len(parts) > 1 else ""
    return _py(parts[-1]), schema


def name(identifier: str | None) -> str:
    """A column, index or constraint name (as stored) as a Python string literal."""
    return _py(identifier) if identifier else '"<name>"'


def execute(sql: str, indent: str = "    ") -> str:
    """``op.execute("...")`` running ``sql`` verbatim."""
    return f"{indent}op.execute({_py(sql.strip().rstrip(';'))})"


def autocommit(body: list[str], indent: str = "    ") -> str:
    """``body`` (lines of op calls) inside ``with op.get_context().autocommit_block():``,
    for statements that cannot run inside the revision's transaction."""
    inner = "\n".join(f"{indent}    {line.strip()}" for line in body)
    return f"{indent}with op.get_context().autocommit_block():\n{inner}"


def paste(ctx: Context, *lines: str) -> str:
    """Lines the user pastes, in their tool, indented four spaces: SQL as written for plain
    SQL and Prisma's migration.sql; in a revision the ``op.`` call of each statement
    (``op.execute`` where Alembic has none), a ``-- comment`` becoming a ``# comment``."""
    if ctx.tool != "alembic":
        return "\n".join("    " + line for line in lines)
    return "\n".join(
        "    # " + line.strip()[2:].strip() if line.strip().startswith("--") else op_call(line)
        for line in lines
    )


# An identifier as ``quoting.ident`` writes it (bare, or double-quoted with "" inside),
# optionally schema-qualified: the SQL that rules put in help, read back.
_ID = r'(?:"(?:[^"]|"")*"|[A-Za-z_][A-Za-z0-9_$]*)'
_QID = rf"{_ID}(?:\.{_ID})?"
_STATEMENTS: list[tuple[LazyPattern, Callable[..., str]]] = [
    (
        lazy(rf"ALTER TABLE ({_QID}) ADD CONSTRAINT ({_ID}) CHECK \((.*)\) NOT VALID;?", re.S),
        lambda t, c, cond: (
            f"op.create_check_constraint({name(_unq(c))}, {_table(t)}, {_py(cond)}"
            f"{_schema(t)}, postgresql_not_valid=True)"
        ),
    ),
    (
        lazy(rf"ALTER TABLE ({_QID}) DROP CONSTRAINT ({_ID});?"),
        lambda t, c: f"op.drop_constraint({name(_unq(c))}, {_table(t)}{_schema(t)})",
    ),
    (
        lazy(rf"ALTER TABLE ({_QID}) ALTER COLUMN ({_ID}) SET NOT NULL;?"),
        lambda t, c: f"op.alter_column({_table(t)}, {name(_unq(c))}, nullable=False{_schema(t)})",
    ),
    (
        lazy(rf"ALTER TABLE ({_QID}) ALTER COLUMN ({_ID}) DROP NOT NULL;?"),
        lambda t, c: f"op.alter_column({_table(t)}, {name(_unq(c))}, nullable=True{_schema(t)})",
    ),
    (
        lazy(rf"ALTER TABLE ({_QID}) DROP COLUMN ({_ID});?"),
        lambda t, c: f"op.drop_column({_table(t)}, {name(_unq(c))}{_schema(t)})",
    ),
    (
        lazy(rf"DROP TABLE ({_QID});?"),
        lambda t: f"op.drop_table({_table(t)}{_schema(t)})",
    ),
]


def op_call(sql: str, indent: str = "    ") -> str:
    """The ``op.`` call of one SQL statement as rules write it in help: Alembic's own
    operation for the plain forms it has one for, else ``op.execute`` of the SQL."""
    text = sql.strip()
    for pattern, render in _STATEMENTS:
        m = pattern.fullmatch(text)
        if m is not None:
            return indent + render(*m.groups())
    return execute(text, indent)


def _parts(qualified: str) -> list[str]:
    return [_unq(p) for p in re.findall(_ID, qualified)]


def _unq(identifier: str) -> str:
    """``"User"`` → ``User``; a bare word as written (rules write it folded already)."""
    if identifier.startswith('"'):
        return identifier[1:-1].replace('""', '"')
    return identifier


def _table(qualified: str) -> str:
    return _py(_parts(qualified)[-1])


def _schema(qualified: str) -> str:
    parts = _parts(qualified)
    return f", schema={_py(parts[-2])}" if len(parts) > 1 else ""


def word(ctx: Context) -> str:
    """What the user calls one migration: an Alembic "revision", a "migration" otherwise."""
    return "revision" if ctx.tool == "alembic" else "migration"


def one_transaction(ctx: Context, *sql: str) -> str:
    """Statements that must commit together: wrapped in BEGIN … COMMIT for SQL, bare
    ``op.execute`` calls for a revision, which Alembic already runs in one transaction."""
    if ctx.tool == "alembic":
        return paste(ctx, *sql)
    return paste(ctx, "BEGIN;", *sql, "COMMIT;")


def same_transaction(ctx: Context) -> str:
    """Where statements that must commit together go, in the user's words."""
    if ctx.tool == "alembic":
        return "in the same revision (Alembic runs it in one transaction)"
    return "in the same transaction"


def suppression(ctx: Context, rule: str, reason: str = "<reason>") -> str:
    """The ``migcheck: ignore`` comment for ``rule`` as the user writes it: ``#`` in a
    revision (on the op call's line or the line before), ``--`` in SQL."""
    mark = "#" if ctx.tool == "alembic" else "--"
    return f"{mark} migcheck: ignore[{rule}] {reason}"


def _bare(text: str) -> str:
    if len(text) > 1 and text[0] == text[-1] == '"':
        return text[1:-1].replace('""', '"')
    return text


def _py(text: str) -> str:
    """A Python string literal for ``text`` (double-quoted when it holds no double quote)."""
    if '"' not in text and "\\" not in text and "\n" not in text and "\r" not in text:
        return f'"{text}"'
    return repr(text)


def string(text: str) -> str:
    """``text`` (a name as stored, or SQL such as a CHECK condition) as a Python string
    literal."""
    return _py(text)


def add_column(
    table: str | None,
    column: str | None,
    ctype: ColumnType | None,
    *,
    nullable: bool | None = None,
    server_default: str | None = None,
    indent: str = "    ",
) -> str:
    """``op.add_column(T, sa.Column(C, TYPE, ...))``; ``nullable`` is left out when None,
    ``server_default`` is SQL, given as ``sa.text``."""
    t, schema = table_args(table)
    expr, note = _type(ctype)
    more = f", nullable={nullable}" if nullable is not None else ""
    if server_default:
        more += f", server_default=sa.text({_py(server_default)})"
    return f"{indent}op.add_column({t}, sa.Column({name(column)}, {expr}{more}){schema}){note}"


def drop_column(table: str | None, column: str | None, indent: str = "    ") -> str:
    t, schema = table_args(table)
    return f"{indent}op.drop_column({t}, {name(column)}{schema})"


def allow_null(table: str | None, column: str | None, indent: str = "    ") -> str:
    t, schema = table_args(table)
    return f"{indent}op.alter_column({t}, {name(column)}, nullable=True{schema})"


def create_index(
    index: str | None,
    table: str | None,
    columns: Sequence[str],
    *,
    unique: bool = False,
    concurrently: bool = True,
    indent: str = "",
) -> str:
    """``op.create_index(...)``; with ``concurrently`` the caller puts it in an autocommit
    block, since CONCURRENTLY cannot run in a transaction."""
    t, schema = table_args(table)
    cols = ", ".join(name(c) for c in columns) if columns else '"<column>"'
    flags = (", unique=True" if unique else "") + schema
    if concurrently:
        flags += ", postgresql_concurrently=True"
    return f"{indent}op.create_index({name(index)}, {t}, [{cols}]{flags})"


def index_keys(op: Op, sql: str) -> list[str] | None:
    """The columns of the CREATE INDEX ``op`` (written as ``sql``) when ``op.create_index``
    can say all of it: plain column keys, the default method, nothing after the key list
    (no WHERE, INCLUDE, WITH, DESC, TABLESPACE); None otherwise."""
    keys = list(op.names)
    if not keys or op.options.get("plain_keys") != len(keys) or op.has_where:
        return None
    if op.mode not in (None, "btree"):
        return None
    m = re.search(r"\(([^()]*)\)\s*;?\s*$", sql)
    if m is None:
        return None
    written = [" ".join(k.split()).strip('"').lower() for k in m.group(1).split(",")]
    if written != [k.lower() for k in keys]:
        return None
    return keys


def concurrent_call(op: Op, sql: str) -> str:
    """A statement that runs CONCURRENTLY, as its ``op.`` call (for an autocommit block):
    ``op.create_index`` / ``op.drop_index`` when they say all of it, else ``op.execute``."""
    if op.kind == "create_index" and op.concurrently:
        keys = index_keys(op, sql)
        if keys is not None:
            return create_index(op.name, op.table, keys, unique=op.unique)
    if op.kind == "drop_index" and op.concurrently and op.name and not op.options.get("cascade"):
        return drop_index(op.name, op.table, if_exists=op.if_exists)
    return execute(sql, "")


def drop_index(
    index: str | None,
    table: str | None = None,
    *,
    concurrently: bool = True,
    if_exists: bool = False,
    indent: str = "",
) -> str:
    """``op.drop_index(...)`` of ``index`` (a stored name, possibly schema-qualified)."""
    parts = name_parts(index) if index else ["<name>"]
    args = [name(parts[-1])]
    if table:
        args.append(f"table_name={table_args(table)[0]}")
    if len(parts) > 1:
        args.append(f"schema={_py(parts[-2])}")
    elif table and table_args(table)[1]:
        args.append(table_args(table)[1][2:])
    if concurrently:
        args.append("postgresql_concurrently=True")
    if if_exists:
        args.append("if_exists=True")
    return f"{indent}op.drop_index({', '.join(args)})"
