"""Values the static evaluator works with besides ordinary Python objects.

``Opaque`` stands for anything migcheck cannot know without running the application: a
name imported from an app module, the result of a database query, a value computed by a
call it refuses to make. It never reaches library code as itself: at a SQLAlchemy call
boundary it becomes an ``OpaqueType`` column type that renders as its name, so
``sa.Column("id", GUID())`` still renders ``id GUID``. Everywhere a concrete value is
needed (a table name, an ``if`` test) it raises ``Unevaluable`` with a reason that says
where the unknown came from.

``callable_refusal`` is the policy that keeps evaluation free of side effects. Functions
migcheck defines as stand-ins (``context.is_offline_mode``, the ``logging`` module) are
marked ``pure`` (safe to call) or ``noop`` (safe to skip, arguments unevaluated: a log
line's arguments often name values migcheck cannot know).
"""

from __future__ import annotations

import ast
import builtins
import functools
import types
from collections.abc import Callable
from typing import Any, TypeVar


class Unevaluable(Exception):
    """Evaluation of an expression needs something migcheck cannot know statically."""

    def __init__(self, reason: str, node: ast.AST | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.node = node


class Opaque:
    """An unknown value; ``name`` is how the source wrote it, ``reason`` why it is unknown."""

    __slots__ = ("name", "reason", "type_name")

    def __init__(self, name: str, reason: str, type_name: str | None = None) -> None:
        self.name = name
        self.reason = reason
        # The name a column type built from this value renders as (as written).
        self.type_name = type_name or name.rsplit(".", 1)[-1].rstrip("()") or "unknown"

    def child(self, attr: str) -> Opaque:
        return Opaque(f"{self.name}.{attr}", self.reason, type_name=attr)

    def called(self) -> Opaque:
        return Opaque(f"{self.name}()", self.reason, type_name=self.type_name)

    def item(self) -> Opaque:
        return Opaque(f"{self.name}[...]", self.reason, type_name=self.type_name)

    def fail(self, node: ast.AST | None = None) -> Unevaluable:
        return Unevaluable(f"`{self.name}` is unknown: {self.reason}", node)

    def __repr__(self) -> str:
        return f"Opaque({self.name!r})"


@functools.cache
def opaque_type_class() -> type[Any]:
    """A SQLAlchemy column type that renders as a stand-in's name (created lazily so
    SQLAlchemy is imported only when an Alembic project is rendered)."""
    from sqlalchemy.types import UserDefinedType

    class OpaqueType(UserDefinedType):
        cache_ok = True

        def __init__(self, type_name: str = "unknown", origin: str = "") -> None:
            self.type_name = type_name
            self.origin = origin

        def get_col_spec(self, **kw: Any) -> str:
            return self.type_name

        def literal_processor(self, dialect: Any) -> Any:
            # ``sa.column("key", AppText)`` compared with a literal in a data migration:
            # render the value the way SQLAlchemy renders it for its own types.
            def process(value: object) -> str:
                if isinstance(value, bool) or value is None:
                    return {True: "true", False: "false", None: "NULL"}[value]
                if isinstance(value, (int, float)):
                    return repr(value)
                return "'" + str(value).replace("'", "''") + "'"

            return process

    return OpaqueType


def opaque_as_type(value: Opaque) -> Any:
    return opaque_type_class()(value.type_name, value.name)


def find_opaque(value: object, depth: int = 0) -> Opaque | None:
    """The first ``Opaque`` inside plain containers (lists, tuples, dict values)."""
    if isinstance(value, Opaque):
        return value
    if depth > 4:
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        items: Any = value
    elif isinstance(value, dict):
        items = value.values()
    else:
        return None
    for item in items:
        found = find_opaque(item, depth + 1)
        if found is not None:
            return found
    return None


_PURE = "_migcheck_pure"
_NOOP = "_migcheck_noop"

F = TypeVar("F", bound=Callable[..., Any])


def pure(fn: F) -> F:
    """Mark a stand-in function as safe to call during static evaluation."""
    setattr(fn, _PURE, True)
    return fn


def noop(fn: F) -> F:
    """Mark a stand-in whose calls are skipped without evaluating their arguments."""
    setattr(fn, _NOOP, True)
    return pure(fn)


def is_noop(fn: object) -> bool:
    # ``is True``: SQLAlchemy's ``func`` answers every attribute with a new object.
    return getattr(fn, _NOOP, False) is True


# Builtins a revision may call: pure functions and constructors of plain data.
@noop
def _noop_print(*args: object, **kwargs: object) -> None:
    """``print`` in a revision prints nothing while migcheck reads it."""


SAFE_BUILTINS: dict[str, object] = {
    name: getattr(builtins, name)
    for name in (
        "abs", "all", "any", "bool", "dict", "enumerate", "filter", "float", "format",
        "frozenset", "int", "isinstance", "issubclass", "len", "list", "map", "max", "min",
        "range", "repr", "reversed", "round", "set", "sorted", "str", "sum", "tuple", "zip",
        "ValueError", "TypeError", "KeyError", "RuntimeError", "NotImplementedError",
        "Exception",
    )
}  # fmt: skip
SAFE_BUILTINS["print"] = _noop_print


def _bounded_range(*args: int) -> range:
    """``range`` that refuses sizes no migration needs (``list(range(10**12))``)."""
    result = range(*args)
    if len(result) > 1_000_000:
        raise ValueError("range too large to evaluate")
    return result


SAFE_BUILTINS["range"] = _bounded_range

_SAFE_BUILTIN_IDS = frozenset(id(v) for v in SAFE_BUILTINS.values())
_PLAIN_TYPES = (str, bytes, int, float, bool, list, tuple, dict, set, frozenset, range)

# Standard-library modules whose functions have no side effects worth worrying about.
SAFE_STDLIB = frozenset(
    {"typing", "typing_extensions", "datetime", "uuid", "decimal", "enum", "json", "re",
     "textwrap", "string", "math", "collections", "itertools", "functools", "operator",
     "dataclasses", "__future__"}
)  # fmt: skip
# Library callables that touch the world (engines, event hooks) rather than build SQL.
_DENIED_SQLALCHEMY = frozenset(
    {"create_engine", "engine_from_config", "create_mock_engine", "create_pool_from_url",
     "create_async_engine", "async_engine_from_config", "listen", "listens_for"}
)  # fmt: skip
_DENIED_MODULE_PREFIXES = ("sqlalchemy.event", "sqlalchemy.pool", "sqlalchemy.engine.create")


def _owner_module(fn: object) -> str:
    module = getattr(fn, "__module__", None)
    if isinstance(module, str) and module:
        return module
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, types.ModuleType):
        return owner.__name__
    if isinstance(owner, type):
        return owner.__module__
    if owner is not None:
        return type(owner).__module__
    return type(fn).__module__


def callable_refusal(fn: object) -> str | None:
    """Why ``fn`` must not be called during static evaluation, or None if it may be."""
    if id(fn) in _SAFE_BUILTIN_IDS or getattr(fn, _PURE, False) is True:
        return None
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, _PLAIN_TYPES) and not isinstance(owner, type):
        name = getattr(fn, "__name__", "")
        if name in ("format", "format_map") and isinstance(owner, str) and "__" in owner:
            return "format strings that reach into attributes are not evaluated"
        return None
    module = _owner_module(fn)
    name = getattr(fn, "__name__", "") or type(fn).__name__
    if module.startswith("sqlalchemy"):
        if name in _DENIED_SQLALCHEMY or module.startswith(_DENIED_MODULE_PREFIXES):
            return f"`{name}` would connect to a database or install hooks"
        return None
    if module.split(".", 1)[0] in SAFE_STDLIB:
        return None
    label = f"{module}.{name}" if module else name
    return f"calls `{label}`, which migcheck does not evaluate"


class NullLogger:
    """What ``logging.getLogger(...)`` gives a revision: every call does nothing."""

    @noop
    def _log(self, *args: object, **kwargs: object) -> None:
        return None

    debug = info = warning = warn = error = exception = critical = fatal = log = _log
    setLevel = addHandler = removeHandler = addFilter = _log

    @pure
    def isEnabledFor(self, level: object) -> bool:
        return False


class NullLogging:
    """Stands in for the ``logging`` module: a revision's log lines change no SQL, and
    evaluating them is not worth a note (their arguments are often query results)."""

    DEBUG, INFO, WARNING, ERROR, CRITICAL = 10, 20, 30, 40, 50
    WARN, FATAL, NOTSET = WARNING, CRITICAL, 0

    def __init__(self) -> None:
        self._logger = NullLogger()

    @pure
    def getLogger(self, name: object = None) -> NullLogger:
        return self._logger

    @noop
    def _log(self, *args: object, **kwargs: object) -> None:
        return None

    debug = info = warning = warn = error = exception = critical = log = basicConfig = _log

    def __getattr__(self, name: str) -> Opaque:
        return Opaque(f"logging.{name}", "only getLogger and the logging calls are modelled")
