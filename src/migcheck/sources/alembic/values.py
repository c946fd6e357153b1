"""Values the static evaluator works with besides ordinary Python objects.

``Opaque`` stands for anything migcheck cannot know without running the application: a
name imported from an app module, the result of a database query, a value computed by a
call it refuses to make. It never reaches library code as itself: at a SQLAlchemy call
boundary it becomes an ``OpaqueType`` column type that renders as its name, so
``sa.Column("id", GUID())`` still renders ``id GUID``. Everywhere a concrete value is
needed (a table name, an ``if`` test) it raises ``Unevaluable`` with a reason that says
where the unknown came from.

What else a revision's values may be is described in ``world.py`` (the closed world).
"""

from __future__ import annotations

import ast
import functools
import re
from typing import Any

_UNKNOWN_PREFIX = re.compile(r"^(?:`[^`\n]{0,300}` is unknown: )+")


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
        # A value built from an unknown one in a loop would otherwise say so once per
        # iteration (``e = f(e)``): the root reason is what matters.
        reason = _UNKNOWN_PREFIX.sub("", self.reason)
        if len(reason) > 300:
            reason = reason[:297] + "..."
        return Unevaluable(f"`{self.name}` is unknown: {reason}", node)

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


# Standard-library modules a revision may import: each is migcheck's model of it
# (``pureops.std_module``), holding only what migcheck implements; the real module is
# never imported for the revision.
SAFE_STDLIB = frozenset(
    {"typing", "typing_extensions", "datetime", "uuid", "decimal", "enum", "json", "re",
     "textwrap", "string", "math", "collections", "itertools", "functools", "operator",
     "dataclasses", "__future__", "logging"}
)  # fmt: skip
