"""Rendering a plain revision without importing Alembic or SQLAlchemy.

Most revisions are a list of ``op.`` calls with literal arguments, SQLAlchemy types and
columns. ``render_pure`` renders such a revision itself, with the SQL, positions and
notes the evaluator (``evaluate.py``, which drives Alembic's real ``Operations``) would
give, and returns None for anything else: then the revision is rendered the usual way.
Importing Alembic and SQLAlchemy costs about 0.6 s, so a pre-commit run that meets one
new plain revision no longer pays it.

What it reads: module-level imports (``alembic.op``, ``sqlalchemy``, its PostgreSQL
dialect), constant assignments and function definitions; in ``upgrade()`` (and
``downgrade()``) only ``op.<operation>(...)`` statements, ``pass``, a docstring,
``with op.get_context().autocommit_block():`` and ``with op.batch_alter_table(...) as
batch_op:``. Arguments are constants, lists, module constants, f-strings of those, and the
constructs of ``puremodel``. One unmodelled thing anywhere in a function it renders
sends the whole revision to the evaluator. ``tests/alembic/test_alembic_pure.py``
renders revisions both ways and requires identical results.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .libtypes import MODULES as LIB_MODULES
from .libtypes import TYPES as LIB_TYPES
from .pureddl import OPERATIONS, bind, unbatch
from .puremodel import (
    FUNCTIONS,
    PG_TYPES,
    SA_CONSTRUCTORS,
    SA_TYPES,
    Args,
    NotModelled,
    SqlFunction,
    Text,
    Type,
    TypeClass,
    make_type,
)
from .render import Rendered
from .revfile import RevisionFile
from .sink import Sink
from .world import MAX_SIZE

_SA = "sqlalchemy"
_PG = "sqlalchemy.dialects.postgresql"
_OP = "alembic.op"


@dataclass(frozen=True)
class _Path:
    """A module-level name that refers into a modelled module: ``sa``, ``op.f``."""

    path: str


@dataclass(frozen=True)
class _Callable:
    """A modelled constructor other than a column type (``sa.Column``, ``sa.text``)."""

    make: Callable[[Args], object]


@dataclass(frozen=True)
class _Batch:
    """``op.batch_alter_table(table, schema=...)`` bound by ``with ... as``."""

    table: str
    schema: str | None


_NAMES = (str, int, float, bool, type(None))


def _module_names(tree: ast.Module) -> dict[str, object]:
    """What module-level names mean: modelled modules, constants, or ``_UNKNOWN``."""
    names: dict[str, object] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    names[alias.asname] = _Path(alias.name)
                else:
                    top = alias.name.split(".", 1)[0]
                    names[top] = _Path(top)
        elif isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                if alias.name == "*" or stmt.level:
                    raise NotModelled("star or relative imports")
                names[alias.asname or alias.name] = _Path(f"{stmt.module}.{alias.name}")
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[stmt.name] = _UNKNOWN
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            value: object = _UNKNOWN
            if isinstance(stmt.value, ast.Constant) and type(stmt.value.value) in _NAMES:
                value = stmt.value.value
            for target in targets:
                if isinstance(target, ast.Name):
                    names[target.id] = value
                else:
                    raise NotModelled("a module-level assignment to something not a name")
        elif isinstance(stmt, (ast.If, ast.Try, ast.With, ast.For, ast.While, ast.AugAssign)):
            # The evaluator binds what such blocks define; this reader does not.
            raise NotModelled("module-level control flow")
    return names


_UNKNOWN = object()


class _Reader:
    """Renders the functions of one revision, or raises ``NotModelled``."""

    def __init__(self, rev: RevisionFile) -> None:
        assert rev.tree is not None and rev.source is not None
        self.rev = rev
        self.source = rev.source
        self.names = _module_names(rev.tree)
        self.local: dict[str, object] = {}
        self.sink: Sink = Sink(rev.display, rev.source)
        self.autocommit = False
        # Shared by upgrade() and downgrade(), as they share Alembic's context.
        self.created_enums: set[str] = set()
        # String objects that several literals of the file share (CPython caches
        # one-character strings): the evaluator then cannot tell which literal an
        # ``op.execute`` string came from, depending on what it evaluated before.
        seen: dict[int, tuple[int, int]] = {}
        self.shared: set[int] = set()
        for node in ast.walk(rev.tree):
            if isinstance(node, ast.Constant) and type(node.value) is str:
                where = (node.lineno, node.col_offset)
                if seen.setdefault(id(node.value), where) != where:
                    self.shared.add(id(node.value))

    # --- statements -------------------------------------------------------------------

    def function(self, name: str) -> Sink | None:
        node = None
        assert self.rev.tree is not None
        for stmt in self.rev.tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
                node = stmt
        if node is None:
            return None
        if not isinstance(node, ast.FunctionDef) or node.decorator_list:
            raise NotModelled("a decorated or async function")
        a = node.args
        if a.posonlyargs or a.args or a.vararg or a.kwonlyargs or a.kwarg:
            raise NotModelled("a function with parameters")
        self.sink = Sink(self.rev.display, self.source)
        self.local = {}
        body = node.body
        if body and _is_docstring(body[0]):
            body = body[1:]
        self.block(body)
        return self.sink

    def block(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.Pass):
                continue
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                self.call_statement(stmt.value)
            elif isinstance(stmt, ast.With) and len(stmt.items) == 1:
                self.with_block(stmt)
            else:
                raise NotModelled(f"a `{type(stmt).__name__}` statement")

    def with_block(self, stmt: ast.With) -> None:
        item = stmt.items[0]
        context = item.context_expr
        if not isinstance(context, ast.Call):
            raise NotModelled("a `with` that is not a call")
        target = self.reference(context.func)
        if target == "op.get_context().autocommit_block" and not context.args:
            if item.optional_vars is not None or context.keywords:
                raise NotModelled("autocommit_block with arguments")
            saved = self.autocommit
            self.autocommit = True
            try:
                self.block(stmt.body)
            finally:
                self.autocommit = saved
            return
        if target != f"{_OP}.batch_alter_table" or not isinstance(item.optional_vars, ast.Name):
            raise NotModelled("a `with` block migcheck renders through Alembic")
        args, kwargs = self.arguments(context)
        if set(kwargs) - {"table_name", "schema"} or len(args) > 1:
            raise NotModelled("batch_alter_table options")
        table = args[0] if args else kwargs.get("table_name")
        schema = kwargs.get("schema")
        if type(table) is not str or (schema is not None and type(schema) is not str):
            raise NotModelled("a batch table that is not a name")
        self.local[item.optional_vars.id] = _Batch(table, schema)
        self.block(stmt.body)

    def call_statement(self, node: ast.Call) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute):
            raise NotModelled("a call that is not an op. call")
        base = func.value
        batch = self.local.get(base.id) if isinstance(base, ast.Name) else None
        if isinstance(batch, _Batch):
            self.operation(func.attr, node, batch)
            return
        if self.reference(base) != _OP:
            raise NotModelled("a call that is not an op. call")
        self.operation(func.attr, node, None)

    # --- expressions ------------------------------------------------------------------

    def reference(self, node: ast.expr) -> str | None:
        """The dotted path a name or attribute chain denotes, or None."""
        if isinstance(node, ast.Name):
            if node.id in self.local:
                return None
            value = self.names.get(node.id, _UNKNOWN)
            return value.path if isinstance(value, _Path) else None
        if isinstance(node, ast.Attribute):
            base = self.reference(node.value)
            return None if base is None else f"{base}.{node.attr}"
        if (
            isinstance(node, ast.Call)
            and not node.args
            and not node.keywords
            and self.reference(node.func) == f"{_OP}.get_context"
        ):
            return "op.get_context()"
        return None

    def value(self, node: ast.expr) -> object:
        if isinstance(node, ast.Constant):
            if type(node.value) not in _NAMES:
                raise NotModelled("a constant migcheck does not model")
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.value(e) for e in node.elts if not isinstance(e, ast.Starred)]
            if len(items) != len(node.elts):
                raise NotModelled("a starred item")
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.JoinedStr):
            return self.fstring(node)
        if isinstance(node, ast.Name) and node.id not in self.local:
            value = self.names.get(node.id, _UNKNOWN)
            if type(value) in _NAMES:
                return value
        if isinstance(node, ast.Call):
            return self.construct(node)
        path = self.reference(node)
        if path is not None:
            found = _lookup(path)
            if isinstance(found, TypeClass):
                return found
        raise NotModelled("a value migcheck does not model")

    def fstring(self, node: ast.JoinedStr) -> str:
        parts: list[str] = []
        for part in node.values:
            if isinstance(part, ast.Constant) and type(part.value) is str:
                parts.append(part.value)
                continue
            if not isinstance(part, ast.FormattedValue) or part.format_spec is not None:
                raise NotModelled("an f-string migcheck does not model")
            if part.conversion != -1:
                raise NotModelled("an f-string conversion")
            value = self.value(part.value)
            if type(value) not in (str, int):
                raise NotModelled("an f-string of a value migcheck does not model")
            parts.append(str(value))
        # ``f"..."`` without placeholders is one part; the evaluator joins it anew.
        if len(node.values) < 2:
            raise NotModelled("an f-string without placeholders")
        if sum(map(len, parts)) > MAX_SIZE:  # ``f"{BIG}{BIG}..."``: the evaluator refuses it
            raise NotModelled("an f-string too large to evaluate")
        return "".join(parts)

    def arguments(self, node: ast.Call) -> Args:
        args = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise NotModelled("a starred argument")
            args.append(self.value(arg))
        kwargs: dict[str, object] = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise NotModelled("a ** argument")
            kwargs[keyword.arg] = self.value(keyword.value)
        return args, kwargs

    def construct(self, node: ast.Call) -> object:
        path = self.reference(node.func)
        if path is None:
            raise NotModelled("a call migcheck does not model")
        if path == f"{_OP}.f":
            args, kwargs = self.arguments(node)
            if len(args) != 1 or kwargs or type(args[0]) is not str:
                raise NotModelled("op.f of something not a name")
            return args[0]
        found = _lookup(path)
        if found is None:
            raise NotModelled(f"`{path}`")
        return found.make(self.arguments(node))

    # --- operations -------------------------------------------------------------------

    def operation(self, name: str, node: ast.Call, batch: _Batch | None) -> None:
        origin = _dotted(node.func)
        if name == "execute":
            sql, start = self.execute(node)
        else:
            render = OPERATIONS.get(name)
            if render is None:
                raise NotModelled(f"`op.{name}`")
            args, kwargs = self.arguments(node)
            if batch is not None:
                args, kwargs = unbatch(name, args, kwargs, batch.table, batch.schema)
            statements = render(self, *bind(name, args, kwargs))
            # What Alembic's offline mode writes for each statement (MigrationContext).
            sql = "\n\n".join(s.replace("\t", "    ").strip() + ";" for s in statements)
            start = None
        if sql:
            self.sink.chunk(node, sql, autocommit=self.autocommit, origin=origin, sql_start=start)

    def execute(self, node: ast.Call) -> tuple[str, tuple[int, int] | None]:
        if len(node.args) != 1 or node.keywords:
            raise NotModelled("execute with parameters or options")
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and type(arg.value) is str:
            if id(arg.value) in self.shared:
                raise NotModelled("a string literal whose origin the evaluator may not know")
            return arg.value, self.source.string_content_start(arg)
        if isinstance(arg, ast.JoinedStr):
            return self.fstring(arg), None
        if (
            isinstance(arg, ast.Call)
            and self.reference(arg.func) == f"{_SA}.text"
            and len(arg.args) == 1
            and not arg.keywords
            and isinstance(arg.args[0], ast.Constant)
            and type(arg.args[0].value) is str
        ):
            text = arg.args[0].value
            if "\\:" in text:
                raise NotModelled("an escaped colon in text()")
            return text, self.source.string_content_start(arg.args[0])
        raise NotModelled("execute of something other than a string or text()")

    def fact(self, table: str, schema: object, column: str, kwargs: dict[str, object]) -> None:
        info: dict[str, object] = {}
        existing = kwargs.get("existing_type")
        if existing is not None:
            info["type"] = make_type(existing).sql
        nullable = kwargs.get("existing_nullable")
        if isinstance(nullable, bool):
            info["nullable"] = nullable
        self.sink.fact(f"{schema}.{table}" if schema else table, column, info)


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    raise NotModelled("a call through an expression")


def _lookup(path: str) -> Any:
    """The modelled object at ``path`` (a type class or constructor), or None."""
    if path in LIB_TYPES:  # SQLModel's AutoString, as the type it renders as
        path = ".".join(LIB_TYPES[path])
    module, _, name = path.rpartition(".")
    module = LIB_MODULES.get(module, module)
    if module in (_SA, f"{_SA}.types") and name in SA_TYPES:
        return TypeClass(SA_TYPES[name])
    if module == _PG and name in PG_TYPES:
        return TypeClass(PG_TYPES[name])
    if module == _SA and name in SA_CONSTRUCTORS:
        return _Callable(SA_CONSTRUCTORS[name])
    if module == _SA and name == "text":
        return _Callable(_make_text)
    if module == _SA and name in ("true", "false"):
        return _Callable(lambda args: _no_args(args, SqlFunction(name)))
    if module == f"{_SA}.func" and name in FUNCTIONS:
        return _Callable(lambda args: _no_args(args, SqlFunction(FUNCTIONS[name])))
    return None


def _no_args(args: Args, value: object) -> object:
    if args[0] or args[1]:
        raise NotModelled("a function call with arguments")
    return value


def _make_text(args: Args) -> Text:
    positional, keywords = args
    if len(positional) != 1 or keywords or type(positional[0]) is not str:
        raise NotModelled("text() with parameters")
    return Text(positional[0])


_supported: bool | None = None


def supported() -> bool:
    """Whether the installed versions are the ones this model renders like: SQLAlchemy
    2.x and Alembic 1.16 or later (read from their metadata, without importing them)."""
    global _supported
    if _supported is None:
        from .rendercache import dist_version

        sa = re.fullmatch(r"sqlalchemy-2\.\d+\.\d+.*\.dist-info", dist_version("sqlalchemy"))
        alembic = re.fullmatch(r"alembic-1\.(\d+)\.\d+.*\.dist-info", dist_version("alembic"))
        _supported = sa is not None and alembic is not None and int(alembic.group(1)) >= 16
    return _supported


def render_pure(rev: RevisionFile, functions: list[str]) -> Rendered | None:
    """The revision rendered without Alembic, or None when it uses anything unmodelled."""
    if rev.tree is None or rev.source is None or not supported():
        return None
    try:
        reader = _Reader(rev)
        out = Rendered()
        for name in functions:
            sink = reader.function(name)
            if sink is None:
                continue
            out.chunks[name] = sink.chunks
            if sink.facts:
                out.facts[name] = sink.facts
            out.notes.extend(sink.notes)
    except (NotModelled, RecursionError):
        return None
    except Exception:  # a gap in this model must cost time, never the lint (the evaluator)
        return None
    return out


__all__ = ["Type", "render_pure"]
