"""SQLAlchemy models read with ``ast``: the tables and columns an app maps, never imported.

Recognised: declarative classes with ``__tablename__ = "..."`` (and a ``schema`` in
``__table_args__``), whose attributes are ``Column(...)`` / ``mapped_column(...)`` (under
any prefix: ``sa.``, ``db.``, ``orm.``; the column name is the first string argument,
else the attribute name) or a bare ``Mapped[...]`` annotation (SQLAlchemy 2.0 maps it to
a column of that name); ``relationship(...)`` and other attributes are not columns. Also
``Table("name", metadata, Column("a", ...), ..., schema="s")`` objects. Anything written
dynamically (a name built at run time, a mixin from another module) is simply not seen.
"""

from __future__ import annotations

import ast

from migcheck.appschema import AppSchema, MappedColumn, MappedTable

_COLUMN_CALLS = frozenset({"Column", "mapped_column"})


def _callee(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            return func.id
        if isinstance(func, ast.Attribute):
            return func.attr
    return ""


def _first_string(call: ast.Call) -> str | None:
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return None


def _keyword_string(call: ast.Call, name: str) -> str | None:
    for kw in call.keywords:
        if (
            kw.arg == name
            and isinstance(kw.value, ast.Constant)
            and isinstance(kw.value.value, str)
        ):
            return kw.value.value
    return None


def _is_mapped(annotation: ast.expr | None) -> bool:
    target = annotation.value if isinstance(annotation, ast.Subscript) else None
    if isinstance(target, ast.Name):
        return target.id == "Mapped"
    return isinstance(target, ast.Attribute) and target.attr == "Mapped"


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


def _model(cls: ast.ClassDef, path: str) -> MappedTable | None:
    name: str | None = None
    schema: str | None = None
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
        if target == "__tablename__":
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                name = value.value
            continue
        if target == "__table_args__" and value is not None:
            schema = _table_schema(value)
            continue
        if isinstance(value, ast.Call) and _callee(value) in _COLUMN_CALLS:
            column = _first_string(value) or _keyword_string(value, "name") or target
        elif value is None and _is_mapped(annotation):
            column = target
        else:
            continue
        columns[column] = MappedColumn(column, stmt.lineno)
    if name is None:
        return None
    table = MappedTable(name, schema, path, cls.lineno)
    table.columns = columns
    return table


def _table_object(call: ast.Call, path: str) -> MappedTable | None:
    name = _first_string(call)
    if name is None:
        return None
    table = MappedTable(name, _keyword_string(call, "schema"), path, call.lineno)
    for arg in call.args[1:]:
        if isinstance(arg, ast.Call) and _callee(arg) in _COLUMN_CALLS:
            column = _first_string(arg)
            if column is not None:
                table.columns[column] = MappedColumn(column, arg.lineno)
    return table


def from_sqlalchemy(text: str, path: str, source: str) -> AppSchema:
    out = AppSchema(source)
    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError) as err:
        line = getattr(err, "lineno", None)
        out.errors.append(
            f"{path}{f':{line}' if line else ''}: cannot read the models ({err.msg if isinstance(err, SyntaxError) else err})"
        )
        return out
    for node in ast.walk(tree):
        table: MappedTable | None = None
        if isinstance(node, ast.ClassDef):
            table = _model(node, path)
        elif isinstance(node, ast.Call) and _callee(node) == "Table":
            table = _table_object(node, path)
        if table is not None:
            out.add(table)
    return out
