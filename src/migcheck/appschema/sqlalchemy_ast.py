"""SQLAlchemy models read with ``ast``: the tables and columns an app maps, never imported.

Recognised: declarative classes with ``__tablename__ = "..."`` (and a ``schema`` in
``__table_args__``), whose attributes are ``Column(...)`` / ``mapped_column(...)`` (under
any prefix: ``sa.``, ``db.``, ``orm.``; the column name is the first string argument,
else the attribute name) or a bare ``Mapped[...]`` annotation (SQLAlchemy 2.0 maps it to
a column of that name); ``relationship(...)`` and other attributes are not columns. Also
``Table("name", metadata, Column("a", ...), ..., schema="s")`` objects. Anything written
dynamically (a name built at run time, a mixin from another module) is simply not seen.

Per column: whether it is nullable (``nullable=``, else ``Mapped[Optional[...]]`` /
``Mapped[X | None]``, else SQLAlchemy's default: NOT NULL only for a primary key), what
fills it when an insert leaves it out (``default=``/``insert_default=`` in Python,
``server_default=``, ``Identity()``, ``Sequence()`` or an autoincrementing integer key in
the database), its type when written with a known SQLAlchemy type (``String(200)``,
``Numeric(10, 2)``, ``DateTime(timezone=True)``, ``Enum("a", "b", name="x")``, a
``enum.Enum`` class of the same file); a custom type (a ``TypeDecorator``) is not compared.
"""

from __future__ import annotations

import ast
import dataclasses

from migcheck.appschema.model import AppSchema, AppType, MappedColumn, MappedTable

_COLUMN_CALLS = frozenset({"Column", "mapped_column"})
_PYTHON_DEFAULTS = ("default", "insert_default")
# SQLAlchemy type names (generic and PostgreSQL dialect spellings) -> typname.
_TYPES = {
    "String": "varchar", "VARCHAR": "varchar", "Unicode": "varchar", "NVARCHAR": "varchar",
    "Text": "text", "TEXT": "text", "UnicodeText": "text",
    "Integer": "int4", "INTEGER": "int4", "INT": "int4",
    "BigInteger": "int8", "BIGINT": "int8", "SmallInteger": "int2", "SMALLINT": "int2",
    "Boolean": "bool", "BOOLEAN": "bool",
    "DateTime": "timestamp", "TIMESTAMP": "timestamp", "DATETIME": "timestamp",
    "Date": "date", "DATE": "date", "Time": "time", "TIME": "time",
    "Float": "float8", "Double": "float8", "DOUBLE_PRECISION": "float8", "DOUBLE": "float8",
    "REAL": "float4", "Numeric": "numeric", "NUMERIC": "numeric", "DECIMAL": "numeric",
    "JSON": "json", "JSONB": "jsonb", "LargeBinary": "bytea", "BYTEA": "bytea",
    "UUID": "uuid", "Uuid": "uuid", "Interval": "interval", "INTERVAL": "interval",
    "CHAR": "bpchar", "INET": "inet", "CIDR": "cidr", "MACADDR": "macaddr",
    "TSVECTOR": "tsvector", "CITEXT": "citext", "MONEY": "money", "OID": "oid",
}  # fmt: skip
_ENUMS = frozenset({"Enum", "ENUM"})
_SIZED = frozenset({"varchar", "bpchar", "numeric"})


def _callee(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _first_string(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _keyword_string(call: ast.Call, name: str) -> str | None:
    value = _keyword(call, name)
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value
    return None


def _keyword_bool(call: ast.Call, name: str) -> bool | None:
    """True/False when ``name=`` is a literal boolean; None when absent or computed."""
    value = _keyword(call, name)
    if isinstance(value, ast.Constant) and isinstance(value.value, bool):
        return value.value
    return None


def _is_mapped(annotation: ast.expr | None) -> bool:
    target = annotation.value if isinstance(annotation, ast.Subscript) else None
    return target is not None and _callee(target) == "Mapped"


def _optional_annotation(annotation: ast.expr | None) -> bool | None:
    """Whether ``Mapped[...]`` admits None: ``Optional[X]``, ``X | None``, ``Union[X, None]``
    (also inside a string); None when there is no ``Mapped[...]``."""
    if not isinstance(annotation, ast.Subscript) or not _is_mapped(annotation):
        return None
    inner = annotation.slice
    if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
        try:
            inner = ast.parse(inner.value, mode="eval").body
        except SyntaxError:
            return None
    return _admits_none(inner)


def _admits_none(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and node.value is None:
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _admits_none(node.left) or _admits_none(node.right)
    if isinstance(node, ast.Subscript):
        name = _callee(node.value)
        if name == "Optional":
            return True
        if name == "Union":
            items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            return any(_admits_none(item) for item in items)
    return False


def _table_schema(value: ast.expr) -> str | None:
    """``__table_args__ = {"schema": "s"}`` or ``(..., {"schema": "s"})``."""
    candidates = value.elts if isinstance(value, ast.Tuple) else [value]
    for item in candidates:
        if isinstance(item, ast.Dict):
            for key, val in zip(item.keys, item.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "schema"
                    and isinstance(val, ast.Constant)
                    and isinstance(val.value, str)
                ):
                    return val.value
    return None


def _key_columns(nodes: list[ast.expr]) -> set[str]:
    """The columns a ``PrimaryKeyConstraint("a", "b")`` among ``nodes`` names (in
    ``__table_args__`` or a ``Table(...)``): NOT NULL like a ``primary_key=True`` column."""
    found: set[str] = set()
    for node in nodes:
        items = node.elts if isinstance(node, ast.Tuple | ast.List) else [node]
        for item in items:
            if isinstance(item, ast.Call) and _callee(item) == "PrimaryKeyConstraint":
                found.update(
                    a.value
                    for a in item.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                )
    return found


_AUTO = "an autoincrementing key"


def _as_keys(columns: dict[str, MappedColumn], keys: set[str]) -> None:
    """Mark the ``PrimaryKeyConstraint`` columns NOT NULL; and since SQLAlchemy makes only
    a single-column integer key autoincrement, a composite key's columns are not filled."""
    for name in keys & set(columns):
        columns[name] = dataclasses.replace(columns[name], required=True)
    auto = [name for name, c in columns.items() if c.default == _AUTO]
    if len(auto) + len(keys - set(auto)) > 1:
        for name in auto:
            columns[name] = dataclasses.replace(columns[name], default="", db_default=False)


def _python_enums(tree: ast.Module) -> dict[str, tuple[str, ...]]:
    """The ``enum.Enum`` classes of the file: their member names, which is what
    SQLAlchemy's ``Enum(TheClass)`` stores by default."""
    found: dict[str, tuple[str, ...]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(
            _callee(b) in ("Enum", "StrEnum", "IntEnum") for b in node.bases
        ):
            names = [
                t.id
                for stmt in node.body
                if isinstance(stmt, ast.Assign)
                for t in stmt.targets
                if isinstance(t, ast.Name) and not t.id.startswith("_")
            ]
            found[node.name] = tuple(names)
    return found


class _Reader:
    def __init__(self, path: str, enums: dict[str, tuple[str, ...]]) -> None:
        self.path = path
        self.enums = enums

    def column(
        self, call: ast.Call | None, name: str, line: int, annotation: ast.expr | None, attr: str
    ) -> MappedColumn:
        args = list(call.args) if call is not None else []
        if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
            args = args[1:]
        kind = next((a for a in args if _callee(a) in _TYPES or _callee(a) in _ENUMS), None)
        if kind is None and call is not None:
            kind = _keyword(call, "type_")
        app_type, enum_values = self.type_of(kind) if kind is not None else (None, ())
        primary = call is not None and _keyword_bool(call, "primary_key") is True
        nullable = _keyword_bool(call, "nullable") if call is not None else None
        computed = call is not None and _keyword(call, "nullable") is not None and nullable is None
        if nullable is None and not computed:
            optional = _optional_annotation(annotation)
            nullable = optional if optional is not None else not primary
        default, db_default = self.default_of(call, args, primary, app_type)
        return MappedColumn(
            name,
            line,
            required=None if computed else (not nullable or primary),
            default=default,
            db_default=db_default,
            type=app_type,
            enum_values=enum_values,
            enum_line=line if enum_values else 0,
            field=attr if attr != name else "",
        )

    def default_of(
        self, call: ast.Call | None, args: list[ast.expr], primary: bool, app_type: AppType | None
    ) -> tuple[str, bool]:
        if call is None:
            return "", False
        for name in _PYTHON_DEFAULTS:
            if _keyword(call, name) is not None:
                return f"{name}=", False
        if _keyword(call, "server_default") is not None:
            return "server_default=", True
        for arg in args:
            if _callee(arg) in ("Identity", "Sequence", "Computed", "FetchedValue"):
                return f"{_callee(arg)}()", True
        auto = _keyword(call, "autoincrement")
        integer = app_type is None or app_type.name in ("int2", "int4", "int8")
        if primary and integer and not (isinstance(auto, ast.Constant) and auto.value is False):
            return _AUTO, True
        return "", False

    def type_of(self, node: ast.expr) -> tuple[AppType | None, tuple[str, ...]]:
        name = _callee(node)
        shown = ast.unparse(node)
        call = node if isinstance(node, ast.Call) else None
        if name in ("ARRAY",) and call is not None and call.args:
            inner, values = self.type_of(call.args[0])
            if inner is None:
                return None, ()
            return AppType(inner.name, inner.params, inner.array + 1, shown), values
        if name in _ENUMS:
            return self.enum_of(call, shown)
        typname = _TYPES.get(name)
        if typname is None:
            return None, ()
        params: tuple[int, ...] = ()
        if call is not None:
            if name in ("DateTime", "TIMESTAMP", "Time", "TIME") and _keyword_bool(
                call, "timezone"
            ):
                typname += "tz"
            if typname in _SIZED:
                numbers = [
                    a.value
                    for a in [
                        *call.args,
                        *(
                            kw.value
                            for kw in call.keywords
                            if kw.arg in ("length", "precision", "scale")
                        ),
                    ]
                    if isinstance(a, ast.Constant)
                    and isinstance(a.value, int)
                    and not isinstance(a.value, bool)
                ]
                params = tuple(numbers[:2])
        return AppType(typname, params, 0, shown), ()

    def enum_of(self, call: ast.Call | None, shown: str) -> tuple[AppType | None, tuple[str, ...]]:
        if call is None or _keyword_bool(call, "native_enum") is False:
            return None, ()
        type_name = _keyword_string(call, "name")
        if type_name is None:
            return None, ()
        schema = _keyword_string(call, "schema")
        qualified = f"{schema}.{type_name}" if schema else type_name
        values: tuple[str, ...] = ()
        strings = [a.value for a in call.args if isinstance(a, ast.Constant)]
        if (
            call.args
            and len(strings) == len(call.args)
            and all(isinstance(v, str) for v in strings)
        ):
            values = tuple(str(v) for v in strings)
        elif (
            len(call.args) == 1
            and isinstance(call.args[0], ast.Name)
            and _keyword(call, "values_callable") is None
        ):
            values = self.enums.get(call.args[0].id, ())
        return AppType(qualified, (), 0, shown), values

    def model(self, cls: ast.ClassDef) -> MappedTable | None:
        name: str | None = None
        schema: str | None = None
        keys: set[str] = set()
        columns: dict[str, MappedColumn] = {}
        for stmt in cls.body:
            target: str | None = None
            value: ast.expr | None = None
            annotation: ast.expr | None = None
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                if isinstance(stmt.targets[0], ast.Name):
                    target, value = stmt.targets[0].id, stmt.value
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                target, value, annotation = stmt.target.id, stmt.value, stmt.annotation
            if target is None:
                continue
            if target == "__abstract__" and isinstance(value, ast.Constant) and value.value:
                return None
            if target == "__tablename__":
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    name = value.value
                continue
            if target == "__table_args__" and value is not None:
                schema = _table_schema(value)
                keys = _key_columns([value])
                continue
            if isinstance(value, ast.Call) and _callee(value) in _COLUMN_CALLS:
                column = _first_string(value) or _keyword_string(value, "name") or target
                columns[column] = self.column(value, column, stmt.lineno, annotation, target)
            elif value is None and _is_mapped(annotation):
                columns[target] = self.column(None, target, stmt.lineno, annotation, target)
        if name is None:
            return None
        _as_keys(columns, keys)
        table = MappedTable(name, schema, self.path, cls.lineno, model=cls.name)
        table.columns = columns
        return table

    def table_object(self, call: ast.Call) -> MappedTable | None:
        name = _first_string(call)
        if name is None:
            return None
        table = MappedTable(name, _keyword_string(call, "schema"), self.path, call.lineno)
        for arg in call.args[1:]:
            if isinstance(arg, ast.Call) and _callee(arg) in _COLUMN_CALLS:
                column = _first_string(arg)
                if column is not None:
                    table.columns[column] = self.column(arg, column, arg.lineno, None, column)
        _as_keys(table.columns, _key_columns(call.args[1:]))
        return table


def from_sqlalchemy(text: str, path: str, source: str) -> AppSchema:
    out = AppSchema(source)
    try:
        tree = ast.parse(text, filename=path)
    except RecursionError:
        out.errors.append(f"{path}: cannot read the models (nested too deeply)")
        return out
    except (SyntaxError, ValueError) as err:
        line = getattr(err, "lineno", None)
        out.errors.append(
            f"{path}{f':{line}' if line else ''}: cannot read the models ({err.msg if isinstance(err, SyntaxError) else err})"
        )
        return out
    try:
        reader = _Reader(path, _python_enums(tree))
        for node in ast.walk(tree):
            table: MappedTable | None = None
            if isinstance(node, ast.ClassDef):
                table = reader.model(node)
            elif isinstance(node, ast.Call) and _callee(node) == "Table":
                table = reader.table_object(node)
            if table is not None:
                out.add(table)
    except RecursionError:
        # An annotation like Mapped[a | a | ... | a] nested beyond Python's stack.
        out.tables.clear()
        out.errors.append(f"{path}: cannot read the models (nested too deeply)")
    return out
