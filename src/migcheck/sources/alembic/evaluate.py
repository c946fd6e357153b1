"""Static evaluation of one revision: ``op.*`` calls become SQL chunks with positions.

The module body is read, never run: imports are bound to closed-world values
(``world.py``: SQLAlchemy's SQL-building modules behind the membrane, migcheck's models
of a few standard-library modules, ``alembic.op`` to a handle, anything else to an
``Opaque`` stand-in), functions and literal assignments are recorded, and every other
module-level statement (including a ``raise`` or a side-effecting call) is ignored.
Then ``upgrade()`` (or ``downgrade()``) is interpreted; each ``op`` call is rendered by
Alembic's real ``Operations`` in offline mode through ``Recorder``, or, when its
arguments cannot be evaluated, by ``FallbackReader`` from its literal arguments.

``op.execute`` with a literal string (or ``sa.text("...")``) keeps the string itself as
the chunk's SQL: that is what reaches the server, and positions inside it map back to
the file.

The target is PostgreSQL, online: ``op.get_bind().dialect.name``, ``.engine.name`` and
``str(.engine.url)`` say so, ``context.is_offline_mode()`` and ``get_context().as_sql``
are False. ``enum.create(op.get_bind())`` (and ``drop``, and an ``Index`` or ``Sequence``)
render the DDL SQLAlchemy would send, and ``clause.compile(op.get_bind())`` compiles for
PostgreSQL. ``logging`` is a model whose calls do nothing. ``alter_column``'s
``existing_type``/``existing_nullable`` are recorded (``Sink.fact``) for rules that need
a column's prior state the history never showed.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
from typing import Any

from .expressions import BudgetExceeded, dotted
from .fallback import FallbackReader
from .handles import (
    AlembicModule,
    AutocommitBlock,
    BoundOp,
    ConnectionHandle,
    ContextHandle,
    EngineHandle,
    OpHandle,
    Scope,
)
from .interpret import Interpreter, Raised
from .libtypes import sqlmodel_module
from .purecalls import std_module
from .recorder import NON_EMITTING, BatchSpec, Recorder
from .revfile import RevisionFile
from .sink import Sink
from .values import SAFE_STDLIB, Opaque, Unevaluable, find_opaque, opaque_type_class
from .world import (
    Builtin,
    DialectModel,
    LibObject,
    StdModule,
    allowed_module,
    describe,
    dialect_class,
    to_closed,
)

# The URL ``str(op.get_bind().engine.url)`` gives: revisions test its scheme.
_ENGINE_URL = "postgresql://"


# ``context.is_offline_mode()``: migcheck judges what the deploy runs, which is an
# online ``alembic upgrade`` against the database (the data-migration branch).
_IS_OFFLINE_MODE = Builtin("is_offline_mode", lambda ev, args, kwargs, node: False)


_IMPORT_HINT = "which migcheck does not import unless run with --alembic-import"


def _shown_as(value: object, name: str) -> object:
    """An imported SQLAlchemy object, named in notes the way the revision names it."""
    if isinstance(value, LibObject):
        return LibObject(value.real, name)
    return value


class Evaluator(Interpreter):
    """Evaluates the functions of one parsed revision file."""

    def __init__(self, rev: RevisionFile, sink: Sink, recorder: Recorder | None) -> None:
        super().__init__(sink)
        assert rev.tree is not None and rev.source is not None
        self.rev = rev
        self.tree = rev.tree
        self.source = rev.source
        self.recorder = recorder
        self.op = OpHandle()
        # Only calls made while running upgrade()/downgrade() emit SQL; module-level
        # values and fallback re-reads must not.
        self.emitting = False
        self._stand_ins_noted: set[str] = set()
        self._logging = std_module("logging")
        # What Python defines in every module (``logging.getLogger(__name__)``).
        self.module.names.update(
            {
                "__name__": rev.path.stem,
                "__file__": str(rev.path),
                "__doc__": ast.get_docstring(self.tree),
            }
        )
        self._prepare_module(self.tree.body)

    # --- module -------------------------------------------------------------------------

    def _prepare_module(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                self.bind_import(stmt, self.module)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.module.names[stmt.name] = self.make_function(stmt, self.module)
            elif isinstance(stmt, ast.ClassDef):
                self.module.names[stmt.name] = Opaque(
                    stmt.name, "classes defined in a revision are not evaluated"
                )
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                try:
                    value = self.eval_or_opaque(stmt.value, self.module, targets[0])
                except Exception as exc:  # budget, recursion: the value is just unknown
                    value = Opaque(dotted(targets[0]), f"{type(exc).__name__}")
                for target in targets:
                    try:
                        self.assign(target, value, self.module)
                    except Unevaluable:
                        continue
            elif isinstance(stmt, (ast.If, ast.Try)):
                # ``if TYPE_CHECKING:`` imports, ``try: import x except ImportError``:
                # bind what the first branch defines without deciding the condition.
                self._prepare_module(stmt.body)
            # Anything else at module level (calls, raise, loops) is never run.

    def run(self, function_name: str) -> bool:
        """Interpret ``function_name``; False when the revision does not define it."""
        node = None
        for stmt in self.tree.body:
            if (
                isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
                and stmt.name == function_name
            ):
                node = stmt
        if node is None:
            return False
        fn = self.make_function(node, self.module)
        self.emitting = True
        try:
            self.call_user(fn, [], {}, None)
        except Raised as exc:
            self.note(
                exc.node,
                "`raise` is reached here; statements after it are not checked",
            )
        except BudgetExceeded:
            self.note(
                node,
                f"`{function_name}()` takes too many steps to evaluate; the rest is not checked",
            )
        except Unevaluable as exc:
            self.note(exc.node or node, f"not evaluated: {exc.reason}")
        except RecursionError:
            self.note(node, f"`{function_name}()` recurses too deeply to evaluate")
        except Exception as exc:  # a gap in migcheck's evaluator must not stop the lint
            self.note(node, f"`{function_name}()` could not be evaluated ({describe(exc)})")
        finally:
            self.emitting = False
        return True

    # --- imports ------------------------------------------------------------------------

    def bind_import(self, stmt: ast.Import | ast.ImportFrom, scope: Scope) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                top = alias.name.split(".", 1)[0]
                if alias.asname:
                    scope.names[alias.asname] = _shown_as(
                        self._import_module(alias.name), alias.asname
                    )
                else:
                    self._import_module(alias.name)
                    scope.names[top] = self._import_module(top)
            return
        module = stmt.module or ""
        if stmt.level:
            for alias in stmt.names:
                name = alias.asname or alias.name
                scope.names[name] = Opaque(
                    name,
                    f"imported from `{'.' * stmt.level}{module}`, {_IMPORT_HINT}",
                )
            return
        for alias in stmt.names:
            if alias.name == "*":
                target = self._import_module(module)
                if isinstance(target, LibObject):
                    public = getattr(target.real, "__all__", None) or [
                        n for n in vars(target.real) if not n.startswith("_")
                    ]
                    for name in public:
                        if isinstance(name, str) and not name.startswith("_"):
                            real = getattr(target.real, name, None)
                            scope.names[name] = to_closed(
                                real, f"{module}.{name}", from_module=True
                            )
                elif isinstance(target, StdModule):
                    scope.names.update(target.members)
                continue
            shown = alias.asname or alias.name
            scope.names[shown] = _shown_as(self._import_from(module, alias.name), shown)

    def _import_module(self, name: str) -> object:
        root = name.split(".", 1)[0]
        if root == "alembic":
            return self.op if name == "alembic.op" else AlembicModule("alembic")
        if name == "logging":
            return self._logging
        if root in SAFE_STDLIB:
            return std_module(name)
        if root == "sqlmodel":
            model = sqlmodel_module(name)
            if model is not None:
                return model
        if root != "sqlalchemy":
            return Opaque(name, f"it is `{name}`, {_IMPORT_HINT}")
        if not allowed_module(name):
            return Opaque(name, f"`{name}` is outside the part of SQLAlchemy migcheck models")
        try:
            # SQLAlchemy's own modules, imported by migcheck: the revision gets a
            # ``LibObject`` around the module, never the module.
            return to_closed(importlib.import_module(name), name)
        except ImportError as exc:
            return Opaque(name, f"`{name}` could not be imported ({exc})")

    def _import_from(self, module: str, name: str) -> object:
        if module == "alembic":
            if name == "op":
                return self.op
            if name == "context":
                return AlembicModule("context")
            return Opaque(name, "only `op` and `context` of `alembic` are modelled")
        if module == "alembic.op":
            return BoundOp(self.op, name)
        dialect = dialect_class(module, name)
        if dialect is not None:
            return dialect
        target = self._import_module(module)
        if isinstance(target, Opaque):
            reason = target.reason
            if module.split(".", 1)[0] not in ("sqlalchemy", *SAFE_STDLIB):
                reason = f"imported from `{module}`, {_IMPORT_HINT}"
            return Opaque(name, reason)
        if isinstance(target, StdModule):
            if name in target.members:
                return target.members[name]
            return Opaque(name, target.missing)
        if not isinstance(target, LibObject):
            return Opaque(name, f"`{module}` is not modelled")
        if name.startswith("_"):
            return Opaque(name, "private names of SQLAlchemy are not modelled")
        if hasattr(target.real, name):
            return to_closed(getattr(target.real, name), f"{module}.{name}", from_module=True)
        return self._import_module(f"{module}.{name}")

    # --- handles ------------------------------------------------------------------------

    def is_handle(self, value: object) -> bool:
        return isinstance(
            value, (OpHandle, ContextHandle, ConnectionHandle, EngineHandle, AlembicModule)
        )

    def _dialect(self) -> object:
        return DialectModel()

    def real_dialect(self) -> object:
        if self.recorder is None:
            return super().real_dialect()
        return self.recorder.context.dialect

    # --- library calls given the connection -----------------------------------------

    def call_with_handles(
        self, func: object, args: list[object], kwargs: dict[str, object], node: ast.Call
    ) -> object:
        if self.recorder is not None and isinstance(func, LibObject):
            name = getattr(func.real, "__name__", "")
            owner = func.owner.real if func.owner is not None else None
            if name == "compile":
                # Compiling only uses the bind's dialect, which is PostgreSQL's.
                rest = [a for a in args if not self.is_handle(a)]
                kw = {k: v for k, v in kwargs.items() if not self.is_handle(v) and k != "bind"}
                real_args, real_kwargs = self.membrane.args_to_real(rest, kw)
                real_kwargs["dialect"] = self.recorder.context.dialect
                # The compiled form is only ever used as its SQL text (and PostgreSQL's
                # compiler is not part of the closed world).
                return self.membrane.apply(
                    f"{func.path}(...)",
                    lambda: str(func.real(*real_args, **real_kwargs)),
                    node,
                    dotted(node.func),
                )
            if name in ("create", "drop"):
                ddl = self._schema_item_ddl(owner, name)
                if ddl is not None:
                    self._emit_ddl(ddl, node)
                    return None
        return super().call_with_handles(func, args, kwargs, node)

    def _schema_item_ddl(self, item: object, verb: str) -> object | None:
        """The DDL construct ``item.create(bind)``/``item.drop(bind)`` sends, for the
        items whose DDL is one statement: a named enum type, an index, a sequence."""
        import sqlalchemy as sa
        from sqlalchemy.dialects.postgresql import CreateEnumType, DropEnumType

        assert self.recorder is not None
        if isinstance(item, sa.Enum) and item.name:
            pg_enum = item.dialect_impl(self.recorder.context.dialect)
            return (CreateEnumType if verb == "create" else DropEnumType)(pg_enum)
        if isinstance(item, sa.Index):
            return (sa.schema.CreateIndex if verb == "create" else sa.schema.DropIndex)(item)
        if isinstance(item, sa.Sequence):
            return (sa.schema.CreateSequence if verb == "create" else sa.schema.DropSequence)(item)
        return None

    def _emit_ddl(self, ddl: object, node: ast.Call) -> None:
        origin = dotted(node.func)
        if not self.emitting:
            raise Unevaluable(f"`{origin}` is not rendered outside upgrade()/downgrade()", node)
        assert self.recorder is not None
        try:
            sql = self.recorder.compile(ddl)
        except Exception as exc:
            raise Unevaluable(f"SQLAlchemy could not render it ({describe(exc)})", node) from None
        self.sink.chunk(
            node,
            sql + ";",
            call_sites=self.call_stack,
            autocommit=self.autocommit,
            origin=origin,
        )

    def attribute_of_handle(self, base: object, attr: str, node: ast.Attribute) -> object:
        if attr.startswith("_"):
            raise Unevaluable(f"`{dotted(node)}` is not evaluated", node)
        if isinstance(base, BatchSpec):
            return BoundOp(OpHandle(batch=base), attr)
        if isinstance(base, OpHandle):
            return BoundOp(base, attr)
        if isinstance(base, ContextHandle):
            if attr == "autocommit_block":
                return BoundOp(base, attr)
            if attr in ("bind", "connection"):
                return ConnectionHandle()
            if attr == "dialect":
                return self._dialect()
            if attr == "as_sql":
                return False  # an online upgrade, as deployed (see _is_offline_mode)
            return Opaque(
                dotted(node), "the migration context is not available when reading statically"
            )
        if isinstance(base, ConnectionHandle):
            if attr in ("execute", "exec_driver_sql"):
                return BoundOp(base, attr)
            if attr == "dialect":
                return self._dialect()
            if attr == "engine":
                return EngineHandle()
            return Opaque(dotted(node), "there is no database connection when reading statically")
        if isinstance(base, EngineHandle):
            if attr == "dialect":
                return self._dialect()
            if attr == "name":
                return "postgresql"
            if attr == "url":
                return _ENGINE_URL  # ``str(engine.url)`` is what revisions test
            return Opaque(dotted(node), "there is no database engine when reading statically")
        if isinstance(base, AlembicModule):
            if base.name == "alembic":
                if attr == "op":
                    return self.op
                if attr == "context":
                    return AlembicModule("context")
            elif attr in ("get_context", "get_bind", "execute"):
                return BoundOp(self.op, attr)
            elif attr == "is_offline_mode":
                return _IS_OFFLINE_MODE
            return Opaque(
                dotted(node), "alembic.context is only configured when Alembic runs env.py"
            )
        raise Unevaluable(f"`{dotted(node)}` is not evaluated", node)

    # --- op calls -----------------------------------------------------------------------

    def op_call(self, bound: BoundOp, node: ast.Call, scope: Scope) -> object:
        handle, name = bound.handle, bound.name
        if isinstance(handle, ContextHandle):
            return AutocommitBlock()
        if isinstance(handle, ConnectionHandle):
            return self._emit(handle, "execute", node, scope)
        if not isinstance(handle, OpHandle):
            raise Unevaluable(f"`{dotted(node.func)}` is not evaluated", node)
        if name in NON_EMITTING:
            return self._non_emitting(name, node, scope)
        return self._emit(handle, name, node, scope)

    def _non_emitting(self, name: str, node: ast.Call, scope: Scope) -> object:
        if name == "get_context":
            return ContextHandle()
        if name == "get_bind":
            return ConnectionHandle()
        args, kwargs = self.eval_args(node, scope)
        if name == "batch_alter_table":
            table = args[0] if args else kwargs.pop("table_name", None)
            if table is None:
                raise Unevaluable("`batch_alter_table` without a table name", node)
            return BatchSpec(table=table, kwargs=kwargs)
        value = args[0] if args else next(iter(kwargs.values()), None)
        if isinstance(value, Opaque):
            raise value.fail(node)
        if self.recorder is None:
            return value  # op.f("x") is "x"; inline_literal is only approximated
        recorder = self.recorder
        real = self.membrane.to_real(value)
        make = recorder.conv if name == "f" else recorder.inline_literal
        return self.membrane.apply(f"op.{name}(...)", lambda: make(real), node, f"op.{name}")

    def _emit(
        self, handle: OpHandle | ConnectionHandle, name: str, node: ast.Call, scope: Scope
    ) -> object:
        origin = dotted(node.func)
        if not self.emitting:
            raise Unevaluable(f"`{origin}` is not rendered outside upgrade()/downgrade()", node)
        batch = handle.batch if isinstance(handle, OpHandle) else None
        mark = len(self.conversions)
        result: Any = None
        try:
            args, kwargs = self.eval_args(node, scope)
            if name in ("execute", "exec_driver_sql"):
                sql, start = self._render_execute(
                    args, kwargs, node, isinstance(handle, ConnectionHandle)
                )
            else:
                sql, result = self._render_operation(name, args, kwargs, batch, node)
                start = None
        except Unevaluable as exc:
            del self.conversions[mark:]
            self._fallback(name, node, scope, batch, origin, exc)
            return Opaque(f"{origin}(...)", "the result of an operation migcheck did not evaluate")
        if sql:
            self.sink.chunk(
                node,
                sql,
                call_sites=self.call_stack,
                autocommit=self.autocommit,
                origin=origin,
                sql_start=start,
            )
        self._note_stand_ins(mark, node)
        if isinstance(handle, ConnectionHandle):
            return Opaque(
                f"{origin}(...)", "the result of a query is not known when reading statically"
            )
        return result

    def _note_stand_ins(self, mark: int, node: ast.AST) -> None:
        for stand_in in self.conversions[mark:]:
            if stand_in.name in self._stand_ins_noted:
                continue
            self._stand_ins_noted.add(stand_in.name)
            self.note(
                node,
                f"`{stand_in.name}` is unknown ({stand_in.reason}); "
                f"rendered as the column type `{stand_in.type_name}`",
            )
        del self.conversions[mark:]

    def _string_start(self, value: str) -> tuple[int, int] | None:
        literal = self.literal_node(value)
        return self.source.string_content_start(literal) if literal is not None else None

    def _render_execute(
        self, args: list[object], kwargs: dict[str, object], node: ast.Call, connection: bool
    ) -> tuple[str, tuple[int, int] | None]:
        statement = args[0] if args else kwargs.get("sqltext", kwargs.get("statement"))
        params = args[1] if connection and len(args) > 1 else kwargs.get("parameters")
        if statement is None:
            raise Unevaluable("no SQL is given", node)
        unknown = find_opaque(statement) or find_opaque(params)
        if unknown is not None:
            raise unknown.fail(node)
        if type(statement) is str:
            return statement, self._string_start(statement)
        real = statement.real if isinstance(statement, LibObject) else None
        is_text = type(real).__name__ == "TextClause"
        if is_text and not params:
            literal = self.literal_node(statement)
            if literal is None:
                return str(getattr(real, "text", "")), None
            text = str(literal.value)
            if "\\:" in text:  # SQLAlchemy unescapes \: so positions would shift
                return text.replace("\\:", ":"), None
            return text, self.source.string_content_start(literal)
        if self.recorder is None:
            raise Unevaluable("rendering SQLAlchemy constructs needs the `alembic` extra", node)
        real_statement = self.membrane.to_real(statement)
        real_params = self.membrane.to_real(params) if params else None
        try:
            if real_params and isinstance(real_params, dict):
                bind = getattr(real_statement, "bindparams" if is_text else "params")
                real_statement = bind(**real_params)
            sql, _ = self.recorder.call("execute", (real_statement,), {}, None)
        except Exception as exc:
            raise Unevaluable(f"Alembic could not render it ({describe(exc)})", node) from None
        return sql, None

    def _render_operation(
        self,
        name: str,
        args: list[object],
        kwargs: dict[str, object],
        batch: BatchSpec | None,
        node: ast.Call,
    ) -> tuple[str, Any]:
        if self.recorder is None:
            raise Unevaluable("Alembic and SQLAlchemy are not installed", node)
        if name.startswith("_") or not self.recorder.has_operation(name):
            raise Unevaluable(f"`{name}` is not an Alembic operation", node)
        if batch is not None and isinstance(batch.table, Opaque):
            raise batch.table.fail(node)
        checked = {k: v for k, v in kwargs.items() if k not in ("type_", "existing_type")}
        unknown = (
            find_opaque(args)
            or find_opaque(checked)
            or find_opaque(batch.kwargs if batch else None)
        )
        if unknown is not None:
            raise unknown.fail(node)
        real_args, real_kwargs = self.membrane.args_to_real(args, kwargs)
        real_batch = None
        if batch is not None:
            real_batch = BatchSpec(
                self.membrane.to_real(batch.table),
                {k: self.membrane.to_real(v, k) for k, v in batch.kwargs.items()},
            )
        try:
            sql, result = self.recorder.call(name, tuple(real_args), real_kwargs, real_batch)
        except Exception as exc:
            raise Unevaluable(f"Alembic could not render it ({describe(exc)})", node) from None
        if name == "alter_column":
            self._record_existing(real_args, real_kwargs, real_batch)
        return sql, to_closed(result, f"op.{name}(...)")

    def _record_existing(
        self, args: list[object], kwargs: dict[str, object], batch: BatchSpec | None
    ) -> None:
        """What ``existing_type=``/``existing_nullable=`` say about the column before this
        call; rules use it when the replayed history never showed the column."""
        assert self.recorder is not None
        positional = ["column_name"] if batch is not None else ["table_name", "column_name"]
        bound = dict(zip(positional, args, strict=False))
        table = batch.table if batch is not None else bound.get("table_name")
        table = kwargs.get("table_name", table)
        column = kwargs.get("column_name", bound.get("column_name"))
        schema = kwargs.get("schema", batch.kwargs.get("schema") if batch is not None else None)
        if not isinstance(table, str) or not isinstance(column, str):
            return
        info: dict[str, object] = {}
        existing = kwargs.get("existing_type")
        if existing is not None:
            type_ = existing() if isinstance(existing, type) else existing
            # An application type stood in for by its name says nothing about the column.
            if not isinstance(type_, opaque_type_class()):
                # A type PostgreSQL cannot render (MySQL's MEDIUMTEXT) is left out.
                with contextlib.suppress(Exception):
                    info["type"] = self.recorder.compile_type(type_)
        nullable = kwargs.get("existing_nullable")
        if isinstance(nullable, bool):
            info["nullable"] = nullable
        qualified = f"{schema}.{table}" if isinstance(schema, str) and schema else table
        self.sink.fact(qualified, column, info)

    # --- fallback -----------------------------------------------------------------------

    def _literal(self, node: ast.expr, scope: Scope) -> object:
        value = self.eval(node, scope)
        unknown = find_opaque(value)
        if unknown is not None:
            raise unknown.fail(node)
        # The fallback reader is migcheck's code: it may see SQLAlchemy's real objects.
        return self._unwrapped(value)

    def _unwrapped(self, value: object, depth: int = 0) -> object:
        if isinstance(value, LibObject):
            return value.real
        if depth < 8 and type(value) in (list, tuple):
            return type(value)(self._unwrapped(v, depth + 1) for v in value)  # type: ignore[call-arg, attr-defined]
        if depth < 8 and type(value) is dict:
            return {k: self._unwrapped(v, depth + 1) for k, v in value.items()}
        return value

    def _fallback(
        self,
        name: str,
        node: ast.Call,
        scope: Scope,
        batch: BatchSpec | None,
        origin: str,
        exc: Unevaluable,
    ) -> None:
        recorder = self.recorder
        reader = FallbackReader(
            lambda n: self._literal(n, scope),
            compile_type=recorder.compile_type if recorder else None,
            compile_clause=recorder.compile if recorder else None,
        )
        batch_info = (batch.table, batch.kwargs.get("schema")) if batch is not None else None
        self.emitting = False
        try:
            sql = reader.read(name, node, batch_info)
        except Unevaluable as direct:
            detail = "" if exc.reason in direct.reason else f" (literal reading: {direct.reason})"
            self.note(
                node, f"`{origin}` not evaluated ({exc.reason}); its SQL is not checked{detail}"
            )
            return
        finally:
            self.emitting = True
        self.note(
            node,
            f"`{origin}` not evaluated ({exc.reason}); checked as read from its literal arguments",
        )
        start = None
        if name == "execute" and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Call) and arg.args:
                arg = arg.args[0]
            if isinstance(arg, ast.Constant) and arg.value == sql:
                start = self.source.string_content_start(arg)
        self.sink.chunk(
            node,
            sql,
            call_sites=self.call_stack,
            autocommit=self.autocommit,
            origin=origin,
            sql_start=start,
        )
