"""The SQL of each ``op.`` operation ``purerender`` models, as Alembic renders it on
PostgreSQL: one function per operation, returning its statements without terminators.

``bind`` maps a call's arguments onto Alembic's parameter names (``SIGNATURES``); an
argument or option not listed there raises ``NotModelled`` and the revision is rendered
by Alembic. The statement order of ``alter_column`` (type, nullability, default, rename)
and of ``create_table`` (enum types, then the table; the primary key, then the
constraints in the order SQLAlchemy creates them) is Alembic's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from .puremodel import (
    MAX_NAME,
    Args,
    Column,
    Constraint,
    NotModelled,
    Text,
    cascades,
    column_constraints,
    column_list,
    column_sql,
    constraint_sql,
    create_enum_sql,
    default_sql,
    make_type,
    qualified,
    quote,
    references,
    serial_column,
    text_sql,
)


class Facts(Protocol):
    """The revision being rendered: where ``alter_column`` records what ``existing_*`` say
    about a column, and the enum types its ``create_table`` calls created so far."""

    # Alembic's DDL runner remembers the enum types it created (SQLAlchemy's
    # ``pg_enum`` memo) and creates each name once per migration context.
    created_enums: set[str]

    def fact(self, table: str, schema: object, column: str, kwargs: dict[str, object]) -> None: ...


# Parameters of each modelled operation (Alembic's names, in order), and the keyword
# options each accepts; any other argument sends the revision to Alembic.
SIGNATURES: dict[str, tuple[list[str], set[str]]] = {
    "add_column": (["table_name", "column"], {"schema", "if_not_exists"}),
    "drop_column": (["table_name", "column_name"], {"schema", "if_exists"}),
    "alter_column": (
        ["table_name", "column_name"],
        {
            "nullable",
            "server_default",
            "new_column_name",
            "type_",
            "existing_type",
            "existing_server_default",
            "existing_nullable",
            "existing_comment",
            "existing_autoincrement",
            "postgresql_using",
            "schema",
        },
    ),
    "create_index": (
        ["index_name", "table_name", "columns"],
        {
            "schema",
            "unique",
            "if_not_exists",
            "postgresql_concurrently",
            "postgresql_where",
            "postgresql_using",
        },
    ),
    "drop_index": (
        ["index_name", "table_name"],
        {"schema", "if_exists", "postgresql_concurrently"},
    ),
    "create_foreign_key": (
        ["constraint_name", "source_table", "referent_table", "local_cols", "remote_cols"],
        {"onupdate", "ondelete", "source_schema", "referent_schema"},
    ),
    "create_unique_constraint": (["constraint_name", "table_name", "columns"], {"schema"}),
    "create_check_constraint": (["constraint_name", "table_name", "condition"], {"schema"}),
    "drop_constraint": (["constraint_name", "table_name", "type_"], {"schema"}),
    "rename_table": (["old_table_name", "new_table_name"], {"schema"}),
    "drop_table": (["table_name"], {"schema"}),
    "create_table": (["table_name"], {"schema"}),
}
# The table argument a batch operation leaves out (it is the batch's table).
_BATCH_TABLE = {
    "add_column": "table_name",
    "drop_column": "table_name",
    "alter_column": "table_name",
    "create_index": "table_name",
    "drop_index": "table_name",
    "create_foreign_key": "source_table",
    "create_unique_constraint": "table_name",
    "create_check_constraint": "table_name",
    "drop_constraint": "table_name",
}


def unbatch(
    name: str, args: list[object], kwargs: dict[str, object], table: str, schema: str | None
) -> Args:
    """A batch operation's arguments as the plain operation's."""
    table_param = _BATCH_TABLE.get(name)
    if table_param is None or "schema" in kwargs or table_param in kwargs:
        raise NotModelled(f"batch `{name}`")
    params = SIGNATURES[name][0]
    index = params.index(table_param)
    full = [*args[:index], table, *args[index:]] if len(args) >= index else None
    if full is None:
        kwargs = {**kwargs, table_param: table}
        full = args
    schema_key = "source_schema" if name == "create_foreign_key" else "schema"
    if schema is not None:
        kwargs = {**kwargs, schema_key: schema}
    return full, kwargs


def bind(name: str, args: list[object], kwargs: dict[str, object]) -> tuple[Any, ...]:
    """(positional parameters..., options) for an operation's renderer."""
    params, options = SIGNATURES[name]
    if name == "create_table":
        if not args or type(args[0]) is not str or "table_name" in kwargs:
            raise NotModelled("create_table without a table name")
        unknown = set(kwargs) - options
        if unknown:
            raise NotModelled("create_table options")
        return args[0], args[1:], kwargs
    if len(args) > len(params):
        raise NotModelled(f"too many arguments to `{name}`")
    bound: dict[str, object] = dict(zip(params, args, strict=False))
    for key, value in kwargs.items():
        if key in bound or (key not in params and key not in options):
            raise NotModelled(f"`{name}` option `{key}`")
        bound[key] = value
    positional = [bound.pop(p, None) for p in params]
    return (*positional, bound)


# --- renderers (each returns the statements, without terminators) --------------------

Options = dict[str, object]


def _str(value: object) -> str:
    if type(value) is not str:
        raise NotModelled("a name that is not a string")
    return value


def _opt_str(value: object) -> str | None:
    return None if value is None else _str(value)


def _flag(options: Options, key: str) -> bool:
    value = options.get(key)
    if value is None or type(value) is bool:
        return bool(value)
    raise NotModelled(f"`{key}` that is not a boolean")


def _named(value: object) -> str:
    """An index or constraint name: SQLAlchemy refuses names longer than PostgreSQL's."""
    name = _str(value)
    if len(name) > MAX_NAME:
        raise NotModelled("a name longer than PostgreSQL's limit")
    return quote(name)


def _create_table(r: Facts, table: object, items: list[object], options: Options) -> list[str]:
    schema = _opt_str(options.get("schema"))
    columns = [c for c in items if isinstance(c, Column)]
    explicit = [c for c in items if isinstance(c, Constraint)]
    if len(columns) + len(explicit) != len(items) or not columns:
        raise NotModelled("create_table items migcheck does not model")
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise NotModelled("duplicate column names")
    pk_constraints = [c for c in explicit if c.kind == "pk"]
    flagged = tuple(c.name for c in columns if c.primary_key)
    if pk_constraints and (flagged or len(pk_constraints) > 1):
        raise NotModelled("a primary key given twice")
    pk = pk_constraints[0] if pk_constraints else (Constraint("pk", flagged) if flagged else None)
    pk_columns = pk.columns if pk is not None else ()
    if any(name not in names for c in explicit for name in c.columns):
        raise NotModelled("a constraint on a column the table does not have")
    for c in [*explicit, *(k for column in columns for k in column_constraints(column))]:
        # SQLAlchemy resolves a reference to the table itself, which fails on a column
        # the table does not have.
        if (
            c.target is not None
            and c.target[:2] == (schema, table)
            and any(name not in names for name in c.target[2])
        ):
            raise NotModelled("a reference to a column the table does not have")
    serial = serial_column(columns, pk_columns)
    lines = [
        column_sql(c, in_primary_key=c.name in pk_columns, serial=c.name == serial) for c in columns
    ]
    if pk is not None:
        lines.append(constraint_sql(pk))
    # SQLAlchemy orders constraints by creation: the ones written as arguments were built
    # before the table, the columns' own ones while it attached the columns.
    for constraint in [c for c in explicit if c.kind != "pk"]:
        lines.append(constraint_sql(constraint))
    for column in columns:
        lines.extend(constraint_sql(c) for c in column_constraints(column))
    body = ", \n    ".join(lines)
    statements = []
    for column in columns:
        enum = column.type.enum
        if enum is not None and enum[2] and enum[0] not in r.created_enums:
            r.created_enums.add(enum[0])
            statements.append(create_enum_sql(enum))
    statements.append(f"CREATE TABLE {qualified(_str(table), schema)} (\n    {body}\n)")
    return statements


def _add_column(r: Facts, table: object, column: object, options: Options) -> list[str]:
    if not isinstance(column, Column) or column.primary_key:
        raise NotModelled("add_column of something other than a plain column")
    target = qualified(_str(table), _opt_str(options.get("schema")))
    exists = " IF NOT EXISTS" if _flag(options, "if_not_exists") else ""
    spec = column_sql(column, in_primary_key=False, serial=False)
    out = [f"ALTER TABLE {target} ADD COLUMN{exists} {spec}"]
    for constraint in column_constraints(column):
        out.append(f"ALTER TABLE {target} ADD {constraint_sql(constraint)}")
    return out


def _drop_column(r: Facts, table: object, column: object, options: Options) -> list[str]:
    target = qualified(_str(table), _opt_str(options.get("schema")))
    exists = " IF EXISTS" if _flag(options, "if_exists") else ""
    return [f"ALTER TABLE {target} DROP COLUMN{exists} {quote(_str(column))}"]


def _alter_column(r: Facts, table: object, column: object, options: Options) -> list[str]:
    schema = _opt_str(options.get("schema"))
    target = qualified(_str(table), schema)
    name = quote(_str(column))
    out = []
    if options.get("type_") is not None:
        using = options.get("postgresql_using")
        if using is not None and type(using) is not str:
            raise NotModelled("postgresql_using that is not a string")
        # Alembic formats the string in as it is (no text() parsing).
        clause = f" USING {using}" if using else ""
        out.append(
            f"ALTER TABLE {target} ALTER COLUMN {name} TYPE {make_type(options['type_']).sql}"
            + clause
        )
    elif options.get("postgresql_using") is not None:
        raise NotModelled("postgresql_using without a type")
    existing_default = options.get("existing_server_default")
    if existing_default not in (None, False):
        # Only an identity or computed default changes what Alembic emits; those are not
        # modelled, so the rest (what autogenerate writes) is checked and ignored.
        default_sql(existing_default)
    nullable = options.get("nullable")
    if nullable is not None:
        verb = "DROP" if _flag(options, "nullable") else "SET"
        out.append(f"ALTER TABLE {target} ALTER COLUMN {name} {verb} NOT NULL")
    if "server_default" in options and options["server_default"] is not False:
        default = options["server_default"]
        change = "DROP DEFAULT" if default is None else f"SET DEFAULT {default_sql(default)}"
        out.append(f"ALTER TABLE {target} ALTER COLUMN {name} {change}")
    new_name = options.get("new_column_name")
    if new_name is not None:
        out.append(f"ALTER TABLE {target} RENAME {name} TO {quote(_str(new_name))}")
    # Only used with ``comment=`` (not modelled): what autogenerate writes is ignored.
    if options.get("existing_comment") is not None:
        _str(options["existing_comment"])
    if options.get("existing_autoincrement") is not None:
        raise NotModelled("existing_autoincrement")
    r.fact(_str(table), schema, _str(column), options)
    return out


def _index_column(value: object) -> str:
    if isinstance(value, Text):
        return text_sql(value)
    return quote(_str(value))


def _create_index(
    r: Facts, name: object, table: object, columns: object, options: Options
) -> list[str]:
    if not isinstance(columns, (list, tuple)) or not columns:
        raise NotModelled("index columns that are not a list")
    target = qualified(_str(table), _opt_str(options.get("schema")))
    sql = "CREATE "
    if _flag(options, "unique"):
        sql += "UNIQUE "
    sql += "INDEX "
    if _flag(options, "postgresql_concurrently"):
        sql += "CONCURRENTLY "
    if _flag(options, "if_not_exists"):
        sql += "IF NOT EXISTS "
    sql += f"{_named(name)} ON {target} "
    using = options.get("postgresql_using")
    if using is not None:
        sql += f"USING {_method(using)} "
    names = [_str(c) for c in columns if not isinstance(c, Text)]
    if len(set(names)) != len(names):
        raise NotModelled("an index column named twice")
    sql += f"({', '.join(_index_column(c) for c in columns)})"
    where = options.get("postgresql_where")
    if where is not None:
        sql += f" WHERE {text_sql(where)}"
    return [sql]


def _method(value: object) -> str:
    method = _str(value)
    if not method.isidentifier() or not method.isascii() or method.lower() != method:
        raise NotModelled("an index method migcheck does not model")
    return method


def _drop_index(r: Facts, name: object, table: object, options: Options) -> list[str]:
    schema = _opt_str(options.get("schema"))
    sql = "DROP INDEX "
    if _flag(options, "postgresql_concurrently"):
        sql += "CONCURRENTLY "
    if _flag(options, "if_exists"):
        sql += "IF EXISTS "
    _named(name)
    return [sql + qualified(_str(name), schema)]


def _create_foreign_key(
    r: Facts,
    name: object,
    source: object,
    referent: object,
    local: object,
    remote: object,
    options: Options,
) -> list[str]:
    if not isinstance(local, (list, tuple)) or not isinstance(remote, (list, tuple)):
        raise NotModelled("foreign key columns that are not lists")
    if len(local) != len(remote) or not local:
        raise NotModelled("foreign key columns that do not pair up")
    locals_ = tuple(_str(c) for c in local)
    remotes = tuple(_str(c) for c in remote)
    target = qualified(_str(source), _opt_str(options.get("source_schema")))
    ref = references(_opt_str(options.get("referent_schema")), _str(referent), remotes)
    actions = cascades(options.get("ondelete"), options.get("onupdate"))
    return [
        f"ALTER TABLE {target} ADD CONSTRAINT {_named(name)} "
        f"FOREIGN KEY({column_list(locals_)}) {ref}{actions}"
    ]


def _create_unique(
    r: Facts, name: object, table: object, columns: object, options: Options
) -> list[str]:
    if not isinstance(columns, (list, tuple)) or not columns:
        raise NotModelled("unique columns that are not a list")
    target = qualified(_str(table), _opt_str(options.get("schema")))
    names = tuple(_str(c) for c in columns)
    return [f"ALTER TABLE {target} ADD CONSTRAINT {_named(name)} UNIQUE ({column_list(names)})"]


def _create_check(
    r: Facts, name: object, table: object, condition: object, options: Options
) -> list[str]:
    target = qualified(_str(table), _opt_str(options.get("schema")))
    return [f"ALTER TABLE {target} ADD CONSTRAINT {_named(name)} CHECK ({text_sql(condition)})"]


def _drop_constraint(
    r: Facts, name: object, table: object, type_: object, options: Options
) -> list[str]:
    if type_ not in (None, "foreignkey", "unique", "check", "primary"):
        raise NotModelled("a constraint type migcheck does not model")
    target = qualified(_str(table), _opt_str(options.get("schema")))
    return [f"ALTER TABLE {target} DROP CONSTRAINT {_named(name)}"]


def _rename_table(r: Facts, old: object, new: object, options: Options) -> list[str]:
    target = qualified(_str(old), _opt_str(options.get("schema")))
    return [f"ALTER TABLE {target} RENAME TO {quote(_str(new))}"]


def _drop_table(r: Facts, table: object, options: Options) -> list[str]:
    return [f"DROP TABLE {qualified(_str(table), _opt_str(options.get('schema')))}"]


OPERATIONS: dict[str, Callable[..., list[str]]] = {
    "create_table": _create_table,
    "add_column": _add_column,
    "drop_column": _drop_column,
    "alter_column": _alter_column,
    "create_index": _create_index,
    "drop_index": _drop_index,
    "create_foreign_key": _create_foreign_key,
    "create_unique_constraint": _create_unique,
    "create_check_constraint": _create_check,
    "drop_constraint": _drop_constraint,
    "rename_table": _rename_table,
    "drop_table": _drop_table,
}
