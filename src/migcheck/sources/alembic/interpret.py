"""Statements and helper functions for the static reading of revision functions.

``Interpreter`` runs ``upgrade()``/``downgrade()`` statement by statement: assignments,
``if``/``for``/``while``/``with``/``try``, ``return``/``raise``, and helper functions
defined in the same file, called with evaluated arguments. It never imports the revision
or the application and only holds and calls closed-world values (``world.py``).

Control flow it cannot decide is read conservatively: both branches of an unknown
``if``, one pass over an unknown loop, each with a note. A ``return``, ``raise``,
``break`` or ``continue`` inside a branch of an unknown ``if`` ends only that branch: the
statements after the ``if`` run when the other branch is taken, so they are checked too
(``if column_exists(): return`` guards the whole migration). A helper that returned from
such a branch has an unknown result, and a ``while`` loop that may have broken out of one
stops after that pass. ``Evaluator`` (evaluate.py) adds the Alembic parts: ``op`` calls
and imports.
"""

from __future__ import annotations

import ast

from .expressions import MAX_LOOP, ExpressionEvaluator, dotted
from .handles import AutocommitBlock, Scope, UserFunction
from .notes import BOTH_BRANCHES
from .recorder import BatchSpec
from .sink import Sink
from .values import Opaque, Unevaluable

MAX_DEPTH = 40


class _Return(Exception):
    def __init__(self, value: object) -> None:
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Raised(Exception):
    """A ``raise`` statement was reached: the real function would stop here."""

    def __init__(self, node: ast.Raise) -> None:
        self.node = node


class Interpreter(ExpressionEvaluator):
    """Statement execution and helper-function calls on top of expression evaluation."""

    # Per helper call: whether a ``return`` was skipped in an undecided branch (the
    # result is then unknown). Per ``while`` loop: whether a ``break`` was.
    _returned_maybe: list[bool]
    _broke_maybe: list[bool]

    def __init__(self, sink: Sink) -> None:
        super().__init__(sink)
        self._returned_maybe = []
        self._broke_maybe = []

    def bind_import(self, stmt: ast.Import | ast.ImportFrom, scope: Scope) -> None:
        raise NotImplementedError

    # --- statements ---------------------------------------------------------------------

    def exec_block(self, body: list[ast.stmt], scope: Scope) -> None:
        for stmt in body:
            self.exec(stmt, scope)

    def exec(self, stmt: ast.stmt, scope: Scope) -> None:
        self.tick()
        method = getattr(self, f"_exec_{type(stmt).__name__}", None)
        if method is None:
            self.note(
                stmt,
                f"`{type(stmt).__name__}` statement not evaluated; SQL it may run is not checked",
            )
            return
        method(stmt, scope)

    def _exec_Expr(self, stmt: ast.Expr, scope: Scope) -> None:
        if isinstance(stmt.value, ast.Constant):
            return  # docstring or bare literal
        marks = (len(self.unknown_calls), len(self.sink.chunks), len(self.sink.notes))
        try:
            if isinstance(stmt.value, ast.Call):
                self.call(stmt.value, scope, statement=True)
            else:
                self.eval(stmt.value, scope)
            # ``[os.system(c) for c in ...]``, ``(lambda: helper())()``: a statement that
            # called something unknown and neither emitted SQL nor was noted may have run
            # SQL migcheck cannot see.
            if len(self.unknown_calls) > marks[0] and marks[1:] == (
                len(self.sink.chunks),
                len(self.sink.notes),
            ):
                unknown = self.unknown_calls[marks[0]]
                raise Unevaluable(f"`{unknown.name}` is not evaluated ({unknown.reason})", stmt)
        except Unevaluable as exc:
            self.note(
                exc.node or stmt, f"not evaluated: {exc.reason}; SQL it may run is not checked"
            )

    def _exec_Assign(self, stmt: ast.Assign, scope: Scope) -> None:
        value = self.eval_or_opaque(stmt.value, scope, stmt.targets[0])
        for target in stmt.targets:
            self.assign(target, value, scope)

    def _exec_AnnAssign(self, stmt: ast.AnnAssign, scope: Scope) -> None:
        if stmt.value is not None:
            self.assign(stmt.target, self.eval_or_opaque(stmt.value, scope, stmt.target), scope)

    def _exec_AugAssign(self, stmt: ast.AugAssign, scope: Scope) -> None:
        load: ast.expr
        if isinstance(stmt.target, ast.Name):
            load = ast.Name(stmt.target.id, ast.Load())
        elif isinstance(stmt.target, ast.Subscript):
            load = ast.Subscript(stmt.target.value, stmt.target.slice, ast.Load())
        else:
            return
        ast.copy_location(load, stmt.target)
        expr = ast.copy_location(ast.BinOp(load, stmt.op, stmt.value), stmt)
        self.assign(stmt.target, self.eval_or_opaque(expr, scope, stmt.target), scope)

    def _exec_If(self, stmt: ast.If, scope: Scope) -> None:
        try:
            branch = self.truth(stmt.test, scope)
        except Unevaluable as exc:
            self.note(stmt, f"condition not evaluated ({exc.reason}); {BOTH_BRANCHES}")
            start = len(self.sink.chunks)
            self._exec_branch(stmt.body, scope)
            middle = len(self.sink.chunks)
            self._exec_branch(stmt.orelse, scope)
            # Only one branch runs, so SQL both branches send (``if fk is None: add it
            # else: drop it and add it``) is one statement, where the first branch sends it.
            first = {c.sql for c in self.sink.chunks[start:middle]}
            self.sink.chunks[middle:] = [c for c in self.sink.chunks[middle:] if c.sql not in first]
            return
        self.exec_block(stmt.body if branch else stmt.orelse, scope)

    def _exec_branch(self, body: list[ast.stmt], scope: Scope) -> None:
        """One branch of an undecided ``if``: leaving it (return, raise, break, continue)
        does not leave the function, because the other branch may be the one taken."""
        try:
            self.exec_block(body, scope)
        except _Return:
            if self._returned_maybe:
                self._returned_maybe[-1] = True
        except _Break:
            if self._broke_maybe:
                self._broke_maybe[-1] = True
        except (Raised, _Continue):
            pass

    def _exec_For(self, stmt: ast.For, scope: Scope) -> None:
        try:
            items = list(self.iterate(self.eval(stmt.iter, scope), stmt.iter))
        except Unevaluable as exc:
            self.note(stmt, f"loop not evaluated ({exc.reason}); its body is checked once")
            name = dotted(stmt.target) if isinstance(stmt.target, ast.Name) else dotted(stmt.iter)
            self.assign(
                stmt.target, Opaque(name, f"it iterates over an unknown value: {exc.reason}"), scope
            )
            self._loop_body(stmt.body, scope)
            return
        for item in items:
            self.assign(stmt.target, item, scope)
            if self._loop_body(stmt.body, scope):
                return
        self.exec_block(stmt.orelse, scope)

    def _loop_body(self, body: list[ast.stmt], scope: Scope) -> bool:
        """Run one iteration; True when it ended with ``break``."""
        try:
            self.exec_block(body, scope)
        except _Break:
            return True
        except _Continue:
            pass
        return False

    def _exec_While(self, stmt: ast.While, scope: Scope) -> None:
        for _ in range(MAX_LOOP):
            try:
                if not self.truth(stmt.test, scope):
                    self.exec_block(stmt.orelse, scope)
                    return
            except Unevaluable as exc:
                self.note(stmt, f"loop not evaluated ({exc.reason}); its body is checked once")
                self._loop_body(stmt.body, scope)
                return
            self._broke_maybe.append(False)
            try:
                broke = self._loop_body(stmt.body, scope)
            finally:
                maybe = self._broke_maybe.pop()
            # ``while True: ... if <unknown>: break`` (a batched backfill) is read once:
            # another pass would check the same statements again.
            if broke or maybe:
                return
        self.note(stmt, f"loop stopped after {MAX_LOOP} iterations")

    def _exec_With(self, stmt: ast.With, scope: Scope) -> None:
        saved = self.autocommit
        try:
            for item in stmt.items:
                try:
                    value = self.eval(item.context_expr, scope)
                except Unevaluable as exc:
                    self.note(item.context_expr, f"`with` context not evaluated: {exc.reason}")
                    value = Opaque(dotted(item.context_expr), exc.reason)
                if isinstance(value, AutocommitBlock):
                    self.autocommit = True
                    target_value: object = None
                elif isinstance(value, BatchSpec) or self.is_handle(value):
                    target_value = value
                else:
                    if isinstance(value, Opaque):
                        # Entering and leaving an unknown context manager may run anything.
                        self.note(
                            item.context_expr,
                            f"`with` context not evaluated: `{value.name}` is unknown "
                            f"({value.reason})",
                        )
                    target_value = Opaque(
                        dotted(item.context_expr), "migcheck does not enter this context manager"
                    )
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, target_value, scope)
            self.exec_block(stmt.body, scope)
        finally:
            self.autocommit = saved

    def _exec_Return(self, stmt: ast.Return, scope: Scope) -> None:
        value = self.eval_or_opaque(stmt.value, scope, stmt) if stmt.value else None
        raise _Return(value)

    def _exec_Pass(self, stmt: ast.Pass, scope: Scope) -> None:
        return

    def _exec_Break(self, stmt: ast.Break, scope: Scope) -> None:
        raise _Break()

    def _exec_Continue(self, stmt: ast.Continue, scope: Scope) -> None:
        raise _Continue()

    def _exec_Raise(self, stmt: ast.Raise, scope: Scope) -> None:
        raise Raised(stmt)

    def _exec_Assert(self, stmt: ast.Assert, scope: Scope) -> None:
        return

    def _exec_Global(self, stmt: ast.Global, scope: Scope) -> None:
        return

    def _exec_Nonlocal(self, stmt: ast.Nonlocal, scope: Scope) -> None:
        return

    def _exec_Delete(self, stmt: ast.Delete, scope: Scope) -> None:
        for target in stmt.targets:
            if isinstance(target, ast.Name):
                scope.names.pop(target.id, None)

    def _exec_Import(self, stmt: ast.Import, scope: Scope) -> None:
        self.bind_import(stmt, scope)

    def _exec_ImportFrom(self, stmt: ast.ImportFrom, scope: Scope) -> None:
        self.bind_import(stmt, scope)

    def _exec_FunctionDef(self, stmt: ast.FunctionDef, scope: Scope) -> None:
        scope.names[stmt.name] = self.make_function(stmt, scope)

    def _exec_ClassDef(self, stmt: ast.ClassDef, scope: Scope) -> None:
        scope.names[stmt.name] = Opaque(
            stmt.name, "classes defined in a revision are not evaluated"
        )

    def _exec_Try(self, stmt: ast.Try, scope: Scope) -> None:
        try:
            try:
                self.exec_block(stmt.body, scope)
            except Raised:
                if not stmt.handlers:
                    raise
                # The raise would be caught; which handler matches is not decided here.
                self.exec_block(stmt.handlers[0].body, scope)
            else:
                self.exec_block(stmt.orelse, scope)
        finally:
            self.exec_block(stmt.finalbody, scope)

    # --- assignment ---------------------------------------------------------------------

    def eval_or_opaque(self, node: ast.expr, scope: Scope, target: ast.AST) -> object:
        """Evaluate; an unknown value is bound as ``Opaque`` (noted only if it matters)."""
        try:
            return self.eval(node, scope)
        except Unevaluable as exc:
            name = dotted(target) if isinstance(target, ast.expr) else "value"
            return Opaque(name, exc.reason)

    def assign(self, target: ast.AST, value: object, scope: Scope) -> None:
        if isinstance(target, ast.Name):
            scope.names[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, Opaque):
                for element in target.elts:
                    inner = element.value if isinstance(element, ast.Starred) else element
                    self.assign(inner, value.item(), scope)
                return
            try:
                items = list(self.iterate(value, target))
            except Unevaluable as exc:
                for element in target.elts:
                    self.assign(element, Opaque(dotted(target), exc.reason), scope)
                return
            self._unpack(target.elts, items, scope, target)
        elif isinstance(target, ast.Subscript):
            container = self.eval_or_opaque(target.value, scope, target)
            if isinstance(container, (dict, list)):
                try:
                    key = self.concrete(self.eval(target.slice, scope), target)
                    container[key] = value  # type: ignore[call-overload]
                except (Unevaluable, LookupError, TypeError):
                    return
        # Attribute targets (``obj.attr = ...``) are not modelled: they only matter for
        # objects migcheck does not track.

    def _unpack(
        self, elts: list[ast.expr], items: list[object], scope: Scope, node: ast.AST
    ) -> None:
        star = next((i for i, e in enumerate(elts) if isinstance(e, ast.Starred)), None)
        if star is None:
            if len(items) != len(elts):
                raise Unevaluable("unpacking does not match", node)
            for element, item in zip(elts, items, strict=True):
                self.assign(element, item, scope)
            return
        after = len(elts) - star - 1
        head, rest = items[:star], items[star:]
        middle, tail = (
            (rest[: len(rest) - after], rest[len(rest) - after :]) if after else (rest, [])
        )
        for element, item in zip(elts[:star], head, strict=False):
            self.assign(element, item, scope)
        starred = elts[star]
        assert isinstance(starred, ast.Starred)
        self.assign(starred.value, list(middle), scope)
        for element, item in zip(elts[star + 1 :], tail, strict=False):
            self.assign(element, item, scope)

    # --- functions ----------------------------------------------------------------------

    def make_function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, scope: Scope
    ) -> UserFunction:
        name = node.name if not isinstance(node, ast.Lambda) else "<lambda>"
        fn = UserFunction(node=node, scope=scope, name=name)
        fn.defaults = [self.eval_or_opaque(d, scope, d) for d in node.args.defaults]
        for arg, default in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True):
            if default is not None:
                fn.kw_defaults[arg.arg] = self.eval_or_opaque(default, scope, default)
        return fn

    def call_user(
        self, fn: UserFunction, args: list[object], kwargs: dict[str, object], node: ast.AST | None
    ) -> object:
        if isinstance(fn.node, ast.AsyncFunctionDef):
            raise Unevaluable(f"`{fn.name}` is async", node)
        if self.depth >= MAX_DEPTH:
            raise Unevaluable(f"helper calls nest deeper than {MAX_DEPTH}", node)
        local = Scope(parent=fn.scope)
        self._bind_params(fn, args, kwargs, local, node)
        self.depth += 1
        if node is not None:
            self.call_stack.append(node)
        self._returned_maybe.append(False)
        result: object = None
        try:
            if isinstance(fn.node, ast.Lambda):
                result = self.eval(fn.node.body, local)
            else:
                self.exec_block(fn.node.body, local)
        except _Return as ret:
            result = ret.value
        except Raised:
            # ``for c in <unknown>: if <unknown>: return c`` then ``raise NotFound``: the
            # raise is only reached when no branch returned, so the call may well return.
            if not self._returned_maybe[-1]:
                raise
        finally:
            self.depth -= 1
            if node is not None:
                self.call_stack.pop()
            maybe = self._returned_maybe.pop()
        if maybe:
            return Opaque(
                f"{fn.name}()", "it returns from a branch of a condition migcheck did not evaluate"
            )
        return result

    @staticmethod
    def _bind_params(
        fn: UserFunction,
        args: list[object],
        kwargs: dict[str, object],
        local: Scope,
        node: ast.AST | None,
    ) -> None:
        spec = fn.node.args
        positional = [a.arg for a in [*spec.posonlyargs, *spec.args]]
        values = dict(zip(positional, args, strict=False))
        if len(args) > len(positional):
            if spec.vararg is None:
                raise Unevaluable(f"`{fn.name}` takes {len(positional)} positional arguments", node)
            local.names[spec.vararg.arg] = tuple(args[len(positional) :])
        elif spec.vararg is not None:
            local.names[spec.vararg.arg] = ()
        extra: dict[str, object] = {}
        known = set(positional) | {a.arg for a in spec.kwonlyargs}
        for key, value in kwargs.items():
            if key in known:
                values[key] = value
            elif spec.kwarg is not None:
                extra[key] = value
            else:
                raise Unevaluable(f"`{fn.name}` has no parameter `{key}`", node)
        if spec.kwarg is not None:
            local.names[spec.kwarg.arg] = extra
        defaults = dict(
            zip(positional[len(positional) - len(fn.defaults) :], fn.defaults, strict=True)
        )
        defaults.update(fn.kw_defaults)
        for name in [*positional, *(a.arg for a in spec.kwonlyargs)]:
            if name in values:
                local.names[name] = values[name]
            elif name in defaults:
                local.names[name] = defaults[name]
            else:
                raise Unevaluable(f"`{fn.name}` is called without `{name}`", node)
