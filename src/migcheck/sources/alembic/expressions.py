"""Expression evaluation for the static reading of revision functions.

``ExpressionEvaluator`` evaluates Python expressions over the AST: literals, names,
attribute access, calls to SQLAlchemy and a few pure builtins, operators, containers,
f-strings, subscripts, lambdas and comprehensions. What it cannot know becomes an
``Opaque`` value; what needs a concrete value it does not have raises ``Unevaluable``.
Statements and helper functions are in ``interpret.py``; the Alembic parts (``op``
calls, imports) in ``evaluate.py``.
"""

from __future__ import annotations

import ast
import operator
import types
from collections.abc import Callable, Iterator
from typing import Any

from .handles import AutocommitBlock, BoundOp, Scope, UserFunction
from .recorder import BatchSpec
from .sink import Sink
from .values import (
    SAFE_BUILTINS,
    Opaque,
    Unevaluable,
    callable_refusal,
    find_opaque,
    is_noop,
    opaque_as_type,
)

MAX_STEPS = 200_000
MAX_LOOP = 10_000

_BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.BitAnd: operator.and_, ast.BitOr: operator.or_,
    ast.BitXor: operator.xor, ast.LShift: operator.lshift, ast.RShift: operator.rshift,
}  # fmt: skip
_CMPOPS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_,
    ast.IsNot: operator.is_not, ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}  # fmt: skip


class BudgetExceeded(Exception):
    """The function takes more steps than a migration plausibly needs."""


def dotted(node: ast.expr) -> str:
    """``op.add_column`` for an attribute chain of names; ``...`` for anything else."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call):
        parts.append(dotted(node.func) + "()")
    else:
        parts.append("...")
    return ".".join(reversed(parts))


# Bounds that keep a hostile or mistaken expression (``"x" * 10**9``) from hanging a lint.
_MAX_SEQUENCE = 1_000_000
_MAX_EXPONENT = 10_000


def _check_size(op: ast.operator, left: object, right: object, node: ast.AST) -> None:
    too_large = False
    if isinstance(op, ast.Mult):
        for seq, count in ((left, right), (right, left)):
            if (
                isinstance(seq, (str, bytes, list, tuple))
                and isinstance(count, int)
                and len(seq) * count > _MAX_SEQUENCE
            ):
                too_large = True
    elif isinstance(op, (ast.Pow, ast.LShift)) and isinstance(right, int):
        too_large = abs(right) > _MAX_EXPONENT
    if too_large:
        raise Unevaluable("the value would be too large", node)


def is_sqlalchemy(fn: object) -> bool:
    module = getattr(fn, "__module__", None) or type(fn).__module__
    return isinstance(module, str) and module.startswith("sqlalchemy")


class ExpressionEvaluator:
    """Evaluates expressions; subclasses add statements, functions and ``op`` calls."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.module = Scope()
        self.steps = 0
        self.depth = 0
        self.autocommit = False
        # Helper calls currently executing (their lines accept suppression comments).
        self.call_stack: list[ast.AST] = []
        # id(value) -> (value, string literal nodes that produced it): lets a SQL string
        # passed through variables still point back at its literal.
        self.origins: dict[int, tuple[object, list[ast.Constant]]] = {}
        # Stand-ins turned into column types, for notes after a call succeeds.
        self.conversions: list[Opaque] = []
        # id(object) -> (object, why): objects a refused call would have filled from the
        # database (``metadata.reflect(bind)``); what is read from them is unknown.
        self.tainted: dict[int, tuple[object, str]] = {}

    # --- hooks for the Alembic layer ----------------------------------------------------

    def op_call(self, bound: BoundOp, node: ast.Call, scope: Scope) -> object:
        raise Unevaluable("no operations in this context", node)

    def attribute_of_handle(self, base: object, attr: str, node: ast.Attribute) -> object:
        raise NotImplementedError

    def is_handle(self, value: object) -> bool:
        return False

    def call_with_handles(
        self, func: object, args: list[object], kwargs: dict[str, object], node: ast.Call
    ) -> object:
        """A library call given ``op.get_bind()`` (or the context): the Alembic layer
        renders the few it can (``enum.create(bind)``, ``clause.compile(bind)``)."""
        reason = (
            f"`{dotted(node.func)}(...)` needs a database connection, which static "
            "reading does not have"
        )
        owner = getattr(func, "__self__", None)
        if owner is not None and not isinstance(owner, (type, types.ModuleType)):
            self.tainted[id(owner)] = (
                owner,
                f"`{dotted(node.func)}(...)` would fill it from the database, which static "
                "reading does not have",
            )
        raise Unevaluable(reason, node)

    # Provided by ``Interpreter`` (statements and functions).

    def call_user(
        self, fn: UserFunction, args: list[object], kwargs: dict[str, object], node: ast.AST | None
    ) -> object:
        raise NotImplementedError

    def make_function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, scope: Scope
    ) -> UserFunction:
        raise NotImplementedError

    def assign(self, target: ast.AST, value: object, scope: Scope) -> None:
        raise NotImplementedError

    # --- helpers ------------------------------------------------------------------------

    def tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise BudgetExceeded()

    def note(self, where: ast.AST | int, message: str) -> None:
        self.sink.note(where, message)

    def lookup(self, name: str, scope: Scope, node: ast.AST) -> object:
        current: Scope | None = scope
        while current is not None:
            if name in current.names:
                return current.names[name]
            current = current.parent
        if name in self.module.names:
            return self.module.names[name]
        if name in SAFE_BUILTINS:
            return SAFE_BUILTINS[name]
        return Opaque(name, "it is not defined in this revision (or comes from a `*` import)")

    @staticmethod
    def concrete(value: object, node: ast.AST) -> object:
        if isinstance(value, Opaque):
            raise value.fail(node)
        return value

    def truth(self, node: ast.expr, scope: Scope) -> bool:
        value = self.concrete(self.eval(node, scope), node)
        try:
            return bool(value)
        except Exception as exc:
            raise Unevaluable(f"its truth value is not defined ({exc})", node) from None

    def iterate(self, value: object, node: ast.AST) -> Iterator[object]:
        value = self.concrete(value, node)
        if isinstance(value, (BoundOp, UserFunction, BatchSpec, AutocommitBlock)):
            raise Unevaluable("it is not iterable", node)
        try:
            iterator = iter(value)  # type: ignore[call-overload]
        except TypeError as exc:
            raise Unevaluable(str(exc), node) from None
        for count, item in enumerate(iterator):
            if count >= MAX_LOOP:
                raise Unevaluable(f"the loop runs more than {MAX_LOOP} times", node)
            yield item

    def record_origin(self, value: object, node: ast.Constant) -> None:
        entry = self.origins.get(id(value))
        if entry is None or entry[0] is not value:
            self.origins[id(value)] = (value, [node])
        elif node not in entry[1]:
            entry[1].append(node)

    def literal_node(self, value: object) -> ast.Constant | None:
        """The one string literal ``value`` came from, if it is unambiguous."""
        entry = self.origins.get(id(value))
        if entry is None or entry[0] is not value:
            return None
        nodes = entry[1]
        first = nodes[0]
        if all((n.lineno, n.col_offset) == (first.lineno, first.col_offset) for n in nodes):
            return first
        return None

    # --- expressions --------------------------------------------------------------------

    def eval(self, node: ast.expr, scope: Scope) -> object:
        method = getattr(self, f"_eval_{type(node).__name__}", None)
        if method is None:
            raise Unevaluable(f"`{type(node).__name__}` expressions are not evaluated", node)
        result: object = method(node, scope)
        return result

    def _eval_Constant(self, node: ast.Constant, scope: Scope) -> object:
        if isinstance(node.value, str):
            self.record_origin(node.value, node)
        return node.value

    def _eval_Name(self, node: ast.Name, scope: Scope) -> object:
        return self.lookup(node.id, scope, node)

    def _eval_Attribute(self, node: ast.Attribute, scope: Scope) -> object:
        base = self.eval(node.value, scope)
        attr = node.attr
        if isinstance(base, Opaque):
            return base.child(attr)
        taint = self.tainted.get(id(base))
        if taint is not None and taint[0] is base:
            return Opaque(dotted(node), taint[1])
        if self.is_handle(base) or isinstance(base, BatchSpec):
            return self.attribute_of_handle(base, attr, node)
        if attr.startswith("__") or isinstance(base, (UserFunction, BoundOp)):
            raise Unevaluable(f"attribute `{attr}` is not evaluated", node)
        try:
            return getattr(base, attr)
        except Exception as exc:
            raise Unevaluable(
                f"`{dotted(node)}` failed: {type(exc).__name__}: {exc}", node
            ) from None

    def _eval_Call(self, node: ast.Call, scope: Scope) -> object:
        return self.call(node, scope)

    def eval_args(self, node: ast.Call, scope: Scope) -> tuple[list[object], dict[str, object]]:
        args: list[object] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                args.extend(self.iterate(self.eval(arg.value, scope), arg))
            else:
                args.append(self.eval(arg, scope))
        kwargs: dict[str, object] = {}
        for keyword in node.keywords:
            value = self.eval(keyword.value, scope)
            if keyword.arg is None:
                mapping = self.concrete(value, keyword.value)
                if not isinstance(mapping, dict):
                    raise Unevaluable("`**` of something that is not a dict", keyword.value)
                kwargs.update(mapping)
            else:
                kwargs[keyword.arg] = value
        return args, kwargs

    def call(self, node: ast.Call, scope: Scope, statement: bool = False) -> object:
        self.tick()
        func = self.eval(node.func, scope)
        if isinstance(func, BoundOp):
            return self.op_call(func, node, scope)
        if is_noop(func):
            return None  # print(), logger.info(...): nothing to evaluate, not even arguments
        args, kwargs = self.eval_args(node, scope)
        if isinstance(func, Opaque):
            if statement:
                raise Unevaluable(f"`{func.name}(...)` is not evaluated ({func.reason})", node)
            return func.called()
        if isinstance(func, UserFunction):
            return self.call_user(func, args, kwargs, node)
        refusal = callable_refusal(func)
        if refusal is not None:
            raise Unevaluable(refusal, node)
        if any(self.is_handle(v) for v in [*args, *kwargs.values()]):
            return self.call_with_handles(func, args, kwargs, node)
        mark = len(self.conversions)
        if is_sqlalchemy(func):
            args = [self._as_library_arg(a) for a in args]
            kwargs = {k: self._as_library_kwarg(k, v) for k, v in kwargs.items()}
        else:
            unknown = find_opaque(args) or find_opaque(kwargs)
            if unknown is not None:
                raise unknown.fail(node)
        try:
            result = func(*args, **kwargs)  # type: ignore[operator]
        except Unevaluable:
            raise
        except Exception as exc:
            if len(self.conversions) > mark:
                # A stand-in in a place that needs a real value: blame the stand-in.
                raise self.conversions[mark].fail(node) from None
            raise Unevaluable(
                f"`{dotted(node.func)}(...)` failed: {type(exc).__name__}: {exc}", node
            ) from None
        if (
            type(result).__name__ == "TextClause"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            self.record_origin(result, node.args[0])
        return result

    def _as_library_arg(self, value: object) -> object:
        """Stand-ins passed positionally to SQLAlchemy are column types (``GUID()``)."""
        if isinstance(value, Opaque):
            self.conversions.append(value)
            return opaque_as_type(value)
        if isinstance(value, list):
            return [self._as_library_arg(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._as_library_arg(v) for v in value)
        return value

    def _as_library_kwarg(self, key: str, value: object) -> object:
        if key in ("type_", "existing_type"):
            return self._as_library_arg(value)
        unknown = find_opaque(value)
        if unknown is not None:
            raise unknown.fail()
        return value

    def _eval_BinOp(self, node: ast.BinOp, scope: Scope) -> object:
        left = self.concrete(self.eval(node.left, scope), node.left)
        right = self.concrete(self.eval(node.right, scope), node.right)
        if isinstance(left, str) and isinstance(node.op, ast.Mod) and "__" in left:
            raise Unevaluable("format strings that reach into attributes are not evaluated", node)
        _check_size(node.op, left, right, node)
        try:
            return _BINOPS[type(node.op)](left, right)
        except Exception as exc:
            raise Unevaluable(f"operation failed: {type(exc).__name__}: {exc}", node) from None

    def _eval_UnaryOp(self, node: ast.UnaryOp, scope: Scope) -> object:
        if isinstance(node.op, ast.Not):
            return not self.truth(node.operand, scope)
        value = self.concrete(self.eval(node.operand, scope), node.operand)
        ops: dict[type[ast.unaryop], Callable[[Any], Any]] = {
            ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert,
        }  # fmt: skip
        try:
            return ops[type(node.op)](value)
        except Exception as exc:
            raise Unevaluable(f"operation failed: {exc}", node) from None

    def _eval_BoolOp(self, node: ast.BoolOp, scope: Scope) -> object:
        value: object = None
        for operand in node.values:
            value = self.concrete(self.eval(operand, scope), operand)
            try:
                truth = bool(value)
            except Exception as exc:
                raise Unevaluable(f"its truth value is not defined ({exc})", operand) from None
            if isinstance(node.op, ast.And) != truth:
                return value
        return value

    def _eval_Compare(self, node: ast.Compare, scope: Scope) -> object:
        left = self.concrete(self.eval(node.left, scope), node.left)
        result: object = True
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.concrete(self.eval(comparator, scope), comparator)
            try:
                result = _CMPOPS[type(op)](left, right)
                if not isinstance(result, bool):
                    return result  # a SQLAlchemy expression such as ``col == 1``
            except Exception as exc:
                raise Unevaluable(f"comparison failed: {exc}", node) from None
            if not result:
                return False
            left = right
        return result

    def _eval_IfExp(self, node: ast.IfExp, scope: Scope) -> object:
        return self.eval(node.body if self.truth(node.test, scope) else node.orelse, scope)

    def _elements(self, elts: list[ast.expr], scope: Scope) -> list[object]:
        out: list[object] = []
        for element in elts:
            if isinstance(element, ast.Starred):
                out.extend(self.iterate(self.eval(element.value, scope), element))
            else:
                out.append(self.eval(element, scope))
        return out

    def _eval_List(self, node: ast.List, scope: Scope) -> object:
        return self._elements(node.elts, scope)

    def _eval_Tuple(self, node: ast.Tuple, scope: Scope) -> object:
        return tuple(self._elements(node.elts, scope))

    def _eval_Set(self, node: ast.Set, scope: Scope) -> object:
        try:
            return set(self._elements(node.elts, scope))
        except TypeError as exc:
            raise Unevaluable(str(exc), node) from None

    def _eval_Dict(self, node: ast.Dict, scope: Scope) -> object:
        out: dict[Any, object] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                mapping = self.concrete(self.eval(value, scope), value)
                if not isinstance(mapping, dict):
                    raise Unevaluable("`**` of something that is not a dict", value)
                out.update(mapping)
                continue
            k = self.concrete(self.eval(key, scope), key)
            try:
                out[k] = self.eval(value, scope)
            except TypeError as exc:
                raise Unevaluable(str(exc), key) from None
        return out

    def _eval_JoinedStr(self, node: ast.JoinedStr, scope: Scope) -> object:
        parts: list[str] = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                parts.append(str(self._eval_FormattedValue(value, scope)))
            else:
                raise Unevaluable("unsupported f-string part", value)
        return "".join(parts)

    def _eval_FormattedValue(self, node: ast.FormattedValue, scope: Scope) -> object:
        value = self.concrete(self.eval(node.value, scope), node.value)
        if node.conversion == ord("r"):
            value = repr(value)
        elif node.conversion == ord("s"):
            value = str(value)
        elif node.conversion == ord("a"):
            value = ascii(value)
        spec = ""
        if node.format_spec is not None:
            spec = str(self.eval(node.format_spec, scope))
        try:
            return format(value, spec)
        except Exception as exc:
            raise Unevaluable(f"formatting failed: {exc}", node) from None

    def _eval_Subscript(self, node: ast.Subscript, scope: Scope) -> object:
        base = self.eval(node.value, scope)
        if isinstance(base, Opaque):
            return base.item()
        key = self.concrete(self.eval(node.slice, scope), node.slice)
        try:
            return base[key]  # type: ignore[index]
        except Exception as exc:
            raise Unevaluable(f"subscript failed: {type(exc).__name__}: {exc}", node) from None

    def _eval_Slice(self, node: ast.Slice, scope: Scope) -> object:
        parts = [
            self.concrete(self.eval(p, scope), p) if p is not None else None
            for p in (node.lower, node.upper, node.step)
        ]
        return slice(*parts)

    def _eval_Lambda(self, node: ast.Lambda, scope: Scope) -> object:
        return self.make_function(node, scope)

    def _eval_NamedExpr(self, node: ast.NamedExpr, scope: Scope) -> object:
        value = self.eval(node.value, scope)
        self.assign(node.target, value, scope)
        return value

    def _comprehension(
        self, generators: list[ast.comprehension], scope: Scope, emit: Callable[[Scope], None]
    ) -> None:
        local = Scope(parent=scope)

        def walk(index: int) -> None:
            if index == len(generators):
                emit(local)
                return
            gen = generators[index]
            for item in self.iterate(self.eval(gen.iter, local), gen.iter):
                self.assign(gen.target, item, local)
                if all(self.truth(cond, local) for cond in gen.ifs):
                    walk(index + 1)

        walk(0)

    def _eval_ListComp(self, node: ast.ListComp, scope: Scope) -> object:
        out: list[object] = []
        self._comprehension(node.generators, scope, lambda s: out.append(self.eval(node.elt, s)))
        return out

    def _eval_GeneratorExp(self, node: ast.GeneratorExp, scope: Scope) -> object:
        out: list[object] = []
        self._comprehension(node.generators, scope, lambda s: out.append(self.eval(node.elt, s)))
        return iter(out)

    def _eval_SetComp(self, node: ast.SetComp, scope: Scope) -> object:
        out: list[object] = []
        self._comprehension(node.generators, scope, lambda s: out.append(self.eval(node.elt, s)))
        try:
            return set(out)
        except TypeError as exc:
            raise Unevaluable(str(exc), node) from None

    def _eval_DictComp(self, node: ast.DictComp, scope: Scope) -> object:
        out: dict[Any, object] = {}

        def emit(s: Scope) -> None:
            out[self.concrete(self.eval(node.key, s), node.key)] = self.eval(node.value, s)

        self._comprehension(node.generators, scope, emit)
        return out
