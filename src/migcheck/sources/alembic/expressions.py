"""Expression evaluation for the static reading of revision functions.

``ExpressionEvaluator`` evaluates Python expressions over the AST: literals, names,
attribute access, calls, operators, containers, f-strings, subscripts, lambdas and
comprehensions, over the closed world of ``world.py``: every call goes through
``call_value`` to a revision function, a migcheck builtin (``pureops.py``) or the
SQLAlchemy membrane. What it cannot know becomes an
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

from .handles import BoundOp, Scope, UserFunction
from .purecalls import BUILTINS, call_method, has_method
from .pureops import BINOPS, binop, check_binop, is_plain, plain_format, plain_str
from .recorder import BatchSpec
from .sink import Sink
from .values import Opaque, Unevaluable
from .world import (
    MAX_NESTING,
    MAX_SIZE,
    SCALARS,
    Builtin,
    DialectModel,
    LibObject,
    Membrane,
    Partial,
    PlainMethod,
    StdModule,
    check_unfolded,
    describe,
)

MAX_STEPS = 200_000
MAX_LOOP = 10_000
# Characters and items created while evaluating one function: bounds the memory and time
# a revision can make migcheck spend (``for _ in range(10000): s = s + s``).
MAX_CELLS = 20_000_000
# Nesting of one expression (a 20,000-term ``a + a + ...`` would overflow the stack).
MAX_EXPR_NESTING = 100

_CMPOPS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_,
    ast.IsNot: operator.is_not, ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}  # fmt: skip
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert,
}  # fmt: skip


def _as_builtin(value: object) -> object:
    """The ``str``/``int``/... a construct subclasses, for size checks, else None."""
    if isinstance(value, LibObject):
        real = value.real
        return real if isinstance(real, (str, bytes, int, float, list, tuple)) else None
    return value


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
        self.cells = 0
        self.nesting = 0
        # Results of calls to unknown functions made in expressions, in order.
        self.unknown_calls: list[Opaque] = []
        self.membrane = Membrane(self.conversions, self.real_dialect, self.charge)

    def real_dialect(self) -> object:
        """What ``DialectModel`` becomes when passed to SQLAlchemy."""
        raise Unevaluable("the dialect is only known when rendering with Alembic")

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
        owner = func.owner if isinstance(func, LibObject) else None
        # Only an object a method fills (``metadata.reflect(bind)``) becomes unknown; a
        # module function given the bind (``sa.inspect(bind)``) fills nothing of the module.
        if owner is not None and not isinstance(owner.real, types.ModuleType):
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

    def charge(self, cells: int) -> None:
        """Count ``cells`` characters or items created against the evaluation's budget."""
        self.cells += cells
        if self.cells > MAX_CELLS:
            raise BudgetExceeded()

    def deep(self, value: object, node: ast.AST | None) -> None:
        """Before Python walks ``value`` deeply (``==``, hashing, copying): bound it."""
        if type(value) in (list, tuple, dict, set, frozenset):
            self.charge(check_unfolded(value, node))

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
        if name in BUILTINS:
            return BUILTINS[name]
        return Opaque(name, "it is not defined in this revision (or comes from a `*` import)")

    @staticmethod
    def concrete(value: object, node: ast.AST) -> object:
        if isinstance(value, Opaque):
            raise value.fail(node)
        return value

    def truth(self, node: ast.expr, scope: Scope) -> bool:
        return self.truth_value(self.eval(node, scope), node)

    def truth_value(self, value: object, node: ast.AST) -> bool:
        value = self.concrete(value, node)
        if isinstance(value, LibObject):
            result = self.membrane.apply("bool(...)", lambda: bool(value.real), node, "bool", value)
            assert isinstance(result, bool)
            return result
        if is_plain(value):
            return bool(value)
        return True  # a function, a handle: objects are true

    def iterate(self, value: object, node: ast.AST) -> Iterator[object]:
        value = self.concrete(value, node)
        if isinstance(value, LibObject):
            real = value.real
            listed = self.membrane.apply(
                f"{value.path}[...]", lambda: self._lib_items(real), node, "iter", value
            )
            if isinstance(listed, Opaque):
                raise listed.fail(node)
            assert isinstance(listed, list)
            yield from listed
            return
        items: Any = value
        if type(value) is dict:
            items = list(items)
        elif not is_plain(value) or (type(value) in SCALARS and type(value) is not str):
            raise Unevaluable("it is not iterable", node)
        for count, item in enumerate(items):
            if count >= MAX_LOOP:
                raise Unevaluable(f"the loop runs more than {MAX_LOOP} times", node)
            yield item

    @staticmethod
    def _lib_items(real: object) -> list[object]:
        out: list[object] = []
        for item in real:  # type: ignore[attr-defined]
            if len(out) >= MAX_LOOP:
                raise ValueError(f"it has more than {MAX_LOOP} items")
            out.append(item)
        return out

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
        if self.nesting >= MAX_EXPR_NESTING:
            raise Unevaluable("the expression nests too deeply to evaluate", node)
        self.nesting += 1
        try:
            result: object = method(node, scope)
        finally:
            self.nesting -= 1
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
        if attr.startswith("_"):
            raise Unevaluable(f"attribute `{attr}` is not evaluated", node)
        if isinstance(base, LibObject):
            return self.membrane.getattr(base, attr, node)
        if isinstance(base, StdModule):
            if attr in base.members:
                return base.members[attr]
            return Opaque(f"{base.name}.{attr}", base.missing)
        if isinstance(base, DialectModel):
            if attr == "name":
                return base.name
            return Opaque(dotted(node), "only the dialect's name is known when reading statically")
        if is_plain(base) and has_method(base, attr):
            return PlainMethod(base, attr)
        raise Unevaluable(f"`{dotted(node)}` is not evaluated", node)

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
        if isinstance(func, Builtin) and func.noop:
            return None  # print(), logger.info(...): nothing to evaluate, not even arguments
        args, kwargs = self.eval_args(node, scope)
        if isinstance(func, Opaque):
            if statement:
                raise Unevaluable(f"`{func.name}(...)` is not evaluated ({func.reason})", node)
            unknown = func.called()
            self.unknown_calls.append(unknown)
            return unknown
        result = self.call_value(func, args, kwargs, node)
        if (
            isinstance(result, LibObject)
            and type(result.real).__name__ == "TextClause"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            self.record_origin(result, node.args[0])
        return result

    def call_value(
        self, func: object, args: list[object], kwargs: dict[str, object], node: ast.AST
    ) -> object:
        """Call a closed-world callable: the only calls evaluation ever makes."""
        self.tick()
        if isinstance(func, UserFunction):
            return self.call_user(func, args, kwargs, node)
        if isinstance(func, Builtin):
            return func.fn(self, args, kwargs, node)
        if isinstance(func, PlainMethod):
            return call_method(self, func.owner, func.name, args, kwargs, node)
        if isinstance(func, Partial):
            return self.call_value(func.func, [*func.args, *args], {**func.kwargs, **kwargs}, node)
        if isinstance(func, Opaque):
            # Called by a builtin (``map``, ``sorted(key=...)``, ``partial``): what an
            # unknown function does when called is unknown, and may be anything.
            raise Unevaluable(f"`{func.name}(...)` is not evaluated ({func.reason})", node)
        if isinstance(func, LibObject):
            if any(self.is_handle(v) for v in [*args, *kwargs.values()]):
                assert isinstance(node, ast.Call)
                return self.call_with_handles(func, args, kwargs, node)
            mark = len(self.conversions)
            try:
                return self.membrane.call(func, args, kwargs, node)
            except Unevaluable:
                if len(self.conversions) > mark:
                    # A stand-in in a place that needs a real value: blame the stand-in.
                    raise self.conversions[mark].fail(node) from None
                raise
        label = dotted(node.func) if isinstance(node, ast.Call) else "it"
        raise Unevaluable(f"`{label}` is not something migcheck calls", node)

    def _lib_operation(
        self, fn: Callable[..., Any], operands: list[object], node: ast.AST
    ) -> object:
        """An operator with a SQLAlchemy construct as an operand (``col == 1``)."""
        reals = [self.membrane.to_real(v) for v in operands]
        return self.membrane.apply("expression", lambda: fn(*reals), node, "", operands)

    def _eval_BinOp(self, node: ast.BinOp, scope: Scope) -> object:
        left = self.concrete(self.eval(node.left, scope), node.left)
        right = self.concrete(self.eval(node.right, scope), node.right)
        if isinstance(left, LibObject) or isinstance(right, LibObject):
            # A construct may be a ``str`` underneath (``op.f("ix")``): the same size
            # limits apply as to plain values.
            check_binop(node.op, _as_builtin(left), _as_builtin(right), node)
            return self._lib_operation(BINOPS[type(node.op)], [left, right], node)
        if isinstance(node.op, ast.Mod) and type(left) is str:
            self.deep(right, node)
            right = self._format_args(right, node)
        result = binop(node.op, left, right, node)
        if type(result) in (str, bytes, list, tuple):
            self.charge(len(result))  # type: ignore[arg-type]
        return result

    def _format_args(self, value: object, node: ast.AST, depth: int = 0) -> object:
        """The right side of ``"..." % value``: constructs become their SQL text (as
        ``str()`` would make them) so Python never formats a closed-world wrapper."""
        if isinstance(value, LibObject):
            return plain_str(value, node, charge=self.charge)
        items: Any = value
        if depth > MAX_NESTING and type(value) in (tuple, dict):
            raise Unevaluable("the value nests too deeply to evaluate", node)
        if type(value) is tuple:
            return tuple(self._format_args(v, node, depth + 1) for v in items)
        if type(value) is dict:
            return {k: self._format_args(v, node, depth + 1) for k, v in items.items()}
        if isinstance(value, Opaque):
            raise value.fail(node)
        if not is_plain(value):
            raise Unevaluable("`%` formatting of a value migcheck does not model", node)
        return value

    def _eval_UnaryOp(self, node: ast.UnaryOp, scope: Scope) -> object:
        if isinstance(node.op, ast.Not):
            return not self.truth(node.operand, scope)
        value = self.concrete(self.eval(node.operand, scope), node.operand)
        if isinstance(value, LibObject):
            return self._lib_operation(_UNARY[type(node.op)], [value], node)
        if type(value) not in (int, float, bool):
            raise Unevaluable("operation on a value migcheck does not model", node)
        try:
            return _UNARY[type(node.op)](value)
        except Exception as exc:
            raise Unevaluable(f"operation failed: {exc}", node) from None

    def _eval_BoolOp(self, node: ast.BoolOp, scope: Scope) -> object:
        value: object = None
        for operand in node.values:
            value = self.eval(operand, scope)
            truth = self.truth_value(value, operand)
            if isinstance(node.op, ast.And) != truth:
                return value
        return value

    def _compare(self, op: ast.cmpop, left: object, right: object, node: ast.AST) -> object:
        kind = type(op)
        if isinstance(left, LibObject) or isinstance(right, LibObject):
            if kind in (ast.Is, ast.IsNot):
                same = (left.real if isinstance(left, LibObject) else left) is (
                    right.real if isinstance(right, LibObject) else right
                )
                return same if kind is ast.Is else not same
            return self._lib_operation(_CMPOPS[kind], [left, right], node)
        if not (is_plain(left) and is_plain(right)) and kind not in (ast.Is, ast.IsNot):
            if kind in (ast.Eq, ast.NotEq):
                return (left is right) == (kind is ast.Eq)
            if kind in (ast.In, ast.NotIn) and is_plain(right):
                return _CMPOPS[kind](left, right)
            raise Unevaluable("comparison of values migcheck does not model", node)
        self.deep(left, node)
        self.deep(right, node)
        if type(right) is str:
            self.charge(len(right))
        try:
            return _CMPOPS[kind](left, right)
        except Exception as exc:
            raise Unevaluable(f"comparison failed: {exc}", node) from None

    def _eval_Compare(self, node: ast.Compare, scope: Scope) -> object:
        left = self.concrete(self.eval(node.left, scope), node.left)
        result: object = True
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.concrete(self.eval(comparator, scope), comparator)
            result = self._compare(op, left, right, node)
            if not isinstance(result, bool):
                return result  # a SQLAlchemy expression such as ``col == 1``
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
        out = self._elements(node.elts, scope)
        self._sized(out, node)
        return out

    def _sized(self, value: object, node: ast.AST) -> None:
        size = len(value)  # type: ignore[arg-type]
        if size > MAX_SIZE:
            raise Unevaluable("the value would be too large to evaluate", node)
        self.charge(size)

    def _eval_Tuple(self, node: ast.Tuple, scope: Scope) -> object:
        out = tuple(self._elements(node.elts, scope))
        self._sized(out, node)
        return out

    def _eval_Set(self, node: ast.Set, scope: Scope) -> object:
        elements = self._elements(node.elts, scope)
        self.deep(elements, node)
        try:
            out = set(elements)
        except TypeError as exc:
            raise Unevaluable(str(exc), node) from None
        self._sized(out, node)
        return out

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
            self.deep(k, key)
            try:
                out[k] = self.eval(value, scope)
            except TypeError as exc:
                raise Unevaluable(str(exc), key) from None
        self._sized(out, node)
        return out

    def _eval_JoinedStr(self, node: ast.JoinedStr, scope: Scope) -> object:
        parts: list[str] = []
        size = 0
        for value in node.values:
            if isinstance(value, ast.Constant):
                part = str(value.value)
            elif isinstance(value, ast.FormattedValue):
                part = self._eval_FormattedValue(value, scope)
            else:
                raise Unevaluable("unsupported f-string part", value)
            size += len(part)
            if size > MAX_SIZE:
                raise Unevaluable("the value would be too large to evaluate", node)
            parts.append(part)
        self.charge(size)
        return "".join(parts)

    def _eval_FormattedValue(self, node: ast.FormattedValue, scope: Scope) -> str:
        value = self.concrete(self.eval(node.value, scope), node.value)
        if node.conversion == ord("r") or node.conversion == ord("a"):
            value = plain_str(value, node, as_repr=True, charge=self.charge)
            if node.conversion == ord("a"):
                value = ascii(value)[1:-1]
        elif node.conversion == ord("s"):
            value = plain_str(value, node, charge=self.charge)
        spec = ""
        if node.format_spec is not None:
            spec_value = self.eval(node.format_spec, scope)
            if not isinstance(spec_value, str):
                raise Unevaluable("the format spec is not known", node)
            spec = spec_value
        return plain_format(value, spec, node, self.charge)

    def _eval_Subscript(self, node: ast.Subscript, scope: Scope) -> object:
        base = self.eval(node.value, scope)
        if isinstance(base, Opaque):
            return base.item()
        key = self.concrete(self.eval(node.slice, scope), node.slice)
        self.deep(key, node.slice)
        if isinstance(base, LibObject):
            return self._lib_operation(operator.getitem, [base, key], node)
        if not is_plain(base) or type(base) in (int, float, bool, type(None)):
            raise Unevaluable("subscript of a value migcheck does not model", node)
        if type(key) is slice:
            step = key.step
            if step is not None and not isinstance(step, int):
                raise Unevaluable("subscript failed: the step is not an integer", node)
        elif not (is_plain(key) or isinstance(key, LibObject)):
            raise Unevaluable("subscript with a value migcheck does not model", node)
        try:
            result = base[key]  # type: ignore[index]
        except Exception as exc:
            raise Unevaluable(f"subscript failed: {describe(exc)}", node) from None
        if type(result) in (str, bytes, list, tuple):
            self.charge(len(result))
        return result

    def _eval_Slice(self, node: ast.Slice, scope: Scope) -> object:
        parts = [
            self.concrete(self.eval(p, scope), p) if p is not None else None
            for p in (node.lower, node.upper, node.step)
        ]
        if any(p is not None and type(p) not in (int, bool) for p in parts):
            raise Unevaluable("slice bounds that are not integers", node)
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
                self.tick()
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
        return out  # evaluated eagerly: a list is what migcheck can iterate again

    def _eval_SetComp(self, node: ast.SetComp, scope: Scope) -> object:
        out: list[object] = []
        self._comprehension(node.generators, scope, lambda s: out.append(self.eval(node.elt, s)))
        self.deep(out, node)
        try:
            return set(out)
        except TypeError as exc:
            raise Unevaluable(str(exc), node) from None

    def _eval_DictComp(self, node: ast.DictComp, scope: Scope) -> object:
        out: dict[Any, object] = {}

        def emit(s: Scope) -> None:
            key = self.concrete(self.eval(node.key, s), node.key)
            self.deep(key, node.key)
            out[key] = self.eval(node.value, s)

        self._comprehension(node.generators, scope, emit)
        return out
