"""Help written as Alembic ``op.`` calls, for users whose migrations are Alembic revisions.

An Alembic user writes ``op.add_column(...)``, not ``ALTER TABLE``, so a rule's safe
sequence for a revision is given in that form (``Context.tool == "alembic"``). This module
renders the pieces every rule needs the same way: a table's name and ``schema=``, a column
type as a SQLAlchemy type, a statement run verbatim with ``op.execute``, and the
``autocommit_block`` that statements which cannot run in a transaction need.
"""

from __future__ import annotations

from migcheck.model import ColumnType

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
}


def sa_type(ctype: ColumnType | None) -> str:
    """The SQLAlchemy type for a PostgreSQL column type, or a placeholder naming it."""
    if ctype is None:
        return "<SQLAlchemy type>"
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
    return f"sa.types.NullType()  # {text}: your model's type"


def table_args(table: str | None) -> tuple[str, str]:
    """(the table's name as a Python literal, ``', schema="app"'`` or ""): the schema is a
    keyword, so it goes last in the call, e.g. ``op.create_index("i", NAME, ["c"]SCHEMA)``."""
    if not table:
        return '"<table>"', ""
    schema, _, name = table.rpartition(".")
    return _py(_bare(name)), (f", schema={_py(_bare(schema))}" if schema else "")


def execute(sql: str, indent: str = "    ") -> str:
    """``op.execute("...")`` running ``sql`` verbatim."""
    return f"{indent}op.execute({_py(sql.strip().rstrip(';'))})"


def autocommit(body: list[str], indent: str = "    ") -> str:
    """``body`` (lines of op calls) inside ``with op.get_context().autocommit_block():``,
    for statements that cannot run inside the revision's transaction."""
    inner = "\n".join(f"{indent}    {line.strip()}" for line in body)
    return f"{indent}with op.get_context().autocommit_block():\n{inner}"


def _bare(name: str) -> str:
    if len(name) > 1 and name[0] == name[-1] == '"':
        return name[1:-1].replace('""', '"')
    return name


def _py(text: str) -> str:
    """A Python string literal for ``text`` (double-quoted when it holds no double quote)."""
    if '"' not in text and "\\" not in text and "\n" not in text:
        return f'"{text}"'
    return repr(text)


def string(text: str) -> str:
    """``text`` (a name as stored, or SQL such as a CHECK condition) as a Python string
    literal."""
    return _py(text)


def add_column(
    table: str | None,
    column: str,
    ctype: ColumnType | None,
    *,
    nullable: bool,
    server_default: str | None = None,
    indent: str = "    ",
) -> str:
    """``op.add_column(...)`` of ``column``; ``server_default`` is SQL, given as ``sa.text``."""
    name, schema = table_args(table)
    extra = f", server_default=sa.text({_py(server_default)})" if server_default else ""
    # sa_type's placeholder ends with a comment, which must close the line, not the call.
    typ, _, note = sa_type(ctype).partition("  # ")
    return (
        f"{indent}op.add_column({name}, sa.Column({string(column)}, {typ}, "
        f"nullable={nullable}{extra}){schema})" + (f"  # {note}" if note else "")
    )
