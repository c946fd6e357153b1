"""migcheck's own model of the SQLAlchemy constructs revisions pass to ``op.`` calls.

``purerender`` renders a revision without importing Alembic or SQLAlchemy when every
value its ``op.`` calls receive is one of these: a column type (``TYPES``), ``Column``,
``ForeignKey``, the table constraints, ``text()``, ``func.now()``-style defaults.
Each renders exactly as SQLAlchemy's PostgreSQL dialect compiles it (identifier quoting,
type names, literal escaping); ``tests/alembic/test_alembic_pure.py`` renders the same
calls both ways and compares the text, so this model cannot drift from the real one.

Anything outside the model raises ``NotModelled``, and the revision is rendered by
Alembic instead: the model never guesses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field


class NotModelled(Exception):
    """The revision uses something this model does not render exactly like SQLAlchemy."""


# sqlalchemy.dialects.postgresql.base.RESERVED_WORDS (SQLAlchemy 2.x).
_RESERVED = frozenset(
    {
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "asymmetric",
        "authorization",
        "between",
        "binary",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "column",
        "constraint",
        "create",
        "cross",
        "current_catalog",
        "current_date",
        "current_role",
        "current_schema",
        "current_time",
        "current_timestamp",
        "current_user",
        "default",
        "deferrable",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "fetch",
        "for",
        "foreign",
        "freeze",
        "from",
        "full",
        "grant",
        "group",
        "having",
        "ilike",
        "in",
        "initially",
        "inner",
        "intersect",
        "into",
        "is",
        "isnull",
        "join",
        "leading",
        "left",
        "like",
        "limit",
        "localtime",
        "localtimestamp",
        "natural",
        "new",
        "not",
        "notnull",
        "null",
        "of",
        "off",
        "offset",
        "old",
        "on",
        "only",
        "or",
        "order",
        "outer",
        "over",
        "overlaps",
        "placing",
        "primary",
        "references",
        "returning",
        "right",
        "select",
        "session_user",
        "similar",
        "some",
        "symmetric",
        "table",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "variadic",
        "verbose",
        "when",
        "where",
        "window",
        "with",
    }
)
# PGDialect.ischema_names: SQLAlchemy refuses an enum type with one of these names and
# no schema (it would be obscured by the built-in type).
BUILTIN_TYPE_NAMES = frozenset(
    {
        '"char"', "_array", "bigint", "bit", "bit varying", "boolean", "bytea", "character",
        "character varying", "cidr", "citext", "date", "datemultirange", "daterange",
        "double precision", "float", "hstore", "inet", "int4multirange", "int4range",
        "int8multirange", "int8range", "integer", "interval", "json", "jsonb", "macaddr",
        "macaddr8", "money", "name", "numeric", "nummultirange", "numrange", "oid", "real",
        "regclass", "regconfig", "smallint", "text", "time", "time with time zone",
        "time without time zone", "timestamp", "timestamp with time zone",
        "timestamp without time zone", "tsmultirange", "tsquery", "tsrange",
        "tstzmultirange", "tstzrange", "tsvector", "uuid",
    }
)  # fmt: skip
# IdentifierPreparer.legal_characters; re.I as SQLAlchemy compiles it (so the same
# non-ASCII letters match).
_LEGAL = re.compile(r"^[A-Z0-9_$]+$", re.I)
# PostgreSQL's max_identifier_length: SQLAlchemy refuses longer index and constraint
# names; longer names of any kind are left to it.
MAX_NAME = 63


def quote(name: object) -> str:
    """``name`` as SQLAlchemy's PostgreSQL ``IdentifierPreparer.quote`` renders it."""
    if type(name) is not str or not name or len(name) > MAX_NAME:
        raise NotModelled("an identifier that is not a short string")
    lower = name.lower()
    if lower in _RESERVED or name[0] in "0123456789$" or not _LEGAL.match(name) or lower != name:
        return '"' + name.replace('"', '""') + '"'
    return name


def qualified(name: object, schema: object) -> str:
    if schema is None:
        return quote(name)
    return f"{quote(schema)}.{quote(name)}"


def literal(value: object) -> str:
    """A string literal as PostgreSQL's compiler renders it (``literal_binds``)."""
    if type(value) is not str:
        raise NotModelled("a literal that is not a string")
    # Whether backslashes are doubled depends on the dialect's settings.
    if "\\" in value:
        raise NotModelled("a literal with a backslash")
    return "'" + value.replace("'", "''") + "'"


# sqlalchemy.sql.elements.TextClause._bind_params_regex
_BIND_PARAM = re.compile(r"(?<![:\w\x5c]):(\w+)(?![:\w])", re.UNICODE)


@dataclass(frozen=True)
class Text:
    """``sa.text("...")`` without bound parameters, or a plain SQL fragment."""

    sql: str


def text_sql(value: object) -> str:
    """SQL text given as ``text()`` or a string (``postgresql_where``, a CHECK)."""
    sql = value.sql if isinstance(value, Text) else value
    if type(sql) is not str:
        raise NotModelled("SQL that is not a string or text()")
    # ``:name`` is a bound parameter to SQLAlchemy's text() (``::jsonb`` is not); a
    # backslash may escape a colon.
    if _BIND_PARAM.search(sql) or "\\" in sql or not sql.strip():
        raise NotModelled("text with bound parameters or backslashes, or empty")
    return sql


@dataclass(frozen=True)
class SqlFunction:
    """``sa.func.<name>()`` without arguments, ``sa.true()``/``sa.false()``."""

    sql: str


# Zero-argument functions and how SQLAlchemy renders them: the ANSI ones without
# parentheses, generic ones as ``name()``.
FUNCTIONS: dict[str, str] = {
    "now": "now()",
    "gen_random_uuid": "gen_random_uuid()",
    "uuid_generate_v4": "uuid_generate_v4()",
    "clock_timestamp": "clock_timestamp()",
    "statement_timestamp": "statement_timestamp()",
    "transaction_timestamp": "transaction_timestamp()",
    "current_timestamp": "CURRENT_TIMESTAMP",
    "current_date": "CURRENT_DATE",
    "localtimestamp": "LOCALTIMESTAMP",
}


def default_sql(value: object) -> str:
    """A ``server_default`` as ``DDLCompiler.render_default_string`` renders it."""
    if type(value) is str:
        return literal(value)
    if isinstance(value, Text):
        return text_sql(value)
    if isinstance(value, SqlFunction):
        return value.sql
    raise NotModelled("a server default migcheck does not model")


@dataclass(frozen=True)
class Type:
    """A column type: its SQL, and what ``CREATE TABLE`` needs to know about it."""

    sql: str
    # "int", "bigint", "smallint" (SERIAL candidates), "numeric", or "" for the rest.
    family: str = ""
    # A named enum: (name, values, create_type).
    enum: tuple[str, tuple[str, ...], bool] | None = None


Args = tuple[list[object], dict[str, object]]


def _take(args: Args, names: list[str]) -> list[object]:
    """Bind positional and keyword arguments to ``names`` (None when absent); anything
    else is an argument the model does not know."""
    positional, keywords = args
    if len(positional) > len(names):
        raise NotModelled("more positional arguments than modelled")
    out = list(positional) + [None] * (len(names) - len(positional))
    for key, value in keywords.items():
        if key not in names or names.index(key) < len(positional):
            raise NotModelled(f"argument `{key}`")
        out[names.index(key)] = value
    return out


def _int(value: object) -> int | None:
    if value is None or (type(value) is int and 0 < value < 100_000):
        return value
    raise NotModelled("a type parameter that is not a small integer")


def _flag(value: object) -> bool:
    if value is None or type(value) is bool:
        return bool(value)
    raise NotModelled("a flag that is not a boolean")


def _fixed(sql: str, family: str = "") -> Callable[[Args], Type]:
    def make(args: Args) -> Type:
        _take(args, [])
        return Type(sql, family)

    return make


def _length(sql: str) -> Callable[[Args], Type]:
    def make(args: Args) -> Type:
        (length,) = _take(args, ["length"])
        n = _int(length)
        return Type(sql if n is None else f"{sql}({n})")

    return make


def _numeric(sql: str) -> Callable[[Args], Type]:
    def make(args: Args) -> Type:
        precision, scale, asdecimal = _take(args, ["precision", "scale", "asdecimal"])
        p, s = _int(precision), _int(scale)
        _flag(asdecimal)
        if p is None:
            return Type(sql, "numeric")
        return Type(f"{sql}({p})" if s is None else f"{sql}({p}, {s})", "numeric")

    return make


def _float(args: Args) -> Type:
    (precision,) = _take(args, ["precision"])
    p = _int(precision)
    return Type("FLOAT" if p is None else f"FLOAT({p})", "numeric")


def _zoned(sql: str) -> Callable[[Args], Type]:
    def make(args: Args) -> Type:
        (timezone,) = _take(args, ["timezone"])
        zone = "WITH" if _flag(timezone) else "WITHOUT"
        return Type(f"{sql} {zone} TIME ZONE")

    return make


def _pg_zoned(sql: str) -> Callable[[Args], Type]:
    def make(args: Args) -> Type:
        timezone, precision = _take(args, ["timezone", "precision"])
        p = _int(precision)
        zone = "WITH" if _flag(timezone) else "WITHOUT"
        return Type(f"{sql}{'' if p is None else f'({p})'} {zone} TIME ZONE")

    return make


def _uuid(args: Args) -> Type:
    (as_uuid,) = _take(args, ["as_uuid"])
    _flag(as_uuid)
    return Type("UUID")


def _json(sql: str, pg: bool) -> Callable[[Args], Type]:
    names = ["none_as_null", "astext_type"] if pg else ["none_as_null"]

    def make(args: Args) -> Type:
        none_as_null, astext_type = [*_take(args, names), None][:2]
        _flag(none_as_null)
        if astext_type is not None:
            make_type(astext_type)  # how ``->>`` reads it back; not part of the DDL
        return Type(sql)

    return make


def _array(args: Args) -> Type:
    item, dimensions = _take(args, ["item_type", "dimensions"])
    inner = make_type(item)
    if inner.enum is not None or inner.sql.endswith("]"):
        raise NotModelled("an array of enums or arrays")
    n = _int(dimensions) or 1
    return Type(inner.sql + "[]" * n)


def _enum(pg: bool) -> Callable[[Args], Type]:
    def make(args: Args) -> Type:
        values, keywords = args
        allowed = {"name", "create_type"} if pg else {"name"}
        if set(keywords) - allowed or not values:
            raise NotModelled("an enum with options migcheck does not model")
        if any(type(v) is not str for v in values) or len(set(values)) != len(values):
            raise NotModelled("an enum whose values are not distinct strings")
        name = keywords.get("name")
        create = keywords.get("create_type", True)
        if type(name) is not str or type(create) is not bool:
            raise NotModelled("an enum without a name")
        if name in BUILTIN_TYPE_NAMES:
            raise NotModelled("an enum named like a built-in type")
        return Type(quote(name), enum=(name, tuple(values), create))  # type: ignore[arg-type]

    return make


_COMMON: dict[str, Callable[[Args], Type]] = {
    "INTEGER": _fixed("INTEGER", "int"),
    "BIGINT": _fixed("BIGINT", "bigint"),
    "SMALLINT": _fixed("SMALLINT", "smallint"),
    "VARCHAR": _length("VARCHAR"),
    "CHAR": _length("CHAR"),
    "TEXT": _fixed("TEXT"),
    "BOOLEAN": _fixed("BOOLEAN"),
    "DATE": _fixed("DATE"),
    "NUMERIC": _numeric("NUMERIC"),
    "DECIMAL": _numeric("DECIMAL"),
    "REAL": _fixed("REAL", "numeric"),
    "UUID": _uuid,
    "ARRAY": _array,
    "DOUBLE_PRECISION": _fixed("DOUBLE PRECISION", "numeric"),
}
# Column types by the name they have in ``sqlalchemy`` (and ``sqlalchemy.types``).
SA_TYPES: dict[str, Callable[[Args], Type]] = {
    **_COMMON,
    "JSON": _json("JSON", pg=False),
    "Integer": _fixed("INTEGER", "int"),
    "BigInteger": _fixed("BIGINT", "bigint"),
    "SmallInteger": _fixed("SMALLINT", "smallint"),
    "String": _length("VARCHAR"),
    "Unicode": _length("VARCHAR"),
    "Text": _fixed("TEXT"),
    "UnicodeText": _fixed("TEXT"),
    "Boolean": _fixed("BOOLEAN"),
    "DateTime": _zoned("TIMESTAMP"),
    "TIMESTAMP": _zoned("TIMESTAMP"),
    "Date": _fixed("DATE"),
    "Time": _zoned("TIME"),
    "Float": _float,
    "Double": _fixed("DOUBLE PRECISION", "numeric"),
    "Numeric": _numeric("NUMERIC"),
    "LargeBinary": _fixed("BYTEA"),
    "Uuid": _uuid,
    "Interval": _fixed("INTERVAL"),
    "Enum": _enum(pg=False),
}
# ... and in ``sqlalchemy.dialects.postgresql``.
PG_TYPES: dict[str, Callable[[Args], Type]] = {
    **_COMMON,
    "JSON": _json("JSON", pg=True),
    "JSONB": _json("JSONB", pg=True),
    "TIMESTAMP": _pg_zoned("TIMESTAMP"),
    "TIME": _pg_zoned("TIME"),
    "BYTEA": _fixed("BYTEA"),
    "INET": _fixed("INET"),
    "CIDR": _fixed("CIDR"),
    "MACADDR": _fixed("MACADDR"),
    "CITEXT": _fixed("CITEXT"),
    "TSVECTOR": _fixed("TSVECTOR"),
    "MONEY": _fixed("MONEY"),
    "INTERVAL": _fixed("INTERVAL"),
    "ENUM": _enum(pg=True),
}


@dataclass(frozen=True)
class TypeClass:
    """A column type class not yet called (``sa.Integer`` as well as ``sa.Integer()``)."""

    make: Callable[[Args], Type]


def make_type(value: object) -> Type:
    if isinstance(value, TypeClass):
        return value.make(([], {}))
    if isinstance(value, Type):
        return value
    raise NotModelled("a column type migcheck does not model")


@dataclass(frozen=True)
class ForeignKey:
    """``sa.ForeignKey("table.column", ...)``."""

    table: str
    schema: str | None
    column: str
    name: str | None = None
    ondelete: str | None = None
    onupdate: str | None = None


def make_foreign_key(args: Args) -> ForeignKey:
    target, name, ondelete, onupdate = _take(args, ["column", "name", "ondelete", "onupdate"])
    if type(target) is not str:
        raise NotModelled("a foreign key target that is not a string")
    parts = target.split(".")
    if len(parts) == 2:
        schema, table, column = None, parts[0], parts[1]
    elif len(parts) == 3:
        schema, table, column = parts
    else:
        raise NotModelled("a foreign key target migcheck does not model")
    for word in (name, ondelete, onupdate):
        if word is not None and type(word) is not str:
            raise NotModelled("a foreign key option that is not a string")
    return ForeignKey(table, schema, column, name, ondelete, onupdate)  # type: ignore[arg-type]


_UNSET = object()


@dataclass
class Column:
    """``sa.Column(name, type, *foreign_keys, **options)``."""

    name: str
    type: Type
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    primary_key: bool = False
    nullable: object = _UNSET  # as given: True, False or unset
    server_default: str | None = None
    unique: bool = False
    autoincrement: object = "auto"
    has_default: bool = False


_COLUMN_OPTIONS = frozenset(
    {"primary_key", "nullable", "server_default", "unique", "autoincrement", "default",
     "onupdate", "doc", "info", "key", "comment", "index"}
)  # fmt: skip


def make_column(args: Args) -> Column:
    positional, keywords = args
    if len(positional) < 2 or type(positional[0]) is not str:
        raise NotModelled("a column without a name and a type")
    column = Column(positional[0], make_type(positional[1]))
    for extra in positional[2:]:
        if not isinstance(extra, ForeignKey):
            raise NotModelled("a column argument migcheck does not model")
        column.foreign_keys.append(extra)
    unknown = set(keywords) - _COLUMN_OPTIONS
    if unknown:
        raise NotModelled("column options migcheck does not model")
    # Comments and indexes are separate statements; their order is SQLAlchemy's to tell.
    if keywords.get("comment") is not None or keywords.get("index") is not None:
        raise NotModelled("a column comment or index")
    column.primary_key = _flag(keywords.get("primary_key"))
    if "nullable" in keywords:
        column.nullable = _flag(keywords["nullable"])
    if keywords.get("server_default") is not None:
        column.server_default = default_sql(keywords["server_default"])
    column.unique = _flag(keywords.get("unique"))
    column.autoincrement = keywords.get("autoincrement", "auto")
    if column.autoincrement not in (True, False, "auto"):
        raise NotModelled("autoincrement")
    column.has_default = keywords.get("default") is not None
    for extra in ("default", "onupdate"):
        value = keywords.get(extra)
        # Python-side values: no DDL, but a callable would be the revision's code.
        if value is not None and type(value) not in (str, int, float, bool):
            raise NotModelled("a Python-side default migcheck does not model")
    if len(column.foreign_keys) > 1 or (column.foreign_keys and column.unique):
        raise NotModelled("a column with several constraints")
    return column


@dataclass(frozen=True)
class Constraint:
    """A table constraint given to ``create_table``: kind is "pk", "unique", "fk", "check"."""

    kind: str
    columns: tuple[str, ...] = ()
    name: str | None = None
    # A foreign key's referenced (schema, table, columns) and ON DELETE/ON UPDATE.
    target: tuple[str | None, str, tuple[str, ...]] | None = None
    ondelete: str | None = None
    onupdate: str | None = None
    sql: str = ""  # a CHECK's condition


def _names(values: list[object]) -> tuple[str, ...]:
    if not values or any(type(v) is not str for v in values):
        raise NotModelled("constraint columns that are not names")
    return tuple(values)  # type: ignore[arg-type]


def _constraint_name(value: object) -> str | None:
    if value is None or type(value) is str:
        return value
    raise NotModelled("a constraint name that is not a string")


def make_column_constraint(kind: str) -> Callable[[Args], Constraint]:
    def make(args: Args) -> Constraint:
        positional, keywords = args
        if set(keywords) - {"name"}:
            raise NotModelled("constraint options migcheck does not model")
        return Constraint(kind, _names(positional), _constraint_name(keywords.get("name")))

    return make


def make_fk_constraint(args: Args) -> Constraint:
    columns, refcolumns, name, ondelete, onupdate = _take(
        args, ["columns", "refcolumns", "name", "ondelete", "onupdate"]
    )
    if not isinstance(columns, (list, tuple)) or not isinstance(refcolumns, (list, tuple)):
        raise NotModelled("foreign key columns that are not lists")
    targets = [make_foreign_key(([ref], {})) for ref in refcolumns]
    if len(targets) != len(columns) or len({(t.schema, t.table) for t in targets}) != 1:
        raise NotModelled("a foreign key migcheck does not model")
    for word in (ondelete, onupdate):
        if word is not None and type(word) is not str:
            raise NotModelled("a foreign key option that is not a string")
    return Constraint(
        "fk",
        _names(list(columns)),
        _constraint_name(name),
        (targets[0].schema, targets[0].table, tuple(t.column for t in targets)),
        ondelete,  # type: ignore[arg-type]
        onupdate,  # type: ignore[arg-type]
    )


def make_check_constraint(args: Args) -> Constraint:
    sqltext, name = _take(args, ["sqltext", "name"])
    return Constraint("check", name=_constraint_name(name), sql=text_sql(sqltext))


SA_CONSTRUCTORS: dict[str, Callable[[Args], object]] = {
    "Column": make_column,
    "ForeignKey": make_foreign_key,
    "PrimaryKeyConstraint": make_column_constraint("pk"),
    "UniqueConstraint": make_column_constraint("unique"),
    "ForeignKeyConstraint": make_fk_constraint,
    "CheckConstraint": make_check_constraint,
}


def column_list(columns: tuple[str, ...]) -> str:
    # Alembic builds a table of these columns, which refuses a name twice.
    if len(set(columns)) != len(columns):
        raise NotModelled("a column named twice")
    return ", ".join(quote(c) for c in columns)


def references(schema: str | None, table: str, columns: tuple[str, ...]) -> str:
    return f"REFERENCES {qualified(table, schema)} ({column_list(columns)})"


def cascades(ondelete: object, onupdate: object) -> str:
    """`` ON DELETE x ON UPDATE y``; SQLAlchemy checks the words against a list."""
    out = ""
    for verb, word in (("DELETE", ondelete), ("UPDATE", onupdate)):
        if word is None:
            continue
        if type(word) is not str or word.upper() not in _CASCADES:
            raise NotModelled("a referential action migcheck does not model")
        out += f" ON {verb} {word}"
    return out


_CASCADES = frozenset({"CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT", "NO ACTION"})


def constraint_sql(c: Constraint) -> str:
    prefix = "" if c.name is None else f"CONSTRAINT {quote(c.name)} "
    if c.kind == "pk":
        return f"{prefix}PRIMARY KEY ({column_list(c.columns)})"
    if c.kind == "unique":
        return f"{prefix}UNIQUE ({column_list(c.columns)})"
    if c.kind == "check":
        return f"{prefix}CHECK ({c.sql})"
    assert c.target is not None
    return (
        f"{prefix}FOREIGN KEY({column_list(c.columns)}) {references(*c.target)}"
        f"{cascades(c.ondelete, c.onupdate)}"
    )


def column_constraints(column: Column) -> list[Constraint]:
    """The constraints SQLAlchemy adds to a table for a column's own options."""
    out = []
    for fk in column.foreign_keys:
        out.append(
            Constraint(
                "fk",
                (column.name,),
                fk.name,
                (fk.schema, fk.table, (fk.column,)),
                fk.ondelete,
                fk.onupdate,
            )
        )
    if column.unique:
        out.append(Constraint("unique", (column.name,)))
    return out


def column_sql(column: Column, *, in_primary_key: bool, serial: bool) -> str:
    """``PGDDLCompiler.get_column_specification``."""
    spec = quote(column.name)
    if serial:
        spec += {"bigint": " BIGSERIAL", "smallint": " SMALLSERIAL"}.get(
            column.type.family, " SERIAL"
        )
    else:
        spec += " " + column.type.sql
        if column.server_default is not None:
            spec += " DEFAULT " + column.server_default
    nullable = column.nullable
    if nullable is _UNSET:
        nullable = not in_primary_key
    if not nullable:
        spec += " NOT NULL"
    return spec


def serial_column(columns: list[Column], primary_key: tuple[str, ...]) -> str | None:
    """The column SQLAlchemy renders as SERIAL (its table's autoincrement column)."""
    if len(primary_key) != 1:
        return None
    column = next(c for c in columns if c.name == primary_key[0])
    if column.autoincrement is False:
        return None
    if column.type.family == "numeric" or (
        column.type.family and (column.foreign_keys or column.server_default or column.has_default)
    ):
        raise NotModelled("an autoincrement rule migcheck does not model")
    if column.autoincrement is True and not column.type.family:
        raise NotModelled("autoincrement on a type that is not an integer")
    return column.name if column.type.family else None


def create_enum_sql(enum: tuple[str, tuple[str, ...], bool]) -> str:
    name, values, _ = enum
    return f"CREATE TYPE {quote(name)} AS ENUM ({', '.join(literal(v) for v in values)})"
