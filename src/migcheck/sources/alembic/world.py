"""The closed world a revision is evaluated in, and the membrane around SQLAlchemy.

A revision is read by interpreting its AST, never by running it, and the interpreter only
ever holds values of this closed world:

* plain data: ``None``, ``bool``, ``int``, ``float``, ``str``, ``bytes`` (exact types,
  not subclasses), and ``list``/``tuple``/``dict``/``set``/``frozenset``/``range`` of
  closed-world values;
* ``Opaque`` (an unknown value) and migcheck's handles for ``op``, the context, the
  connection and the dialect (``handles.py``, ``DialectModel``);
* ``UserFunction`` (a function of the revision, interpreted by migcheck), ``Builtin``
  (an operation migcheck implements on plain values), ``PlainMethod`` (a method of a
  plain value, from migcheck's table), ``Partial`` and ``StdModule`` (migcheck's model of
  a standard-library module: a table of such values);
* ``LibObject``: a SQLAlchemy construct (a type, column, constraint, ``sa.text``, an
  expression) or one of SQLAlchemy's public SQL-building modules, classes or functions.
  The real object is held inside and never handed to the interpreter: attribute access,
  calls, operators and iteration on it go through this module, which runs them in
  migcheck's own code and converts what comes back with ``to_closed``.

``to_closed`` admits only objects whose module is in SQLAlchemy's SQL-building part
(``sqlalchemy.sql``, ``.types``, ``.schema``, ``.inspection``, the PostgreSQL types);
anything else (a stdlib module reached through ``sa.util``, an engine, an event
registry, a Python class such as ``int``) becomes ``Opaque``. ``to_real`` converts
arguments for SQLAlchemy: plain data, constructs and SQLAlchemy classes only, never a
module or a function, so SQLAlchemy is never given something of the revision's to call.
"""

from __future__ import annotations

import ast
import re
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .values import Opaque, Unevaluable, opaque_as_type

SCALARS: frozenset[type] = frozenset({str, int, float, bool, type(None), bytes})
CONTAINERS: frozenset[type] = frozenset({list, tuple, dict, set, frozenset, range})
# Longest string or container migcheck builds or accepts back from SQLAlchemy.
MAX_SIZE = 1_000_000
# Deepest nesting of containers converted for SQLAlchemy.
MAX_NESTING = 32

# The parts of SQLAlchemy that build SQL; a module of the PostgreSQL dialect that talks to
# a driver is not one of them.
_ALLOWED_PACKAGES = (
    "sqlalchemy.sql",
    "sqlalchemy.types",
    "sqlalchemy.schema",
    "sqlalchemy.inspection",
    "sqlalchemy.dialects.postgresql",
)
_DENIED_DIALECT_PARTS = frozenset(
    {"base", "psycopg", "psycopg2", "psycopg2cffi", "asyncpg", "pg8000", "_psycopg_common",
     "provision", "pg_catalog"}
)  # fmt: skip
# Keyword arguments whose value only matters when SQLAlchemy inserts rows itself, never
# for the DDL: a function given there is replaced by an inert one rather than refused.
_PYTHON_SIDE = frozenset({"default", "onupdate"})


# Lambda statements rebuild and run Python functions; event classes install hooks.
_DENIED_MODULES = frozenset({"sqlalchemy.sql.lambdas", "sqlalchemy.sql.events"})


def allowed_module(name: str) -> bool:
    if name in ("sqlalchemy", "sqlalchemy.dialects"):
        return True
    if name in _DENIED_MODULES:
        return False
    if not any(name == p or name.startswith(p + ".") for p in _ALLOWED_PACKAGES):
        return False
    if name.startswith("sqlalchemy.dialects.postgresql."):
        return name.split(".")[3] not in _DENIED_DIALECT_PARTS
    return True


@dataclass(eq=False)
class LibObject:
    """A SQLAlchemy object seen from the revision: ``path`` is how the source reached it."""

    real: Any
    path: str
    owner: LibObject | None = None  # the object a bound method belongs to
    # The size of the SQL tree it stands for (``Membrane.apply``).
    weight: int = 1

    def __repr__(self) -> str:
        return f"LibObject({self.path!r})"


@dataclass(eq=False)
class Builtin:
    """An operation migcheck implements; ``fn(evaluator, args, kwargs, node)``."""

    name: str
    fn: Callable[[Any, list[object], dict[str, object], ast.AST], object]
    noop: bool = False  # skipped without evaluating arguments (print, logging)
    pytype: type | None = None  # the class ``isinstance(x, str)`` checks


@dataclass(eq=False)
class PlainMethod:
    """``owner.name`` for a plain value and a method in migcheck's table."""

    owner: object
    name: str


@dataclass(eq=False)
class Partial:
    """``functools.partial(func, *args, **kwargs)`` of a closed-world callable."""

    func: object
    args: list[object] = field(default_factory=list)
    kwargs: dict[str, object] = field(default_factory=dict)


@dataclass(eq=False)
class StdModule:
    """migcheck's model of a standard-library module: what it defines is ``members``."""

    name: str
    members: dict[str, object] = field(default_factory=dict)
    # Why an attribute not in ``members`` is unknown.
    missing: str = ""


@dataclass(eq=False)
class DialectModel:
    """``op.get_bind().dialect``: the target is PostgreSQL; nothing else is known."""

    name: str = "postgresql"


# ``MySQLDialect``, ``SQLiteDialect``, ``PGDialect_psycopg2``: a dialect class by its name.
DIALECT_CLASS = re.compile(r"[A-Za-z]*Dialect(?:_\w+)?")


@dataclass(frozen=True)
class DialectClass:
    """A SQLAlchemy dialect class imported from ``sqlalchemy.dialects.<dialect>``, known
    only by its dialect: ``isinstance(bind.dialect, MySQLDialect)`` guards a branch that
    never runs on PostgreSQL, and migcheck decides it without importing that dialect."""

    dialect: str


def dialect_class(module: str, name: str) -> DialectClass | None:
    """The dialect class ``from <module> import <name>`` names, or None."""
    parts = module.split(".")
    if (
        len(parts) >= 3
        and parts[:2] == ["sqlalchemy", "dialects"]
        and DIALECT_CLASS.fullmatch(name)
    ):
        return DialectClass(parts[2])
    return None


def check_unfolded(value: object, node: ast.AST | None = None, cap: int = MAX_SIZE) -> int:
    """The number of items in ``value`` counted as a tree, refusing more than ``cap``.

    Lists may share or contain each other (``a = [a, a]`` sixty times), so comparing,
    hashing, printing or copying one can take exponential time; everything that walks a
    value deeply checks this first, at a cost bounded by ``cap``.
    """
    count = 0
    stack = [value]
    while stack:
        item: Any = stack.pop()
        count += 1
        if count > cap:
            raise Unevaluable("the value is too large to evaluate", node)
        kind = type(item)
        if kind in (list, tuple, set, frozenset):
            stack.extend(item)
        elif kind is dict:
            stack.extend(item.keys())
            stack.extend(item.values())
    return count


def _python_side_default() -> None:
    """Stands in for a Python-side ``default=``/``onupdate=`` callable (not DDL)."""
    return None


def _is_function(real: object) -> bool:
    return isinstance(
        real,
        (
            types.FunctionType,
            types.BuiltinFunctionType,
            types.MethodType,
            types.BuiltinMethodType,
            types.MethodWrapperType,
            types.WrapperDescriptorType,
            types.MethodDescriptorType,
            types.ClassMethodDescriptorType,
        ),
    )


def _admitted(real: object, from_module: bool) -> bool:
    """Whether a real object may be wrapped as a ``LibObject``.

    A plain function is admitted only as a public name of an admitted module (``sa.text``,
    ``sa.and_``): a function SQLAlchemy returns or keeps in an attribute (a result
    processor that unpickles its argument) is not a SQL-building entry point.
    """
    if isinstance(real, types.ModuleType):
        return allowed_module(real.__name__)
    if isinstance(real, type):
        return allowed_module(getattr(real, "__module__", "") or "")
    if isinstance(real, types.MethodType):
        owner = real.__self__
        return _admitted(owner, False) and allowed_module(
            getattr(real.__func__, "__module__", "") or ""
        )
    if _is_function(real):
        return from_module and allowed_module(getattr(real, "__module__", "") or "")
    return allowed_module(type(real).__module__)


def to_closed(
    real: object,
    path: str,
    owner: LibObject | None = None,
    depth: int = 0,
    from_module: bool = False,
) -> object:
    """A value SQLAlchemy returned, as a closed-world value (``Opaque`` if outside it);
    ``from_module`` when ``real`` is a public name of a module (an import, ``sa.text``)."""
    kind = type(real)
    if kind in SCALARS:
        if kind in (str, bytes) and len(real) > MAX_SIZE:  # type: ignore[arg-type]
            return Opaque(path, "the value is too large to evaluate")
        return real
    if kind in (list, tuple, set, frozenset, dict):
        if depth > MAX_NESTING or len(real) > MAX_SIZE:  # type: ignore[arg-type]
            return Opaque(path, "the value is too large to evaluate")
        if kind is dict:
            out: dict[object, object] = {}
            for key, value in real.items():  # type: ignore[attr-defined]
                if type(key) not in SCALARS:
                    return Opaque(path, "a mapping with keys migcheck does not model")
                out[key] = to_closed(value, f"{path}[...]", None, depth + 1)
            return out
        items = [to_closed(v, f"{path}[...]", None, depth + 1) for v in real]  # type: ignore[attr-defined]
        maker: Any = kind
        try:
            return maker(items)
        except TypeError:
            return Opaque(path, "a collection migcheck does not model")
    if _admitted(real, from_module):
        return LibObject(real, path, owner)
    return Opaque(path, "it is outside the part of SQLAlchemy migcheck models")


def describe(exc: BaseException) -> str:
    """An exception raised by library code, short enough for a one-line note."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 200 else text[:197] + "..."


def weight(value: object) -> int:
    """How big the SQLAlchemy constructs inside a closed-world value are (see LibObject)."""
    total = 0
    seen = 0
    stack = [value]
    while stack:
        item: Any = stack.pop()
        seen += 1
        if seen > MAX_SIZE:
            raise Unevaluable("the value is too large to evaluate")
        if isinstance(item, LibObject):
            total += item.weight
        elif type(item) in (list, tuple, set, frozenset):
            stack.extend(item)
        elif type(item) is dict:
            stack.extend(item.values())
    return total


class Membrane:
    """Runs operations on ``LibObject`` values in migcheck's code and converts both ways.

    ``conversions`` collects the stand-ins turned into column types by ``to_real`` (the
    evaluator notes them once the call succeeded); ``dialect`` is what ``DialectModel``
    becomes for SQLAlchemy (the recorder's PostgreSQL dialect); ``charge`` counts the
    work of each operation against the evaluation's budget.
    """

    def __init__(
        self,
        conversions: list[Opaque],
        dialect: Callable[[], object],
        charge: Callable[[int], None],
    ) -> None:
        self.conversions = conversions
        self._dialect = dialect
        self._charge = charge

    def to_real(self, value: object, key: str | None = None) -> object:
        """``value`` as SQLAlchemy may receive it: plain data, constructs, classes."""
        self._charge(check_unfolded(value))
        return self._to_real(value, key, 0)

    def _to_real(self, value: object, key: str | None, depth: int) -> object:
        kind = type(value)
        if kind in SCALARS:
            return value
        if depth > MAX_NESTING:
            raise Unevaluable("the value nests too deeply to evaluate")
        if kind in (list, tuple, set, frozenset):
            maker: Any = kind
            return maker(self._to_real(v, key, depth + 1) for v in value)  # type: ignore[attr-defined]
        if kind is dict:
            return {k: self._to_real(v, None, depth + 1) for k, v in value.items()}  # type: ignore[attr-defined]
        if kind is range:
            return value
        if isinstance(value, LibObject):
            real = value.real
            if isinstance(real, types.ModuleType) or _is_function(real):
                if key in _PYTHON_SIDE:
                    return _python_side_default
                raise Unevaluable(
                    f"`{value.path}` is a function; migcheck passes none to SQLAlchemy"
                )
            return real
        if isinstance(value, Opaque):
            if key is None or key in ("type_", "existing_type"):
                self.conversions.append(value)
                return opaque_as_type(value)
            if key in _PYTHON_SIDE:
                return _python_side_default
            raise value.fail()
        if isinstance(value, DialectModel):
            return self._dialect()
        if key in _PYTHON_SIDE:
            return _python_side_default
        raise Unevaluable(f"a {type(value).__name__} value is not passed to SQLAlchemy")

    def args_to_real(
        self, args: list[object], kwargs: dict[str, object]
    ) -> tuple[list[object], dict[str, object]]:
        self._charge(check_unfolded([args, kwargs]))
        return (
            [self._to_real(a, None, 0) for a in args],
            {k: self._to_real(v, k, 0) for k, v in kwargs.items()},
        )

    def getattr(self, base: LibObject, attr: str, node: ast.AST) -> object:
        path = f"{base.path}.{attr}"
        if attr.startswith("_"):
            raise Unevaluable(f"attribute `{attr}` is not evaluated", node)
        self._charge(1)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                real = getattr(base.real, attr)
        except Exception as exc:
            raise Unevaluable(f"`{path}` failed: {describe(exc)}", node) from None
        result = to_closed(
            real, path, owner=base, from_module=isinstance(base.real, types.ModuleType)
        )
        _set_weight(result, base.weight)
        return result

    def call(
        self, func: LibObject, args: list[object], kwargs: dict[str, object], node: ast.AST
    ) -> object:
        real_args, real_kwargs = self.args_to_real(args, kwargs)
        return self.apply(
            func.path + "(...)",
            lambda: func.real(*real_args, **real_kwargs),
            node,
            func.path,
            [func, args, kwargs],
        )

    def apply(
        self,
        path: str,
        thunk: Callable[[], object],
        node: ast.AST,
        label: str = "",
        inputs: object = None,
    ) -> object:
        """Run ``thunk`` (SQLAlchemy code on real objects built from ``inputs``) and
        convert its result.

        A construct's weight is the size of the tree it stands for: ``e = sa.and_(e, e)``
        doubles it, and compiling or comparing it costs that much, so a construct heavier
        than ``MAX_SIZE`` is refused and every operation is charged its weight.
        """
        cost = 1 + weight(inputs)
        if cost > MAX_SIZE:
            raise Unevaluable("the SQLAlchemy construct would be too large to evaluate", node)
        self._charge(cost)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = thunk()
        except Unevaluable:
            raise
        except Exception as exc:  # RecursionError included: a deeply nested expression
            what = f"`{label}(...)`" if label else "the operation"
            raise Unevaluable(f"{what} failed: {describe(exc)}", node) from None
        closed = to_closed(result, path)
        _set_weight(closed, cost)
        return closed


def _set_weight(value: object, cost: int, depth: int = 0) -> None:
    items: Any = value
    if isinstance(value, LibObject):
        value.weight = max(value.weight, cost)
    elif depth < MAX_NESTING and type(value) in (list, tuple, set, frozenset):
        for item in items:
            _set_weight(item, cost, depth + 1)
    elif depth < MAX_NESTING and type(value) is dict:
        for item in items.values():
            _set_weight(item, cost, depth + 1)
