"""Stand-ins for Alembic's objects while a revision is read statically.

``op``, ``batch_op``, ``op.get_context()`` and ``op.get_bind()`` are not the real
objects: attribute access on them yields ``BoundOp`` markers that the evaluator turns
into recorded calls with the call's source position, which a real ``Operations`` could
not give us. ``op.get_bind().engine`` is an ``EngineHandle``: revisions branch on
``engine.name`` and ``str(engine.url)`` as often as on ``dialect.name``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .recorder import BatchSpec


@dataclass
class OpHandle:
    """``op`` (or ``batch_op`` when ``batch`` is set)."""

    batch: BatchSpec | None = None


@dataclass
class ContextHandle:
    """``op.get_context()``: the migration context."""


@dataclass
class ConnectionHandle:
    """``op.get_bind()``: a connection that offline rendering does not have."""


@dataclass
class EngineHandle:
    """``op.get_bind().engine``: only what the deploy target fixes is known (its
    dialect, name and URL scheme are PostgreSQL's)."""


@dataclass
class AlembicModule:
    """``import alembic`` / ``from alembic import context``: exposes ``op``-like entries."""

    name: str = "alembic"


@dataclass
class BoundOp:
    """A method looked up on one of the handles, not yet called."""

    handle: OpHandle | ContextHandle | ConnectionHandle | AlembicModule
    name: str


@dataclass
class AutocommitBlock:
    """The value of ``op.get_context().autocommit_block()``."""


@dataclass(eq=False)
class Scope:
    """A function's local names, chained to the scope it was defined in."""

    names: dict[str, object] = field(default_factory=dict)
    parent: Scope | None = None


@dataclass(eq=False)
class UserFunction:
    """A function or lambda defined in the revision file; called by interpretation."""

    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    scope: Scope
    name: str
    defaults: list[object] = field(default_factory=list)
    kw_defaults: dict[str, object] = field(default_factory=dict)
