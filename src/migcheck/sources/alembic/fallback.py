"""A direct reading of ``op.*`` calls whose arguments could not all be evaluated.

When evaluation fails (an application helper computes a value, a column type cannot be
built), the common operations are still understood from their literal arguments and
rendered to the SQL Alembic would emit. Literal means: a constant, a local variable
that evaluated to one, ``op.f("...")``, ``sa.text("...")``. A piece that changes what the
statement means (a table name, a server default) is never guessed: the call then
produces no SQL and the caller reports why. Unknown column types render as their name.

This module needs neither Alembic nor SQLAlchemy, so it also serves projects linted
without the ``alembic`` extra installed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import Any

from migcheck import quoting

from .values import Opaque, Unevaluable

# PostgreSQL reserved words, as SQLAlchemy's dialect quotes them.
_RESERVED = frozenset(
    """all analyse analyze and any array as asc asymmetric authorization between binary both
    case cast check collate column constraint create cross current_catalog current_date
    current_role current_schema current_time current_timestamp current_user default
    deferrable desc distinct do else end except false fetch for foreign freeze from full
    grant group having ilike in initially inner intersect into is isnull join leading left
    like limit localtime localtimestamp natural new not notnull null of off offset old on
    only or order outer over overlaps placing primary references returning right select
    session_user similar some symmetric table then to trailing true union unique user using
    variadic verbose when where window with""".split()  # noqa: SIM905
)
_PLAIN_IDENT = re.compile(r"^[a-z_][a-z0-9_$]*$")

# Positional parameters of each operation: (on ``op``, on ``batch_op``).
SIGNATURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "add_column": (("table_name", "column"), ("column",)),
    "alter_column": (("table_name", "column_name"), ("column_name",)),
    "drop_column": (("table_name", "column_name"), ("column_name",)),
    "drop_table": (("table_name",), ()),
    "rename_table": (("old_table_name", "new_table_name"), ()),
    "create_index": (("index_name", "table_name", "columns"), ("index_name", "columns")),
    "drop_index": (("index_name", "table_name"), ("index_name",)),
    "create_foreign_key": (
        ("constraint_name", "source_table", "referent_table", "local_cols", "remote_cols"),
        ("constraint_name", "referent_table", "local_cols", "remote_cols"),
    ),
    "create_unique_constraint": (
        ("constraint_name", "table_name", "columns"),
        ("constraint_name", "columns"),
    ),
    "create_primary_key": (
        ("constraint_name", "table_name", "columns"),
        ("constraint_name", "columns"),
    ),
    "create_check_constraint": (
        ("constraint_name", "table_name", "condition"),
        ("constraint_name", "condition"),
    ),
    "drop_constraint": (("constraint_name", "table_name", "type_"), ("constraint_name", "type_")),
    "execute": (("sqltext",), ("sqltext",)),
    "create_table": (("table_name",), ()),
}

# SQLAlchemy generic types → PostgreSQL, for types that could not be evaluated.
_TYPE_NAMES = {
    "Integer": "INTEGER", "INTEGER": "INTEGER", "BigInteger": "BIGINT", "BIGINT": "BIGINT",
    "SmallInteger": "SMALLINT", "SMALLINT": "SMALLINT", "Text": "TEXT", "TEXT": "TEXT",
    "UnicodeText": "TEXT", "Boolean": "BOOLEAN", "BOOLEAN": "BOOLEAN", "Date": "DATE",
    "DATE": "DATE", "Float": "FLOAT", "FLOAT": "FLOAT", "JSON": "JSON", "JSONB": "JSONB",
    "UUID": "UUID", "Uuid": "UUID", "LargeBinary": "BYTEA", "BYTEA": "BYTEA",
    "Interval": "INTERVAL", "INTERVAL": "INTERVAL", "INET": "INET", "CITEXT": "CITEXT",
}  # fmt: skip
_SIZED = {"String": "VARCHAR", "VARCHAR": "VARCHAR", "Unicode": "VARCHAR", "CHAR": "CHAR"}
_TIMESTAMPS = {"DateTime", "TIMESTAMP", "Time", "TIME"}


def quote_ident(name: str) -> str:
    if _PLAIN_IDENT.match(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(name: str, schema: object) -> str:
    return quoting.qualified(name, schema if isinstance(schema, str) else None, _RESERVED)


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def callee_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def bind_arguments(
    name: str, node: ast.Call, batch: bool
) -> tuple[dict[str, ast.expr], list[ast.expr]]:
    """Map a call's arguments to parameter names; extra positionals are returned apart."""
    if name not in SIGNATURES:
        raise Unevaluable(f"migcheck has no direct reading of `{name}`")
    params = SIGNATURES[name][1 if batch else 0]
    bound: dict[str, ast.expr] = {}
    extra: list[ast.expr] = []
    for index, arg in enumerate(node.args):
        if isinstance(arg, ast.Starred):
            raise Unevaluable("arguments are passed with `*`")
        if index < len(params):
            bound[params[index]] = arg
        else:
            extra.append(arg)
    for keyword in node.keywords:
        if keyword.arg is None:
            raise Unevaluable("arguments are passed with `**`")
        bound[keyword.arg] = keyword.value
    return bound, extra


class FallbackReader:
    """Renders one call from its literal arguments.

    ``literal`` evaluates an expression in the caller's scope and must raise
    ``Unevaluable`` for anything not fully known; ``compile_type``/``compile_clause``
    render SQLAlchemy objects when SQLAlchemy is available (None otherwise).
    """

    def __init__(
        self,
        literal: Callable[[ast.expr], object],
        compile_type: Callable[[object], str] | None = None,
        compile_clause: Callable[[object], str] | None = None,
    ) -> None:
        self._literal = literal
        self._compile_type = compile_type
        self._compile_clause = compile_clause

    # --- small readers -----------------------------------------------------------

    def value(self, node: ast.expr, what: str) -> object:
        try:
            value = self._literal(node)
        except Unevaluable as exc:
            raise Unevaluable(f"{what} is not a literal ({exc.reason})", node) from None
        if isinstance(value, Opaque):
            raise Unevaluable(f"{what} is not a literal ({value.fail().reason})", node)
        return value

    def text(self, node: ast.expr | None, what: str) -> str:
        if node is None:
            raise Unevaluable(f"{what} is missing")
        value = self.value(node, what)
        if not isinstance(value, str):
            raise Unevaluable(f"{what} is not a string", node)
        return str(value)

    def opt_text(self, node: ast.expr | None, what: str) -> str | None:
        if node is None:
            return None
        value = self.value(node, what)
        if value is None:
            return None
        if not isinstance(value, str):
            raise Unevaluable(f"{what} is not a string", node)
        return str(value)

    def flag(self, node: ast.expr | None, what: str) -> bool:
        return bool(self.value(node, what)) if node is not None else False

    def sql_text(self, node: ast.expr, what: str) -> str:
        """A SQL fragment written as a string or ``sa.text("...")``."""
        if (
            isinstance(node, ast.Call)
            and callee_name(node) in ("text", "literal_column")
            and len(node.args) == 1
            and not node.keywords
        ):
            return self.text(node.args[0], what)
        value = self.value(node, what)
        if isinstance(value, str):
            return str(value)
        text = getattr(value, "text", None)
        if type(value).__name__ == "TextClause" and isinstance(text, str):
            return text
        if self._compile_clause is not None and hasattr(value, "compile"):
            return self._compile_clause(value)
        raise Unevaluable(f"{what} is not SQL text", node)

    def names(self, node: ast.expr | None, what: str) -> list[str]:
        if node is None:
            raise Unevaluable(f"{what} is missing")
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.column_expr(item, what) for item in node.elts]
        value = self.value(node, what)
        if isinstance(value, str):
            return [quote_ident(value)]
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return [quote_ident(v) for v in value]
        raise Unevaluable(f"{what} is not a list of names", node)

    def column_expr(self, node: ast.expr, what: str) -> str:
        if isinstance(node, ast.Call) and callee_name(node) in ("text", "literal_column"):
            return self.sql_text(node, what)
        value = self.value(node, what)
        if isinstance(value, str):  # plain names, op.f(...) and quoted_name
            return quote_ident(str(value))
        return self.sql_text(node, what)

    # --- types and columns -------------------------------------------------------

    def type_sql(self, node: ast.expr) -> str:
        try:
            value = self._literal(node)
        except Unevaluable:
            value = None
        if value is not None and not isinstance(value, Opaque) and self._compile_type:
            try:
                return self._compile_type(value() if isinstance(value, type) else value)
            except Exception:
                pass
        if isinstance(value, Opaque):
            return value.type_name
        return self._type_from_ast(node)

    def _type_from_ast(self, node: ast.expr) -> str:
        name = callee_name(node)
        if not name:
            raise Unevaluable("the column type is not a name", node)
        args = node.args if isinstance(node, ast.Call) else []
        kwargs = {k.arg: k.value for k in node.keywords} if isinstance(node, ast.Call) else {}
        literal_args: list[object] = []
        for arg in args:
            try:
                literal_args.append(self._literal(arg))
            except Unevaluable:
                literal_args.append(None)
        if name in _TYPE_NAMES:
            return _TYPE_NAMES[name]
        if name in _SIZED:
            size = literal_args[0] if literal_args else None
            if size is None and "length" in kwargs:
                size = self.value(kwargs["length"], "length")
            return f"{_SIZED[name]}({size})" if isinstance(size, int) else _SIZED[name]
        if name in ("Numeric", "NUMERIC", "DECIMAL"):
            nums = [a for a in literal_args if isinstance(a, int)]
            return "NUMERIC" + (f"({', '.join(map(str, nums))})" if nums else "")
        if name in _TIMESTAMPS:
            base = "TIMESTAMP" if name in ("DateTime", "TIMESTAMP") else "TIME"
            tz_node = kwargs.get("timezone")
            tz = bool(self.value(tz_node, "timezone")) if tz_node is not None else False
            return f"{base} {'WITH' if tz else 'WITHOUT'} TIME ZONE"
        if name in ("Enum", "ENUM") and "name" in kwargs:
            return quote_ident(self.text(kwargs["name"], "the enum type name"))
        if name == "ARRAY" and args:
            return self.type_sql(args[0]) + "[]"
        return name

    def default_sql(self, node: ast.expr) -> str | None:
        """SQL for a ``server_default`` (None when it is ``None``/``False``)."""
        if isinstance(node, ast.Call) and callee_name(node) in ("text", "literal_column"):
            return self.sql_text(node, "server_default")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "func"
            and not node.args
        ):
            return f"{node.func.attr}()"
        value = self.value(node, "server_default")
        if value is None or value is False:
            return None
        if isinstance(value, str):
            return sql_string(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return sql_string(str(value))
        return self.sql_text(node, "server_default")

    def column(self, node: ast.expr) -> tuple[str, str, bool]:
        """``(name, definition, primary_key)`` of a literal ``sa.Column(...)``."""
        if not isinstance(node, ast.Call) or callee_name(node) != "Column":
            raise Unevaluable("the column is not a literal `sa.Column(...)`", node)
        if not node.args:
            raise Unevaluable("the column has no name", node)
        name = self.text(node.args[0], "the column name")
        parts: list[str] = []
        references = ""
        for arg in node.args[1:]:
            kind = callee_name(arg)
            if kind == "ForeignKey" and isinstance(arg, ast.Call) and arg.args:
                target = self.text(arg.args[0], "the foreign key target")
                table, _, col = target.rpartition(".")
                references = f" REFERENCES {quote_ident(table)} ({quote_ident(col)})"
            elif kind in ("CheckConstraint", "Identity", "Computed", "Sequence"):
                raise Unevaluable(f"the column carries `{kind}`", arg)
            elif not parts:
                parts.append(self.type_sql(arg))
        if not parts:
            raise Unevaluable("the column has no type", node)
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        primary = self.flag(kw.get("primary_key"), "primary_key")
        nullable = not primary
        if "nullable" in kw:
            nullable = self.flag(kw["nullable"], "nullable")
        if "server_default" in kw:
            default = self.default_sql(kw["server_default"])
            if default is not None:
                parts.append(f"DEFAULT {default}")
        if not nullable:
            parts.append("NOT NULL")
        return name, f"{quote_ident(name)} {' '.join(parts)}{references}", primary

    # --- operations ---------------------------------------------------------------

    def read(self, name: str, node: ast.Call, batch: tuple[object, object] | None) -> str:
        """SQL for the call, or ``Unevaluable`` saying what could not be read."""
        bound, extra = bind_arguments(name, node, batch is not None)
        if batch is not None:
            table, schema = batch
            if not isinstance(table, str):
                raise Unevaluable("the batch table name is not a literal")
            bound.setdefault("table_name", ast.Constant(str(table)))
            bound.setdefault("source_table", ast.Constant(str(table)))
            if isinstance(schema, str):
                bound.setdefault("schema", ast.Constant(schema))
        reader: Callable[[dict[str, ast.expr], list[ast.expr]], str] = getattr(self, f"_{name}")
        return reader(bound, extra)

    def _table(self, bound: dict[str, ast.expr], key: str = "table_name") -> str:
        schema = self.opt_text(bound.get("schema"), "schema")
        return qualified(self.text(bound.get(key), "the table name"), schema)

    def _execute(self, bound: dict[str, ast.expr], extra: list[ast.expr]) -> str:
        node = bound.get("sqltext")
        if node is None:
            raise Unevaluable("the SQL is missing")
        return self.sql_text(node, "the SQL")

    def _drop_table(self, bound: dict[str, ast.expr], extra: list[ast.expr]) -> str:
        exists = " IF EXISTS" if self.flag(bound.get("if_exists"), "if_exists") else ""
        return f"DROP TABLE{exists} {self._table(bound)};"

    def _drop_column(self, bound: dict[str, ast.expr], extra: list[ast.expr]) -> str:
        column = self.text(bound.get("column_name"), "the column name")
        exists = " IF EXISTS" if self.flag(bound.get("if_exists"), "if_exists") else ""
        return f"ALTER TABLE {self._table(bound)} DROP COLUMN{exists} {quote_ident(column)};"

    def _rename_table(self, bound: dict[str, ast.expr], extra: list[ast.expr]) -> str:
        old = self._table(bound, "old_table_name")
        new = self.text(bound.get("new_table_name"), "the new table name")
        return f"ALTER TABLE {old} RENAME TO {quote_ident(new)};"

    def _alter_column(self, bound: dict[str, ast.expr], extra: list[ast.expr]) -> str:
        table = self._table(bound)
        column = quote_ident(self.text(bound.get("column_name"), "the column name"))
        prefix = f"ALTER TABLE {table} ALTER COLUMN {column}"
        out: list[str] = []
        if "nullable" in bound:
            nullable = self.value(bound["nullable"], "nullable")
            if nullable is not None:
                out.append(f"{prefix} {'DROP' if nullable else 'SET'} NOT NULL;")
        if "server_default" in bound:
            default_value = bound["server_default"]
            is_false = isinstance(default_value, ast.Constant) and default_value.value is False
            if not is_false:
                default = self.default_sql(default_value)
                out.append(
                    f"{prefix} SET DEFAULT {default};" if default else f"{prefix} DROP DEFAULT;"
                )
        if bound.get("type_") is not None:
            using = self.opt_text(bound.get("postgresql_using"), "postgresql_using")
            type_sql = self.type_sql(bound["type_"])
            out.append(f"{prefix} TYPE {type_sql}" + (f" USING {using}" if using else "") + ";")
        new_name = self.opt_text(bound.get("new_column_name"), "new_column_name")
        if new_name:
            out.append(f"ALTER TABLE {table} RENAME {column} TO {quote_ident(new_name)};")
        if not out:
            raise Unevaluable("no change that migcheck can read")
        return "\n\n".join(out)

    def _add_column(self, bound: dict[str, ast.expr], extra: list[ast.expr]) -> str:
        column = bound.get("column")
        if column is None:
            raise Unevaluable("the column is missing")
        _, definition, _ = self.column(column)
        exists = " IF NOT EXISTS" if self.flag(bound.get("if_not_exists"), "if_not_exists") else ""
        return f"ALTER TABLE {self._table(bound)} ADD COLUMN{exists} {definition};"

    def _create_index(self, bound: dict[str, ast.expr], extra: list[ast.expr]) -> str:
        name = self.text(bound.get("index_name"), "the index name")
        columns = self.names(bound.get("columns"), "the index columns")
        unique = "UNIQUE " if self.flag(bound.get("unique"), "unique") else ""
        concurrently = self.flag(bound.get("postgresql_concurrently"), "postgresql_concurrently")
        exists = "IF NOT EXISTS " if self.flag(bound.get("if_not_exists"), "if_not_exists") else ""
        using = self.opt_text(bound.get("postgresql_using"), "postgresql_using")
        sql = f"CREATE {unique}INDEX {'CONCURRENTLY ' if concurrently else ''}{exists}"
        sql += f"{quote_ident(name)} ON {self._table(bound)}"
        sql += f" USING {using}" if using else ""
        sql += f" ({', '.join(columns)})"
        include = bound.get("postgresql_include")
        if include is not None:
            sql += f" INCLUDE ({', '.join(self.names(include, 'postgresql_include'))})"
        where = bound.get("postgresql_where")
        if where is not None:
            sql += f" WHERE {self.sql_text(where, 'postgresql_where')}"
        return sql + ";"

    def _drop_index(self, bound: dict[str, ast.expr], extra: list[ast.expr]) -> str:
        name = self.text(bound.get("index_name"), "the index name")
        schema = self.opt_text(bound.get("schema"), "schema")
        concurrently = self.flag(bound.get("postgresql_concurrently"), "postgresql_concurrently")
        exists = "IF EXISTS " if self.flag(bound.get("if_exists"), "if_exists") else ""
        return f"DROP INDEX {'CONCURRENTLY ' if concurrently else ''}{exists}{qualified(name, schema)};"

    def _constraint_prefix(self, bound: dict[str, ast.expr], table_key: str = "table_name") -> str:
        name = self.text(bound.get("constraint_name"), "the constraint name")
        if table_key == "source_table":
            schema = self.opt_text(bound.get("source_schema"), "source_schema")
            table = qualified(self.text(bound.get(table_key), "the table name"), schema)
        else:
            table = self._table(bound, table_key)
        return f"ALTER TABLE {table} ADD CONSTRAINT {quote_ident(name)}"

    def _create_foreign_key(self, bound: dict[str, ast.expr], extra: list[ast.expr]) -> str:
        prefix = self._constraint_prefix(bound, "source_table")
        local = self.names(bound.get("local_cols"), "the local columns")
        remote = self.names(bound.get("remote_cols"), "the referenced columns")
        ref_schema = self.opt_text(bound.get("referent_schema"), "referent_schema")
        referent = qualified(
            self.text(bound.get("referent_table"), "the referenced table"), ref_schema
        )
        sql = (
            f"{prefix} FOREIGN KEY({', '.join(local)}) REFERENCES {referent} ({', '.join(remote)})"
        )
        for key, word in (("ondelete", "ON DELETE"), ("onupdate", "ON UPDATE")):
            action = self.opt_text(bound.get(key), key)
            if action:
                sql += f" {word} {action}"
        if self.flag(bound.get("postgresql_not_valid"), "postgresql_not_valid"):
            sql += " NOT VALID"
        return sql + ";"

    def _create_unique_constraint(self, bound: dict[str, ast.expr], extra: list[ast.expr]) -> str:
        columns = self.names(bound.get("columns"), "the columns")
        return f"{self._constraint_prefix(bound)} UNIQUE ({', '.join(columns)});"

    def _create_primary_key(self, bound: dict[str, ast.expr], extra: list[ast.expr]) -> str:
        columns = self.names(bound.get("columns"), "the columns")
        return f"{self._constraint_prefix(bound)} PRIMARY KEY ({', '.join(columns)});"

    def _create_check_constraint(self, bound: dict[str, ast.expr], extra: list[ast.expr]) -> str:
        condition = bound.get("condition")
        if condition is None:
            raise Unevaluable("the condition is missing")
        sql = (
            f"{self._constraint_prefix(bound)} CHECK ({self.sql_text(condition, 'the condition')})"
        )
        if self.flag(bound.get("postgresql_not_valid"), "postgresql_not_valid"):
            sql += " NOT VALID"
        return sql + ";"

    def _drop_constraint(self, bound: dict[str, ast.expr], extra: list[ast.expr]) -> str:
        name = self.text(bound.get("constraint_name"), "the constraint name")
        exists = " IF EXISTS" if self.flag(bound.get("if_exists"), "if_exists") else ""
        return f"ALTER TABLE {self._table(bound)} DROP CONSTRAINT{exists} {quote_ident(name)};"

    def _create_table(self, bound: dict[str, ast.expr], extra: list[ast.expr]) -> str:
        table = self._table(bound)
        columns: list[str] = []
        primary: list[str] = []
        for arg in extra:
            kind = callee_name(arg)
            if kind == "Column":
                name, definition, is_primary = self.column(arg)
                columns.append(definition)
                if is_primary:
                    primary.append(quote_ident(name))
            elif kind == "PrimaryKeyConstraint" and isinstance(arg, ast.Call):
                primary = [quote_ident(self.text(a, "a key column")) for a in arg.args]
            else:
                raise Unevaluable(f"the table element `{kind or '?'}` is not read directly", arg)
        if primary:
            columns.append(f"PRIMARY KEY ({', '.join(primary)})")
        exists = " IF NOT EXISTS" if self.flag(bound.get("if_not_exists"), "if_not_exists") else ""
        body = ", \n    ".join(columns)
        return f"CREATE TABLE{exists} {table} (\n    {body}\n);"


def describe(value: Any) -> str:
    """A short description of a value for messages."""
    if isinstance(value, Opaque):
        return value.name
    return type(value).__name__
